/* stackwatch.c - see stackwatch.h. */
#include "memtide/stackwatch.h"

#include "memtide/charge.h"
#include "memtide/procfs.h"
#include "memtide/pystack.h"
#include "memtide/stackstore.h"
#include "memtide/stacktab.h"
#include "memtide/store.h"
#include "memtide/ticker.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The pseudo-frame of a sample with no Python frame running (start-up,
 * finalization, a thread outside Python): memory grown then is shown, not
 * lost. */
#define NO_FRAME "(no Python frame)"

enum sw_state { SW_READING, SW_ENDED, SW_UNREADABLE };

struct sw_proc {
	int pid;
	int64_t proc;
	enum sw_state state;
	struct pystack *r;
	int statm_fd;
	struct charger ch;
	char text[160];   /* proc.stacks */
	int text_dirty;
	int64_t last_t_ns; /* CLOCK_MONOTONIC of the last good sample, 0: none */
	int64_t peak_rss; /* bytes, at the stack samples */
	uint32_t peak_stack;
	int peak_dirty;
	/* The last sample's frames as the reader gave them (its strings stay
	 * put until it is closed): a program that stays in one place is not
	 * hashed again every 2 ms. */
	struct pystack_frame *last;
	int nlast;
	uint32_t last_stack, last_site;
};

/* What one drain takes out of a process under the lock, to write after. */
struct sw_batch {
	int64_t proc; /* proc.id */
	struct charge_row *row;
	size_t nrow;
	char text[160]; /* "" when unchanged */
	uint32_t peak_stack; /* 0 when unchanged */
};

/* Two locks: mu guards the processes and their charges (the sampler holds
 * it for a sweep, callers for a moment); tab_mu guards the stack table,
 * held by the sampler to intern and by a drain to give new stacks their
 * ids.  A drain writes to SQLite holding neither but, for a stack first
 * seen, tab_mu: memtided's main thread adding or ending a process never
 * waits for the database. */
struct stackwatch {
	pthread_t th;
	pthread_mutex_t mu, tab_mu;
	pthread_cond_t work; /* a process to read was added, or stop */
	int started, stop;
	int64_t t0_ns, interval_ns, start_ns;
	int64_t tick_step; /* ticks summed into one charge row */
	int64_t base_period_ns, period_ns; /* asked; now (see next_period) */
	int64_t cpu_then_ns; /* the thread's CPU clock at the last adjust_period() */
	clockid_t cpu_clock;
	struct sw_proc **p;
	size_t n, cap;
	struct stacktab *tab;
	uint32_t unsampled_stack; /* STACKWATCH_NOT_SAMPLED's stack in tab */
	struct stackstore *ss;
	struct store *ss_of;
	struct pystack_frame frames[STACKWATCH_MAX_DEPTH];
	const char *fn[STACKWATCH_MAX_DEPTH], *file[STACKWATCH_MAX_DEPTH];
	int line[STACKWATCH_MAX_DEPTH];
	struct stackwatch_stats st;
};

/* statm's second field, bytes. */
static int read_rss(int fd, int64_t *bytes)
{
	char buf[128];
	ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
	int64_t pages;

	if (n <= 0)
		return -ESRCH;
	buf[n] = 0;
	if (procfs_parse_statm(buf, (size_t)n, &pages) || pages == 0)
		return -ESRCH; /* a zombie's statm is all zeros */
	*bytes = pages * procfs_page_size();
	return 0;
}

/* The tick whose sample closes an interval ending at t, rounded up to the
 * tick step. */
static int64_t tick_at(const struct stackwatch *w, int64_t t)
{
	int64_t k;

	if (t <= w->t0_ns)
		return 0;
	k = (t - w->t0_ns + w->interval_ns - 1) / w->interval_ns;
	return (k + w->tick_step - 1) / w->tick_step * w->tick_step;
}

void stackwatch_set_tick_step(struct stackwatch *w, int64_t step)
{
	pthread_mutex_lock(&w->mu);
	w->tick_step = step > 0 ? step : 1;
	pthread_mutex_unlock(&w->mu);
}

static void end_proc(struct sw_proc *p)
{
	charger_finish(&p->ch);
	if (p->r)
		pystack_close(p->r);
	p->r = NULL;
	if (p->statm_fd >= 0)
		close(p->statm_fd);
	p->statm_fd = -1;
	if (p->state == SW_READING)
		p->state = SW_ENDED;
}

