/* sampler.c - tracked processes and their per-tick readings
 * (see include/memtide/sampler.h). */
#include "memtide/sampler.h"

#include "memtide/ticker.h"

#include <dlfcn.h>
#include <errno.h>
#include <libproc2/pids.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* libproc2 is opened with dlopen by the first children scan: it pulls in
 * libsystemd, libgcrypt and three compressors, about 1.1 MiB of resident
 * pages that a single-process recording has no use for. */
struct procps {
	void *dl;
	int (*pids_new)(struct pids_info **, enum pids_item *, int);
	int (*pids_unref)(struct pids_info **);
	struct pids_fetch *(*pids_reap)(struct pids_info *, enum pids_fetch_type);
};

struct sampler {
	char *root;
	struct procps pp;
	int children;
	enum sampler_backend backend;
	int adopter;
	struct sampler_proc **v;
	size_t n, cap, alive;
	struct pids_info *scan; /* libproc2: pid, ppid, start time of all */
};

static enum pids_item scan_items[] = {PIDS_ID_PID, PIDS_ID_PPID, PIDS_TICS_BEGAN};
enum { SCAN_PID, SCAN_PPID, SCAN_BEGAN };
#define MAX_ARGV (128 * 1024) /* bytes of a command line kept */

/* libproc2 4.0.5 drops PIDS_VAL's fourth argument: our own accessor works
 * with both. */
#define RES(stack, i) ((stack)->head[(i)].result)

static int procps_open(struct sampler *s)
{
	struct procps *pp = &s->pp;

	if (pp->dl)
		return 0;
	pp->dl = dlopen("libproc2.so.0", RTLD_NOW | RTLD_LOCAL);
	if (!pp->dl)
		return -ENOENT;
	*(void **)&pp->pids_new = dlsym(pp->dl, "procps_pids_new");
	*(void **)&pp->pids_unref = dlsym(pp->dl, "procps_pids_unref");
	*(void **)&pp->pids_reap = dlsym(pp->dl, "procps_pids_reap");
	if (!pp->pids_new || !pp->pids_unref || !pp->pids_reap) {
		dlclose(pp->dl);
		pp->dl = NULL;
		return -ENOENT;
	}
	return 0;
}

static void procps_close(struct sampler *s)
{
	if (!s->pp.dl)
		return;
	if (s->scan)
		s->pp.pids_unref(&s->scan);
	dlclose(s->pp.dl);
	s->pp.dl = NULL;
}

int sampler_new(const char *root, int children, enum sampler_backend backend,
		struct sampler **out)
{
	struct sampler *s = calloc(1, sizeof *s);

	if (!s || !(s->root = strdup(root))) {
		free(s);
		return -ENOMEM;
	}
	s->children = children;
	s->backend = backend;
	s->adopter = -1;
	*out = s;
	return 0;
}

void sampler_free(struct sampler *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++) {
		procfs_close(&s->v[i]->h);
		free(s->v[i]->exe);
		free(s->v[i]->argv);
		free(s->v[i]);
	}
	procps_close(s);
	free(s->v);
	free(s->root);
	free(s);
}

void sampler_set_adopter(struct sampler *s, int pid)
{
	s->adopter = pid;
}

size_t sampler_count(const struct sampler *s)
{
	return s->n;
}

struct sampler_proc *sampler_get(struct sampler *s, size_t i)
{
	return i < s->n ? s->v[i] : NULL;
}

size_t sampler_alive(const struct sampler *s)
{
	return s->alive;
}

/* Unix time of a start expressed in clock ticks since boot: /proc/PID/stat
 * field 22 counts on CLOCK_BOOTTIME. */
static double unix_start(uint64_t start_ticks)
{
	struct timespec boot, real;
	double since;

	clock_gettime(CLOCK_BOOTTIME, &boot);
	clock_gettime(CLOCK_REALTIME, &real);
	since = (double)boot.tv_sec + boot.tv_nsec / 1e9 -
		(double)start_ticks / (double)procfs_hz();
	return (double)real.tv_sec + real.tv_nsec / 1e9 - since;
}

/* exe and argv, read directly: the exact bytes of the command line, and no
 * libproc2 (and its libraries) mapped for a single-process recording.  A
 * process that exits meanwhile leaves them NULL, which is not an error.
 * argv is read into a small buffer grown only for long command lines, then
 * trimmed to its size: a MAX_ARGV buffer per process would be an mmap each
 * (above the daemon's M_MMAP_THRESHOLD) and trimming it keeps a page each,
 * 4 MiB of RSS for 1000 processes. */