/* The stack of the n frames read (interned), and in *site the same stack
 * with the innermost line left out (charge.h). */
static uint32_t stack_of(struct stackwatch *w, int n, uint32_t *site)
{
	uint32_t id = 0;
	int line0;

	if (n == 0) {
		w->fn[0] = NO_FRAME;
		w->file[0] = "";
		w->line[0] = 0;
		n = 1;
	} else {
		for (int i = 0; i < n; i++) {
			w->fn[i] = w->frames[i].function;
			w->file[i] = w->frames[i].file;
			w->line[i] = w->frames[i].line;
		}
	}
	if (n > w->st.max_depth)
		w->st.max_depth = n;
	pthread_mutex_lock(&w->tab_mu);
	stacktab_intern(w->tab, w->fn, w->file, w->line, n, &id);
	line0 = w->line[0];
	w->line[0] = -1;
	if (stacktab_intern(w->tab, w->fn, w->file, w->line, n, site))
		*site = id;
	w->line[0] = line0;
	pthread_mutex_unlock(&w->tab_mu);
	return id;
}

/* 1 when the frames read are the last sample's, pointer for pointer. */
static int same_as_last(const struct sw_proc *p, const struct pystack_frame *f, int n)
{
	if (!p->last || n != p->nlast || !p->last_stack)
		return 0;
	for (int i = 0; i < n; i++)
		if (f[i].function != p->last[i].function || f[i].file != p->last[i].file ||
		    f[i].line != p->last[i].line)
			return 0;
	return 1;
}

static void remember(struct sw_proc *p, const struct pystack_frame *f, int n,
		     uint32_t stack, uint32_t site)
{
	if (!p->last && !(p->last = malloc(STACKWATCH_MAX_DEPTH * sizeof *p->last)))
		return;
	memcpy(p->last, f, (size_t)n * sizeof *f);
	p->nlast = n;
	p->last_stack = stack;
	p->last_site = site;
}

/* 1 when an interval of gap_ns between two samples of a process is late
 * (stackwatch.h): a call may lie in it unseen (charger_late()). */
static int is_late(const struct stackwatch *w, int64_t gap_ns)
{
	int64_t late_ns = 2 * w->period_ns;

	return gap_ns > (late_ns > STACKWATCH_LATE_NS ? late_ns : STACKWATCH_LATE_NS);
}

static void sample_one(struct stackwatch *w, struct sw_proc *p)
{
	int n = pystack_sample(p->r, w->frames, STACKWATCH_MAX_DEPTH, NULL);
	int64_t rss, t;
	uint32_t stack, site = 0;

	/* The RSS right after the stack: the change since the last sample
	 * is charged to that stack and the one before. */
	if (read_rss(p->statm_fd, &rss) < 0 || n == -ESRCH) {
		end_proc(p);
		return;
	}
	if (n < 0) {
		w->st.failed++;
		return; /* the change waits for the next good sample */
	}
	t = ticker_now_mono();
	if (same_as_last(p, w->frames, n)) {
		stack = p->last_stack;
		site = p->last_site;
	} else if ((stack = stack_of(w, n, &site))) {
		remember(p, w->frames, n, stack, site);
	} else {
		w->st.failed++;
		return;
	}
	w->st.samples++;
	if (p->last_t_ns && is_late(w, t - p->last_t_ns)) {
		w->st.late++;
		charger_late(&p->ch);
	}
	p->last_t_ns = t;
	charger_sample(&p->ch, tick_at(w, t), rss, stack, site);
	if (rss > p->peak_rss) {
		p->peak_rss = rss;
		p->peak_stack = stack;
		p->peak_dirty = 1;
	}
}

static int64_t thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* The thread's CPU clock is a system call (no vDSO for it), as dear as
 * reading one stack: it is read once every this many sweeps. */
#define SWEEPS_PER_CPU_READ 16

/* The grid step, given what the thread cost per sweep over the last
 * SWEEPS_PER_CPU_READ sweeps (wake-ups included): the base period, or
 * longer when that would take more than STACKWATCH_CPU_BUDGET of a core
 * (memtided with stacks = yes on many processes): fewer samples, never a
 * busy core. */
static int64_t next_period(const struct stackwatch *w, int64_t sweep_ns)
{
	int64_t want = (int64_t)((double)sweep_ns / STACKWATCH_CPU_BUDGET);

	if (want < w->base_period_ns)
		want = w->base_period_ns;
	if (want > STACKWATCH_MAX_PERIOD_NS)
		want = STACKWATCH_MAX_PERIOD_NS;
	return want;
}

/* Once every SWEEPS_PER_CPU_READ sweeps, the grid step from what they
 * cost. */
static void adjust_period(struct stackwatch *w)
{
	int64_t cpu;

	if (w->st.sweeps % SWEEPS_PER_CPU_READ)
		return;
	cpu = thread_cpu_ns();
	if (w->cpu_then_ns)
		w->period_ns = next_period(w, (cpu - w->cpu_then_ns) / SWEEPS_PER_CPU_READ);
	w->cpu_then_ns = cpu;
	w->st.period_ns = w->period_ns;
}

/* 1 when a process is being read (the caller holds mu). */
static int any_reading(const struct stackwatch *w)
{
	for (size_t i = 0; i < w->n; i++)
		if (w->p[i]->state == SW_READING)
			return 1;
	return 0;
}

/* Waits, holding mu, while there is nothing to read: a recording of a
 * program that is not Python, or not yet, and memtided with no process
 * under a stacks rule, cost no wake-ups.  Returns 1 when it waited. */
static int wait_for_work(struct stackwatch *w)
{
	int waited = 0;

	while (!w->stop && !any_reading(w)) {
		pthread_cond_wait(&w->work, &w->mu);
		waited = 1;
	}
	return waited;
}

static void *loop(void *arg)
{
	struct stackwatch *w = arg;
	int64_t next = ticker_now_mono();

	for (;;) {
		struct timespec ts;
		int64_t t;

		pthread_mutex_lock(&w->mu);
		if (wait_for_work(w))
			next = ticker_now_mono(); /* a grid from now: no point was missed */
		if (w->stop) {
			pthread_mutex_unlock(&w->mu);
			break;
		}
		w->st.sweeps++;
		for (size_t i = 0; i < w->n; i++)
			if (w->p[i]->state == SW_READING)
				sample_one(w, w->p[i]);
		adjust_period(w);
		pthread_mutex_unlock(&w->mu);
		next += w->period_ns;
		t = ticker_now_mono();
		if (t > next) {
			/* Late (a busy machine): the next grid point from now,
			 * not a burst of catch-up samples. */
			int64_t k = (t - next) / w->period_ns + 1;

			w->st.missed += k;
			next += k * w->period_ns;
		}
		ts.tv_sec = next / 1000000000LL;
		ts.tv_nsec = next % 1000000000LL;
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
			;
	}
	return NULL;
}

/* The one-frame stack STACKWATCH_NOT_SAMPLED, interned once for every
 * process. */
static int intern_unsampled(struct stackwatch *w)
{
	const char *fn = STACKWATCH_NOT_SAMPLED, *file = "";
	int line = 0;

	return stacktab_intern(w->tab, &fn, &file, &line, 1, &w->unsampled_stack);
}

int stackwatch_new(int64_t t0_ns, int64_t interval_ns, int64_t period_ns,
		   struct stackwatch **out)
{
	struct stackwatch *w = calloc(1, sizeof *w);
	int err;

	if (!w)
		return -ENOMEM;
	w->t0_ns = t0_ns;
	w->interval_ns = interval_ns > 0 ? interval_ns : 100000000LL;
	w->tick_step = 1;
	w->period_ns = period_ns > 0 ? period_ns : STACKWATCH_PERIOD_NS;
	w->base_period_ns = w->period_ns;
	w->st.period_ns = w->period_ns;
	w->cpu_clock = (clockid_t)-1;
	pthread_mutex_init(&w->mu, NULL);
	pthread_mutex_init(&w->tab_mu, NULL);
	pthread_cond_init(&w->work, NULL);
	if ((err = stacktab_new(&w->tab)) || (err = intern_unsampled(w))) {
		stacktab_free(w->tab);
		free(w);
		return err;
	}
	w->start_ns = ticker_now_mono();
	if ((err = pthread_create(&w->th, NULL, loop, w))) {
		stacktab_free(w->tab);
		free(w);
		return -err;
	}
	w->started = 1;
	if (pthread_getcpuclockid(w->th, &w->cpu_clock))
		w->cpu_clock = (clockid_t)-1;
	*out = w;
	return 0;
}