static void read_meta(struct sampler *s, struct sampler_proc *p)
{
	char path[4096], exe[4096];
	char *buf, *small;
	ssize_t n;
	size_t len = 0;

	snprintf(path, sizeof path, "%s/%d/exe", s->root, p->pid);
	n = readlink(path, exe, sizeof exe - 1);
	if (n > 0) {
		exe[n] = '\0';
		p->exe = strdup(exe);
	}
	buf = procfs_read_all(s->root, p->pid, "cmdline", MAX_ARGV, &len);
	if (!buf || len == 0) {
		free(buf);
		return;
	}
	p->argv = (small = realloc(buf, len)) ? small : buf;
	p->argv_len = len;
}

static int push(struct sampler *s, struct sampler_proc *p)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		struct sampler_proc **v = realloc(s->v, cap * sizeof *v);

		if (!v)
			return -ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = p;
	s->alive++;
	return 0;
}

/* Opens and reads a process once, so that its first tick has a CPU baseline
 * and its identity is fixed by its start time before anything else. */
/* exe and argv of a process the caller read already. */
struct known_meta {
	const char *exe, *argv;
	size_t argv_len;
};

static void copy_meta(struct sampler_proc *p, const struct known_meta *k)
{
	p->exe = k->exe ? strdup(k->exe) : NULL;
	if (k->argv && k->argv_len && (p->argv = malloc(k->argv_len))) {
		memcpy(p->argv, k->argv, k->argv_len);
		p->argv_len = k->argv_len;
	}
}

static int track(struct sampler *s, int pid, struct sampler_proc *parent,
		 const struct known_meta *known_meta, struct sampler_proc **out)
{
	struct sampler_proc *p = calloc(1, sizeof *p);
	struct procfs_reading r;
	int err;

	if (!p)
		return -ENOMEM;
	if ((err = procfs_open(&p->h, s->root, pid)) < 0)
		goto fail;
	if ((err = procfs_sample(&p->h, &r)) < 0)
		goto fail_close;
	p->pid = pid;
	p->ppid = r.ppid;
	p->start_ticks = r.start_ticks;
	p->started = unix_start(r.start_ticks);
	p->parent = parent;
	p->alive = 1;
	p->first_tick = p->last_tick = -1;
	p->hwm_kib = -1;
	p->rss_pages = r.rss_pages;
	p->last_cpu_ns = r.cpu_ns;
	p->last_mono_ns = ticker_now_mono();
	if (known_meta)
		copy_meta(p, known_meta);
	else
		read_meta(s, p);
	if ((err = push(s, p)) < 0)
		goto fail_close;
	*out = p;
	return 0;
fail_close:
	procfs_close(&p->h);
fail:
	free(p->exe);
	free(p->argv);
	free(p);
	return err;
}

int sampler_add_root(struct sampler *s, int pid, struct sampler_proc **out)
{
	return track(s, pid, NULL, NULL, out);
}

int sampler_add_known(struct sampler *s, int pid, const char *exe, const char *argv,
		      size_t argv_len, struct sampler_proc **out)
{
	struct known_meta k = {exe, argv, argv_len};

	return track(s, pid, NULL, &k, out);
}

static struct sampler_proc *find_live(struct sampler *s, int pid)
{
	for (size_t i = s->n; i-- > 0;)
		if (s->v[i]->alive && s->v[i]->pid == pid)
			return s->v[i];
	return NULL;
}

static int known(struct sampler *s, int pid, uint64_t start_ticks)
{
	for (size_t i = s->n; i-- > 0;)
		if (s->v[i]->pid == pid && s->v[i]->start_ticks == start_ticks)
			return 1;
	return 0;
}

/* One libproc2 reap gives (pid, ppid, start) of every process; descendants
 * are added in passes until none is new, so grandchildren listed before
 * their parents are found too.  A candidate whose start time is older than
 * its would-be parent's is a stale ppid match and is skipped. */