void stackwatch_stop(struct stackwatch *w)
{
	if (!w || !w->started)
		return;
	/* The thread's CPU clock dies with it: read it last now. */
	stackwatch_stats(w, &w->st);
	pthread_mutex_lock(&w->mu);
	w->stop = 1;
	pthread_cond_signal(&w->work);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->th, NULL);
	w->started = 0;
	for (size_t i = 0; i < w->n; i++)
		if (w->p[i]->state == SW_READING)
			end_proc(w->p[i]);
}

static void free_proc(struct sw_proc *p)
{
	end_proc(p);
	charger_free(&p->ch);
	free(p->last);
	free(p);
}

void stackwatch_free(struct stackwatch *w)
{
	if (!w)
		return;
	stackwatch_stop(w);
	for (size_t i = 0; i < w->n; i++)
		free_proc(w->p[i]);
	free(w->p);
	stacktab_free(w->tab);
	stackstore_close(w->ss);
	pthread_mutex_destroy(&w->mu);
	pthread_mutex_destroy(&w->tab_mu);
	pthread_cond_destroy(&w->work);
	free(w);
}

static struct sw_proc *find(struct stackwatch *w, int64_t proc)
{
	for (size_t i = 0; i < w->n; i++)
		if (w->p[i]->proc == proc)
			return w->p[i];
	return NULL;
}

int stackwatch_settled(double started)
{
	return ticker_now_real_s() - started >= 0.3;
}

int stackwatch_add(struct stackwatch *w, int pid, int64_t proc, int final,
		   char *text, size_t len)
{
	struct sw_proc *p = calloc(1, sizeof *p);
	struct pystack *r = NULL;
	char path[64];
	int err;

	if (!p)
		return -ENOMEM;
	p->pid = pid;
	p->proc = proc;
	p->statm_fd = -1;
	p->ch.unsampled_stack = w->unsampled_stack;
	/* Opening reads ELF symbols and maps (milliseconds): outside the
	 * lock, so the sweeps go on meanwhile. */
	err = pystack_open(pid, &r, p->text, sizeof p->text);
	if (err == 0) {
		snprintf(path, sizeof path, "/proc/%d/statm", pid);
		p->statm_fd = open(path, O_RDONLY | O_CLOEXEC);
		if (p->statm_fd < 0) {
			err = -ESRCH;
			snprintf(p->text, sizeof p->text, "the process ended");
			pystack_close(r);
			r = NULL;
		} else {
			snprintf(p->text, sizeof p->text, "%s", pystack_version(r));
		}
	}
	p->r = r;
	p->state = err ? SW_UNREADABLE : SW_READING;
	p->text_dirty = 1;
	if (text && len)
		snprintf(text, len, "%s", p->text);
	if (err && !final) {
		free_proc(p);
		return err;
	}
	pthread_mutex_lock(&w->mu);
	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 8;
		struct sw_proc **v = realloc(w->p, cap * sizeof *v);

		if (!v) {
			pthread_mutex_unlock(&w->mu);
			free_proc(p);
			return -ENOMEM;
		}
		w->p = v;
		w->cap = cap;
	}
	w->p[w->n++] = p;
	if (p->state == SW_READING)
		pthread_cond_signal(&w->work);
	pthread_mutex_unlock(&w->mu);
	return err;
}

int stackwatch_has(struct stackwatch *w, int64_t proc)
{
	int has;

	pthread_mutex_lock(&w->mu);
	has = find(w, proc) != NULL;
	pthread_mutex_unlock(&w->mu);
	return has;
}

void stackwatch_end(struct stackwatch *w, int64_t proc)
{
	struct sw_proc *p;

	pthread_mutex_lock(&w->mu);
	if ((p = find(w, proc)) && p->state == SW_READING)
		end_proc(p);
	pthread_mutex_unlock(&w->mu);
}

/* stack.id of node id, storing its callers and frames first. */
static int store_stack(struct stackwatch *w, uint32_t id, int64_t *out)
{
	struct stacktab_node *n = stacktab_node(w->tab, id);
	struct stacktab_frame *f;
	int64_t parent = 0;
	int err;

	if (!n)
		return -EINVAL;
	if (n->db_id) {
		*out = n->db_id;
		return 0;
	}
	if (n->parent && (err = store_stack(w, n->parent, &parent)))
		return err;
	n = stacktab_node(w->tab, id);
	f = stacktab_frame(w->tab, n->frame);
	if (!f->db_id &&
	    (err = stackstore_frame(w->ss, f->function, f->file, f->line, &f->db_id)))
		return err;
	if ((err = stackstore_stack(w->ss, parent, f->db_id, n->depth, &n->db_id)))
		return err;
	*out = n->db_id;
	return 0;
}