int sampler_scan(struct sampler *s)
{
	struct pids_fetch *f;
	int added = 0, again = 1;

	if (!s->children || strcmp(s->root, "/proc") != 0)
		return 0;
	if (procps_open(s))
		return -ENOENT;
	if (!s->scan && s->pp.pids_new(&s->scan, scan_items,
				       (int)(sizeof scan_items / sizeof scan_items[0])) < 0)
		return -errno;
	f = s->pp.pids_reap(s->scan, PIDS_FETCH_TASKS_ONLY);
	if (!f)
		return -errno;
	while (again) {
		again = 0;
		for (int i = 0; i < f->counts->total; i++) {
			struct pids_stack *st = f->stacks[i];
			int pid = RES(st, SCAN_PID).s_int;
			int ppid = RES(st, SCAN_PPID).s_int;
			uint64_t began = RES(st, SCAN_BEGAN).ull_int;
			struct sampler_proc *parent, *p;

			parent = find_live(s, ppid);
			if (!parent && !(ppid == s->adopter && s->adopter > 0))
				continue;
			if (parent && began < parent->start_ticks)
				continue;
			if (known(s, pid, began))
				continue;
			if (track(s, pid, parent, NULL, &p) == 0 && p->start_ticks == began) {
				added++;
				again = 1;
			}
		}
	}
	return added;
}

static int64_t thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void read_rollup(struct sampler *s, struct sampler_proc *p, int64_t now_ns,
			struct sampler_reading *r)
{
	char buf[4096];
	struct procfs_rollup ro;
	int64_t t0, cost;
	long n;

	r->pss_kib = r->uss_kib = r->swap_kib = -1;
	if (s->backend == SAMPLER_RSS || now_ns < p->next_rollup_ns)
		return;
	t0 = thread_cpu_ns();
	n = procfs_read(s->root, p->pid, "smaps_rollup", buf, sizeof buf);
	cost = thread_cpu_ns() - t0;
	/* smaps_rollup walks every mapping (~15 us per MB of RSS): read it no
	 * more often than keeps its cost at 5 % of one core.  The cost is CPU
	 * time, not wall time: being preempted mid-read on a busy machine
	 * must not space the readings out twentyfold. */
	p->next_rollup_ns = now_ns + cost * 20;
	if (n <= 0 || procfs_parse_rollup(buf, (size_t)n, &ro))
		return;
	r->pss_kib = ro.pss_kib;
	r->uss_kib = ro.uss_kib;
	r->swap_kib = ro.swap_kib;
	/* RSS from the same snapshot, so that USS <= PSS <= RSS holds in the
	 * sample even while the process grows between the two reads. */
	if (ro.rss_kib > 0)
		r->rss_pages = ro.rss_kib * 1024 / procfs_page_size();
}

static int32_t lifetime_cpu_pm(const struct sampler_proc *p, uint64_t cpu_ns)
{
	struct timespec boot;
	double age;

	clock_gettime(CLOCK_BOOTTIME, &boot);
	age = (double)boot.tv_sec + boot.tv_nsec / 1e9 -
	      (double)p->start_ticks / (double)procfs_hz();
	return age > 0.001 ? (int32_t)((double)cpu_ns / 1e6 / age) : 0;
}

/* A status read costs tens of microseconds, several samples' worth: a
 * process whose peak rises at every tick has it read this often at most
 * (its sampled peak stands in between). */
#define HWM_MIN_NS 250000000LL

/* VmHWM of /proc/PID/status, the process's own peak (never its
 * children's), raised to the sampled peak: VmHWM is read a moment after the
 * sample, but a process that died in between has no status left to read, and
 * its own peak is never below what was seen of it.  Read whenever the
 * sampled peak passes what is known, so that every process sampled has one,
 * and the last one read before it exits is close to its end. */
static void read_hwm_one(struct sampler *s, struct sampler_proc *p)
{
	char buf[4096];
	int64_t kib, seen = p->peak_pages * procfs_page_size() / 1024;
	long n = procfs_read(s->root, p->pid, "status", buf, sizeof buf);

	if (n > 0 && procfs_parse_status_hwm(buf, (size_t)n, &kib) == 0 &&
	    kib > p->hwm_kib)
		p->hwm_kib = kib;
	if (p->peak_pages > 0 && seen > p->hwm_kib)
		p->hwm_kib = seen;
}

/* Reads one live process; returns 1 with the reading in r, or 0 when it
 * was found gone (its series ends quietly). */
static int sample_one(struct sampler *s, struct sampler_proc *p, int64_t tick,
		      int64_t now_ns, struct sampler_reading *r)
{
	struct procfs_reading pr;
	int64_t dt;
	int err;

	/* A process found and sampled at this very tick (memtided takes a
	 * first sample at once) is not read twice: one sample a tick. */
	if (!p->alive || p->last_tick == tick)
		return 0;
	/* stat was read when tracking began (identity, parent); the ticks
	 * after need only the quick read. */
	err = procfs_sample_quick(&p->h, &pr);
	if (err == -ENOTSUP) {
		err = procfs_sample(&p->h, &pr);
		if (!err && pr.start_ticks != p->start_ticks)
			err = -ESRCH;
	}
	if (err < 0) {
		sampler_end(s, p);
		return 0;
	}
	dt = now_ns - p->last_mono_ns;
	r->proc = p;
	r->rss_pages = pr.rss_pages;
	r->threads = pr.threads;
	if (dt >= 1000000)
		r->cpu_pm = (int32_t)((pr.cpu_ns - p->last_cpu_ns) * 1000 / (uint64_t)dt);
	else
		/* No interval to speak of yet (the first tick right after
		 * tracking began): the average since the process started says
		 * more than a 0. */
		r->cpu_pm = lifetime_cpu_pm(p, pr.cpu_ns);
	read_rollup(s, p, now_ns, r);
	p->last_cpu_ns = pr.cpu_ns;
	p->last_mono_ns = now_ns;
	p->rss_pages = r->rss_pages;
	if (r->rss_pages > p->peak_pages) {
		p->peak_pages = r->rss_pages;
		if (p->hwm_kib * 1024 < p->peak_pages * procfs_page_size()) {
			if (now_ns >= p->next_hwm_ns) {
				read_hwm_one(s, p);
				p->next_hwm_ns = now_ns + HWM_MIN_NS;
			} else {
				p->hwm_kib = p->peak_pages * procfs_page_size() / 1024;
			}
		}
	}
	if (p->first_tick < 0)
		p->first_tick = tick;
	p->last_tick = tick;
	return 1;
}

size_t sampler_tick(struct sampler *s, int64_t tick, int64_t now_ns,
		    struct sampler_reading *out)
{
	size_t k = 0;

	for (size_t i = 0; i < s->n; i++)
		k += (size_t)sample_one(s, s->v[i], tick, now_ns, &out[k]);
	return k;
}

int sampler_tick_one(struct sampler *s, struct sampler_proc *p, int64_t tick,
		     int64_t now_ns, struct sampler_reading *out)
{
	return sample_one(s, p, tick, now_ns, out);
}

void sampler_end(struct sampler *s, struct sampler_proc *p)
{
	if (!p->alive)
		return;
	p->alive = 0;
	s->alive--;
	procfs_close(&p->h);
}

static int forgettable(const struct sampler_proc *p)
{
	return !p->alive && p->end_reported;
}

size_t sampler_forget(struct sampler *s)
{
	size_t k = 0, gone = 0;

	/* First, while every entry is still there: nobody keeps a pointer to
	 * a parent about to be freed. */
	for (size_t j = 0; j < s->n; j++)
		if (s->v[j]->parent && forgettable(s->v[j]->parent))
			s->v[j]->parent = NULL;
	for (size_t i = 0; i < s->n; i++) {
		struct sampler_proc *p = s->v[i];

		if (!forgettable(p)) {
			s->v[k++] = p;
			continue;
		}
		free(p->exe);
		free(p->argv);
		free(p);
		gone++;
	}
	s->n = k;
	return gone;
}

int sampler_refresh_meta(struct sampler *s)
{
	char path[64], exe[4096];
	int changed = 0;

	if (strcmp(s->root, "/proc") != 0)
		return 0;
	for (size_t i = 0; i < s->n; i++) {
		struct sampler_proc *p = s->v[i];
		size_t len = 0;
		char *argv, *small;
		ssize_t n;

		if (!p->alive)
			continue;
		snprintf(path, sizeof path, "/proc/%d/exe", p->pid);
		n = readlink(path, exe, sizeof exe - 1);
		if (n <= 0)
			continue;
		exe[n] = '\0';
		/* An empty command line is an exec in flight (the new image's
		 * arguments are not set up yet) or a zombie: what is known
		 * stays, and the next call looks again. */
		argv = procfs_read_all(s->root, p->pid, "cmdline", MAX_ARGV, &len);
		if (!argv || len == 0) {
			free(argv);
			continue;
		}
		/* The same interpreter can exec another script (python spawning
		 * python): the command line tells. */
		if (p->exe && strcmp(p->exe, exe) == 0 && len == p->argv_len &&
		    p->argv && memcmp(argv, p->argv, len) == 0) {
			free(argv);
			continue;
		}
		free(p->exe);
		free(p->argv);
		p->exe = strdup(exe);
		p->argv = (small = realloc(argv, len)) ? small : argv;
		p->argv_len = len;
		p->meta_changed = 1;
		changed++;
	}
	return changed;
}

void sampler_read_hwm(struct sampler *s)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i]->alive)
			read_hwm_one(s, s->v[i]);
}