/* Takes p's charges, text and peak into b (the caller holds mu). */
static void take(struct sw_proc *p, int64_t proc, struct sw_batch *b)
{
	*b = (struct sw_batch){.proc = proc, .row = p->ch.row, .nrow = p->ch.nrow};
	p->ch.row = NULL;
	p->ch.nrow = p->ch.cap = 0;
	if (p->text_dirty)
		snprintf(b->text, sizeof b->text, "%s", p->text);
	if (p->peak_dirty)
		b->peak_stack = p->peak_stack;
	p->text_dirty = p->peak_dirty = 0;
}

static int stack_id(struct stackwatch *w, uint32_t id, int64_t *out)
{
	int err;

	pthread_mutex_lock(&w->tab_mu);
	err = store_stack(w, id, out);
	pthread_mutex_unlock(&w->tab_mu);
	return err;
}

static int write_batch(struct stackwatch *w, const struct sw_batch *b)
{
	int64_t stack;
	int err;

	if (b->text[0] && (err = stackstore_proc_stacks(w->ss, b->proc, b->text)))
		return err;
	for (size_t i = 0; i < b->nrow; i++) {
		const struct charge_row *r = &b->row[i];

		if ((err = stack_id(w, r->stack, &stack)) ||
		    (err = stackstore_charge(w->ss, b->proc, r->tick, stack, r->n,
					     r->grown, r->released)))
			return err;
	}
	if (b->peak_stack && ((err = stack_id(w, b->peak_stack, &stack)) ||
			      (err = stackstore_peak_stack(w->ss, b->proc, stack))))
		return err;
	return 0;
}

static int64_t same_id(void *ctx, int64_t key)
{
	(void)ctx;
	return key;
}

int stackwatch_drain(struct stackwatch *w, struct store *s)
{
	return stackwatch_drain_mapped(w, s, same_id, NULL);
}

/* Charges that a failed write loses are not put back: the caller's
 * transaction rolls back the rows written before the failure too. */
int stackwatch_drain_mapped(struct stackwatch *w, struct store *s,
			    stackwatch_map_fn map, void *ctx)
{
	struct sw_batch *b = NULL;
	size_t nb = 0, keep = 0;
	int err = 0;

	if (w->ss_of != s) {
		stackstore_close(w->ss);
		w->ss = NULL;
		w->ss_of = NULL;
		if ((err = stackstore_open(s, &w->ss)))
			return err;
		w->ss_of = s;
	}
	pthread_mutex_lock(&w->mu);
	if (w->n && !(b = calloc(w->n, sizeof *b))) {
		pthread_mutex_unlock(&w->mu);
		return -ENOMEM;
	}
	for (size_t i = 0; i < w->n; i++) {
		struct sw_proc *p = w->p[i];
		int64_t proc = map(ctx, p->proc);

		if (proc)
			take(p, proc, &b[nb++]);
		else if (p->state != SW_READING) {
			/* Ended, and its row is gone from the caller's map. */
			charger_clear(&p->ch);
			p->text_dirty = p->peak_dirty = 0;
		}
		if (p->state != SW_READING && (proc || !p->text_dirty))
			free_proc(p);
		else
			w->p[keep++] = p;
	}
	w->n = keep;
	pthread_mutex_unlock(&w->mu);
	for (size_t i = 0; i < nb; i++) {
		if (!err)
			err = write_batch(w, &b[i]);
		free(b[i].row);
	}
	free(b);
	return err;
}

void stackwatch_stats(struct stackwatch *w, struct stackwatch_stats *out)
{
	struct timespec ts;

	pthread_mutex_lock(&w->mu);
	*out = w->st;
	if (w->started) {
		if (w->cpu_clock != (clockid_t)-1 && clock_gettime(w->cpu_clock, &ts) == 0)
			out->cpu_ns = (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
		out->wall_ns = ticker_now_mono() - w->start_ns;
	}
	pthread_mutex_lock(&w->tab_mu);
	out->memory = stacktab_memory(w->tab);
	pthread_mutex_unlock(&w->tab_mu);
	for (size_t i = 0; i < w->n; i++)
		if (w->p[i]->r)
			out->memory += pystack_memory(w->p[i]->r);
	pthread_mutex_unlock(&w->mu);
}
