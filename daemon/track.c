/* track.c - which processes memtided follows, and their samples.
 *
 * Every process is judged once against the rules (rules.h) when it is first
 * seen -- by a /proc scan, or a fork event of the proc connector -- and
 * again when it execs.  A tracked process joins the sampling group of its
 * (interval, pss): one sampler (sampler.h) per group, due every
 * interval / 10 ms base ticks.  Those judged and not tracked are remembered
 * by a fingerprint (start time, exe, uid), so a scan re-reads only three
 * small things of each: a setuid or an exec the events missed still gets
 * the process judged again.
 *
 * All of it runs on the main thread; the database is reached only through
 * the writer's queue.
 */
#include "daemon.h"
#include "dstacks.h"

#include "memtide/budget.h"
#include "memtide/cgroup.h"
#include "memtide/discover.h"
#include "memtide/idmap.h"
#include "memtide/metrics.h"
#include "memtide/procfs.h"
#include "memtide/pyinfo.h"
#include "memtide/redact.h"
#include "memtide/rules.h"
#include "memtide/sampler.h"
#include "memtide/text.h"
#include "memtide/ticker.h"
#include "memtide/units.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ROOT "/proc"
#define MAX_ARGV (128 * 1024)

struct group {
	int64_t period; /* base ticks between samples */
	int pss;
	int64_t next_due; /* the next tick it is due */
	struct sampler *sm;
};

struct tproc {
	int pid;
	int rule; /* index in the current config */
	struct group *g;
	struct sampler_proc *sp; /* sp->id is the local id */
	/* Its labels and last values on the metrics page, when served. */
	char *m_name, *m_script, *m_module, *m_unit;
	int64_t m_pss_bytes;
	struct service sv; /* cgroup, limits, group (service.c) */
	int64_t gone_ns;   /* found gone by the sampler, its exit event not
			    * read yet (monotonic ns); 0 while alive */
	int64_t hwm_sent_kib;    /* the VmHWM last queued */
	struct budget marks;     /* what its markers may still cost */
};

struct tracker {
	const struct config *cfg;
	unsigned need;
	struct writer *w;
	int64_t t0_ns;
	struct group **groups;
	size_t ngroups;
	struct idmap procs;    /* pid -> struct tproc * */
	struct idmap rejected; /* pid -> fingerprint of a process judged untracked */
	struct idmap seen;     /* the rejected of the scan under way */
	int scanning;
	int64_t next_local;
	int events_fd;
	struct sampler_reading *rd;
	size_t rd_cap;
	struct store_sample *sb;
	size_t tracked;
	uint64_t missed; /* samples given up: memtided woke up too late */
	uint64_t unseen; /* children (children = yes) gone before they were read */
	size_t waiting;  /* processes gone whose exit event is awaited */
	int self;
	struct metrics *mx; /* the metrics page, or NULL */
	struct redact *redact; /* hides secrets of every argv before it goes on */
	struct dstacks *stacks; /* rules with stacks = yes; NULL until one matches */
	struct budget marks;   /* what all senders' markers together may cost */
	struct idmap uid_marks; /* uid + 1 -> index in ub: each user's budget */
	struct budget *ub;
	size_t nub;
	uint64_t marks_dropped;
	int dropper_pid;       /* the sender of the last marker dropped */
	long dropper_uid;
	long page_size;
	struct pidq forks; /* forks waiting for their exec (daemon.h); arg: follows */
	struct pidq young; /* processes found, read again soon (arg unused) */
};

static struct tproc *tp_of(const struct tracker *t, int pid)
{
	int64_t v;

	return idmap_get(&t->procs, pid, &v) ? (struct tproc *)(intptr_t)v : NULL;
}

/* The default redaction rules, then the config's redact = lines. */
static int redact_of(const struct config *cfg, struct redact **out)
{
	struct redact *rd;
	int err;

	if ((err = redact_new(&rd)))
		return err;
	if ((err = redact_add_defaults(rd))) {
		redact_free(rd);
		return err;
	}
	for (size_t i = 0; i < cfg->nredact; i++)
		if ((err = redact_add(rd, cfg->redact[i], NULL, 0))) {
			redact_free(rd);
			return err;
		}
	*out = rd;
	return 0;
}

/* Replaces the argv of sp by its redacted copy: everything downstream (the
 * store, the log, the metrics labels) sees only that one.  Without memory
 * for the copy, the argv is dropped rather than kept as it was. */
static void redact_proc_argv(const struct tracker *t, struct sampler_proc *sp)
{
	char *out;
	size_t len;

	if (!sp->argv)
		return;
	if (redact_argv(t->redact, sp->argv, sp->argv_len, &out, &len) < 0) {
		out = NULL;
		len = 0;
	}
	free(sp->argv);
	sp->argv = out;
	sp->argv_len = len;
}

int tracker_new(const struct config *cfg, struct writer *w, int64_t t0_ns,
		struct tracker **out)
{
	struct tracker *t = calloc(1, sizeof *t);

	if (!t)
		return -ENOMEM;
	if (redact_of(cfg, &t->redact)) {
		free(t);
		return -ENOMEM;
	}
	t->cfg = cfg;
	t->need = rules_needs(cfg);
	t->w = w;
	t->t0_ns = t0_ns;
	t->events_fd = -1;
	t->self = (int)getpid();
	t->page_size = sysconf(_SC_PAGESIZE);
	*out = t;
	return 0;
}

static void tproc_free(struct tproc *tp)
{
	free(tp->m_name);
	free(tp->m_script);
	free(tp->m_module);
	free(tp->m_unit);
	service_free(&tp->sv);
	free(tp);
}

void tracker_stop_stacks(struct tracker *t)
{
	if (t->stacks)
		dstacks_stop(t->stacks);
}

void tracker_set_metrics(struct tracker *t, struct metrics *mx)
{
	t->mx = mx;
	if (mx)
		metrics_per_process(mx, t->cfg->per_process_metrics);
}

void tracker_free(struct tracker *t)
{
	size_t i = 0;
	int64_t k, v;

	if (!t)
		return;
	while (idmap_next(&t->procs, &i, &k, &v))
		tproc_free((struct tproc *)(intptr_t)v);
	idmap_free(&t->procs);
	idmap_free(&t->rejected);
	dstacks_free(t->stacks);
	idmap_free(&t->seen);
	pidq_free(&t->forks);
	pidq_free(&t->young);
	for (size_t g = 0; g < t->ngroups; g++) {
		sampler_free(t->groups[g]->sm);
		free(t->groups[g]);
	}
	free(t->groups);
	discover_events_close(t->events_fd);
	idmap_free(&t->uid_marks);
	free(t->ub);
	redact_free(t->redact);
	free(t->rd);
	free(t->sb);
	free(t);
}

size_t tracker_count(const struct tracker *t)
{
	return t->tracked;
}

uint64_t tracker_missed(const struct tracker *t)
{
	return t->missed;
}

uint64_t tracker_unseen(const struct tracker *t)
{
	return t->unseen;
}

static int64_t tick_now(const struct tracker *t, int64_t now_ns)
{
	return (now_ns - t->t0_ns) / CONFIG_TICK_NS;
}

static struct group *group_for(struct tracker *t, int64_t period, int pss, int64_t tick)
{
	struct group *g, **v;

	for (size_t i = 0; i < t->ngroups; i++)
		if (t->groups[i]->period == period && t->groups[i]->pss == pss)
			return t->groups[i];
	if (!(g = calloc(1, sizeof *g)) ||
	    sampler_new(ROOT, 0, pss ? SAMPLER_PSS : SAMPLER_RSS, &g->sm)) {
		free(g);
		return NULL;
	}
	if (!(v = realloc(t->groups, (t->ngroups + 1) * sizeof *v))) {
		sampler_free(g->sm);
		free(g);
		return NULL;
	}
	g->period = period;
	g->pss = pss;
	/* Groups sample on multiples of their period: processes of one
	 * interval share ticks, so a total at a tick adds up. */
	g->next_due = (tick / period + 1) * period;
	t->groups = v;
	t->groups[t->ngroups++] = g;
	return g;
}

/* A fingerprint of what a scan can check cheaply: the process (start
 * time), what it runs (exe) and who it runs as (uid). */
static int64_t fingerprint(uint64_t start_ticks, const char *exe, long uid)
{
	uint64_t h = 1469598103934665603ULL ^ start_ticks;

	for (const char *s = exe ? exe : ""; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	h = (h ^ (uint64_t)uid) * 1099511628211ULL;
	return (int64_t)(h | 1);
}

static int64_t quick_fingerprint(int pid)
{
	char path[64], exe[4096];
	struct procfs_stat st;
	long uid;
	ssize_t e;

	if (procfs_read_stat(ROOT, pid, &st))
		return 0;
	snprintf(path, sizeof path, ROOT "/%d/exe", pid);
	e = readlink(path, exe, sizeof exe - 1);
	exe[e > 0 ? e : 0] = '\0';
	uid = procfs_uid(ROOT, pid);
	return fingerprint(st.start_ticks, exe, uid);
}

static void reject(struct tracker *t, int pid, int64_t fp)
{
	if (!fp)
		return;
	idmap_put(&t->rejected, pid, fp);
	if (t->scanning)
		idmap_put(&t->seen, pid, fp);
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* Puts a reading of a tracked process on the metrics page.  PSS is read
 * only every few ticks: the page keeps the last value in between. */
static void export_reading(struct tracker *t, struct tproc *tp,
			   const struct sampler_reading *r)
{
	struct metrics_proc mp;

	if (r->pss_kib >= 0)
		tp->m_pss_bytes = r->pss_kib * 1024;
	mp = (struct metrics_proc){
		.pid = tp->pid,
		.start_ticks = r->proc->start_ticks,
		.rule = t->cfg->rules[tp->rule].name,
		.name = tp->m_name,
		.script = tp->m_script,
		.module = tp->m_module,
		.unit = tp->m_unit,
		.group = tp->sv.group,
		.rss_bytes = r->rss_pages * t->page_size,
		.pss_bytes = tp->m_pss_bytes,
		.limit_bytes = tp->sv.limit,
		.cpu_seconds = (double)r->proc->last_cpu_ns / 1e9,
		.threads = r->threads,
		.start_time = r->proc->started,
	};
	if (metrics_set(t->mx, &mp))
		log_warning("out of memory for the metrics of process %d", tp->pid);
}

/* A reading as the writer queues it (proc is the local id). */
static struct store_sample sample_of(const struct sampler_reading *r, int64_t tick)
{
	return (struct store_sample){
		.proc = r->proc->id,
		.tick = tick,
		.rss_pages = r->rss_pages,
		.cpu_pm = r->cpu_pm,
		.threads = r->threads,
		.pss_kib = r->pss_kib,
		.uss_kib = r->uss_kib,
		.swap_kib = r->swap_kib,
	};
}

static void push_sample(struct tracker *t, const struct sampler_reading *r, int64_t tick)
{
	struct store_sample s = sample_of(r, tick);

	writer_push_samples(t->w, &s, 1);
}

/* Queues how a process ended (wait status status) and says so in the log
 * when the OOM killer ended it; returns the METRICS_HOW_* or -1. */
/* One reading of tp out of its group's turn (found just now, or young),
 * queued and on the metrics page like the group's. */
static void read_now(struct tracker *t, struct tproc *tp, int64_t tick, int64_t now_ns)
{
	struct sampler_reading rd;

	if (sampler_tick_one(tp->g->sm, tp->sp, tick, now_ns, &rd)) {
		push_sample(t, &rd, tick);
		if (t->mx)
			export_reading(t, tp, &rd);
	}
}

static int record_exit(struct tracker *t, struct tproc *tp, int status, double ended)
{
	struct wmsg m = {.type = W_EXIT};
	int how = service_how(&tp->sv, status);

	if (how < 0)
		return how;
	m.u.exit.local = tp->sp->id;
	m.u.exit.pid = tp->pid;
	m.u.exit.status = status;
	m.u.exit.oom = how == METRICS_HOW_OOM;
	m.u.exit.t = ended;
	writer_push(t->w, &m);
	if (how == METRICS_HOW_OOM) {
		char lim[32] = "none", rss[32];

		if (tp->sv.limit > 0)
			units_format_bytes(tp->sv.limit, lim, sizeof lim);
		units_format_bytes(tp->sp->rss_pages * t->page_size, rss, sizeof rss);
		log_warning("process %d of group \"%s\" was killed by the OOM killer"
			    " (last RSS %s, memory limit %s, cgroup %s)", tp->pid,
			    tp->sv.group ? tp->sv.group : "?", rss, lim,
			    tp->sv.cgroup ? tp->sv.cgroup : "?");
	}
	return how;
}

/* Queues the end of a process's series and forgets it.  status: its wait
 * status from the proc connector, -1 when unknown or still alive (it left
 * its rule, memtided stops). */
static void untrack_status(struct tracker *t, struct tproc *tp, double ended,
			   int status)
{
	struct sampler_proc *sp = tp->sp;
	struct wmsg m = {.type = W_END};
	int how = record_exit(t, tp, status, ended);

	if (tp->gone_ns)
		t->waiting--;
	/* Its own kernel peak as last known (the sampler reads VmHWM as its
	 * sampled peak rises): a process that lived less than the minute
	 * between tracker_read_hwm() calls has one too. */
	if (sp->hwm_kib > tp->hwm_sent_kib) {
		struct wmsg h = {.type = W_HWM};

		h.u.hwm.local = sp->id;
		h.u.hwm.bytes = sp->hwm_kib * 1024;
		writer_push(t->w, &h);
	}
	sampler_end(tp->g->sm, sp);
	if (t->stacks)
		dstacks_end(t->stacks, sp->id);
	m.u.end.local = sp->id;
	m.u.end.ended = ended;
	m.u.end.last_tick = sp->last_tick < 0 ? sp->first_tick : sp->last_tick;
	if (m.u.end.last_tick < 0)
		m.u.end.last_tick = 0;
	writer_push(t->w, &m);
	sp->end_reported = 1;
	log_debug("process %d ended", tp->pid);
	if (t->mx)
		metrics_exit(t->mx, tp->pid, sp->start_ticks, ended, how);
	idmap_del(&t->procs, tp->pid);
	tproc_free(tp);
	t->tracked--;
}

static void untrack(struct tracker *t, struct tproc *tp, double ended)
{
	untrack_status(t, tp, ended, -1);
}

/* Queues the cgroup and group of a process, with its limits when it was
 * just tracked (limits: 1). */
static void push_service(struct tracker *t, const struct tproc *tp, int limits)
{
	struct wmsg m = {.type = W_CGROUP};

	m.u.cg.local = tp->sp->id;
	m.u.cg.limit = limits ? tp->sv.limit : 0;
	m.u.cg.high = limits ? tp->sv.high : 0;
	m.u.cg.t = ticker_now_real_s();
	m.u.cg.first = 1;
	m.u.cg.cgroup = dup_or_null(tp->sv.cgroup);
	m.u.cg.group = dup_or_null(tp->sv.group);
	writer_push(t->w, &m);
}

/* Names a Python process from what is already read of it: its exe and its
 * redacted argv (sp), and its kind (f); only environ is read here. */
static void describe_python(const struct rules_facts *f, const struct sampler_proc *sp,
			    struct pyinfo *pi)
{
	char sysroot[64], *env;
	size_t env_len = 0;

	memset(pi, 0, sizeof *pi);
	if (!f->python || !sp->exe)
		return;
	/* Paths (a venv's pyvenv.cfg) as the process sees them: through its
	 * root, which also reaches /home under ProtectHome=.  environ is
	 * readable by the owner and root only; without it the venv comes
	 * from the paths alone. */
	snprintf(sysroot, sizeof sysroot, ROOT "/%d/root", f->pid);
	env = procfs_read_all(ROOT, f->pid, "environ", MAX_ARGV, &env_len);
	pyinfo_describe(sp->exe, sp->argv, sp->argv_len, env, env_len, f->python,
			f->interpreter, sysroot, pi);
	free(env);
}

/* Tracks the process of facts f under rule r; fresh: an event says it is
 * new (it is read again soon, daemon.h YOUNG_NS), not one a scan found. */
static int track(struct tracker *t, const struct rules_facts *f, int r, int64_t now_ns,
		 int fresh)
{
	const struct config_rule *rule = &t->cfg->rules[r];
	int64_t period = config_rule_interval(t->cfg, rule) / CONFIG_TICK_NS, tick;
	struct group *g;
	struct sampler_proc *sp;
	struct tproc *tp, *parent;
	struct wproc *wp;
	struct pyinfo pi = {0};
	struct wmsg m = {.type = W_PROC};
	int err;

	tick = tick_now(t, now_ns);
	if (!(g = group_for(t, period, rule->pss, tick)))
		return -ENOMEM;
	if ((err = sampler_add_known(g->sm, f->pid, f->exe, f->argv, f->argv_len, &sp)))
		return err == -ENOMEM ? err : -ESRCH; /* gone since it was judged */
	redact_proc_argv(t, sp);
	if (sp->start_ticks != f->start_ticks) {
		/* The pid was reused between the judging and now. */
		sp->end_reported = 1;
		sampler_end(g->sm, sp);
		return -ESRCH;
	}
	if (!(tp = calloc(1, sizeof *tp)) || !(wp = calloc(1, sizeof *wp))) {
		free(tp);
		sp->end_reported = 1;
		sampler_end(g->sm, sp);
		return -ENOMEM;
	}
	tp->pid = f->pid;
	tp->rule = r;
	tp->g = g;
	tp->sp = sp;
	sp->id = ++t->next_local;
	describe_python(f, sp, &pi);
	{
		struct service_facts sf = {pi.name, pi.script, pi.module};
		struct tproc *pp = tp_of(t, f->ppid);

		service_read(&tp->sv, rule, f, &sf, pp && pp->rule == r ? &pp->sv : NULL);
	}
	if (t->mx) {
		tp->m_name = pi.name ? strdup(pi.name)
			     : sp->argv ? text_argv(sp->argv, sp->argv_len, 0)
					: dup_or_null(sp->exe);
		tp->m_script = dup_or_null(pi.script);
		tp->m_module = dup_or_null(pi.module);
		tp->m_unit = dup_or_null(f->unit);
		tp->m_pss_bytes = -1;
	}
	parent = tp_of(t, f->ppid);
	wp->local = sp->id;
	wp->parent_local = parent ? parent->sp->id : 0;
	wp->p = (struct store_proc){
		.pid = f->pid,
		.ppid = f->ppid,
		.start_ticks = sp->start_ticks,
		.started = sp->started,
		.first_tick = tick,
		.exe = dup_or_null(sp->exe),
		.argv = NULL,
		.argv_len = 0,
		.name = pi.name,
		.interpreter = pi.kind ? strdup(pi.interpreter) : NULL,
		.script = pi.script,
		.module = pi.module,
		.venv = pi.venv,
		.uid = f->uid,
		.unit = dup_or_null(f->unit),
		.rule = strdup(rule->name),
		.interval = (double)period * CONFIG_TICK_NS / 1e9,
	};
	if (sp->argv && (wp->p.argv = malloc(sp->argv_len))) {
		memcpy((char *)wp->p.argv, sp->argv, sp->argv_len);
		wp->p.argv_len = sp->argv_len;
	}
	/* Said before the writer takes pi's strings (and frees them). */
	log_debug("tracking process %d (%s) under rule \"%s\"", f->pid,
		  pi.name ? pi.name : sp->exe ? sp->exe : "?", rule->name);
	m.u.proc = wp;
	writer_push(t->w, &m);
	push_service(t, tp, 1);
	idmap_put(&t->procs, f->pid, (int64_t)(intptr_t)tp);
	t->tracked++;
	if (rule->stacks && f->python &&
	    (t->stacks || dstacks_new(t->w, t->t0_ns, &t->stacks) == 0))
		dstacks_add(t->stacks, f->pid, sp->id, sp->started);
	/* A first sample now: a child that lives 20 ms has one. */
	read_now(t, tp, tick, now_ns);
	if (fresh && period * CONFIG_TICK_NS > YOUNG_NS)
		pidq_put(&t->young, (struct pidq_entry){
			f->pid, 0, ticker_next_on_grid(t->t0_ns, now_ns, YOUNG_NS), now_ns});
	return 0;
}

static int parent_rule(const struct tracker *t, int ppid)
{
	struct tproc *p = tp_of(t, ppid);

	return p ? p->rule : -1;
}

/* Judges pid.  fresh: an event says it is new or changed, so any earlier
 * verdict is stale.  -ESRCH: it was gone (or a zombie) before it could be
 * read. */
static int judge(struct tracker *t, int pid, int fresh)
{
	struct rules_facts f;
	int64_t fp = 0, old;
	int r, err = 0;

	if (pid == t->self || tp_of(t, pid))
		return 0;
	if (!fresh && idmap_get(&t->rejected, pid, &old)) {
		fp = quick_fingerprint(pid);
		if (fp && fp == old) {
			if (t->scanning)
				idmap_put(&t->seen, pid, fp);
			return 0;
		}
	}
	if ((err = rules_read_facts(ROOT, pid, 0, &f)))
		return err;
	r = rules_match(t->cfg, &f, parent_rule(t, f.ppid));
	if (r >= 0 && (t->need & ~f.have)) {
		rules_complete(ROOT, &f, t->need);
		r = rules_match(t->cfg, &f, parent_rule(t, f.ppid));
	}
	if (r < 0) {
		reject(t, pid, fingerprint(f.start_ticks, f.exe, f.uid));
	} else {
		idmap_del(&t->rejected, pid);
		err = track(t, &f, r, ticker_now_mono(), fresh);
	}
	rules_facts_free(&f);
	return err;
}

/* What a process is called, from facts read again: after an exec (a fork
 * of a master becomes a worker) or a reload (its rule's group = changed),
 * its names on the metrics page and its group. */
static void rename_proc(struct tracker *t, struct tproc *tp, const struct rules_facts *f)
{
	struct pyinfo pi;
	struct service_facts sf;

	describe_python(f, tp->sp, &pi);
	sf = (struct service_facts){pi.name, pi.script, pi.module};
	if (service_moved(&tp->sv, tp->pid) == 1) {
		service_regroup(&tp->sv, &t->cfg->rules[tp->rule], f, &sf);
		push_service(t, tp, 1);
	} else if (service_regroup(&tp->sv, &t->cfg->rules[tp->rule], f, &sf) == 1) {
		push_service(t, tp, 0);
	}
	if (t->mx && pi.name) {
		free(tp->m_name);
		free(tp->m_script);
		free(tp->m_module);
		tp->m_name = dup_or_null(pi.name);
		tp->m_script = dup_or_null(pi.script);
		tp->m_module = dup_or_null(pi.module);
	}
	pyinfo_free(&pi);
}

/* A tracked process exec'd: judged again; if it still matches, its series
 * goes on with the new exe and argv. */
static void rejudge(struct tracker *t, struct tproc *tp)
{
	struct rules_facts f;
	struct sampler_proc *sp = tp->sp;
	struct wmsg m = {.type = W_META};
	size_t len = 0;
	int r;

	if (rules_read_facts(ROOT, tp->pid, t->need, &f))
		return; /* gone: the next tick ends it */
	r = rules_match(t->cfg, &f, parent_rule(t, f.ppid));
	if (r < 0) {
		log_debug("process %d no longer matches a rule", tp->pid);
		untrack(t, tp, ticker_now_real_s());
		reject(t, f.pid, fingerprint(f.start_ticks, f.exe, f.uid));
		rules_facts_free(&f);
		return;
	}
	tp->rule = r;
	free(sp->exe);
	free(sp->argv);
	sp->exe = dup_or_null(f.exe);
	sp->argv = procfs_read_all(ROOT, tp->pid, "cmdline", MAX_ARGV, &len);
	sp->argv_len = sp->argv ? len : 0;
	redact_proc_argv(t, sp);
	rename_proc(t, tp, &f);
	len = sp->argv_len;
	m.u.meta.local = sp->id;
	m.u.meta.exe = dup_or_null(sp->exe);
	if (sp->argv && (m.u.meta.argv = malloc(len))) {
		memcpy(m.u.meta.argv, sp->argv, len);
		m.u.meta.argv_len = len;
	}
	writer_push(t->w, &m);
	rules_facts_free(&f);
}

static void scan_one(int pid, void *arg)
{
	judge(arg, pid, 0);
}

void tracker_scan(struct tracker *t)
{
	struct idmap old;

	t->scanning = 1;
	if (discover_scan(ROOT, scan_one, t) < 0)
		log_error("cannot read " ROOT ": %m");
	t->scanning = 0;
	/* The verdicts of processes gone since are dropped with the old map. */
	old = t->rejected;
	t->rejected = t->seen;
	t->seen = (struct idmap){0};
	idmap_free(&old);
	for (size_t i = 0; i < t->ngroups; i++)
		sampler_forget(t->groups[i]->sm);
}

void tracker_reload(struct tracker *t, const struct config *cfg)
{
	const struct config *old = t->cfg;
	struct tproc **v = malloc((t->tracked + 1) * sizeof *v);
	size_t i = 0, n = 0;
	int64_t k, val;

	struct redact *rd;

	if (redact_of(cfg, &rd) == 0) {
		redact_free(t->redact);
		t->redact = rd;
	}
	t->cfg = cfg;
	t->need = rules_needs(cfg);
	if (t->mx)
		metrics_per_process(t->mx, cfg->per_process_metrics);
	idmap_free(&t->rejected);
	if (!v)
		return;
	while (idmap_next(&t->procs, &i, &k, &val))
		v[n++] = (struct tproc *)(intptr_t)val;
	/* Rules are found again by name first, so that children = yes keeps
	 * families together while each is judged. */
	for (i = 0; i < n; i++) {
		const char *name = old->rules[v[i]->rule].name;

		v[i]->rule = -1;
		for (size_t r = 0; r < cfg->nrules; r++)
			if (strcmp(cfg->rules[r].name, name) == 0)
				v[i]->rule = (int)r;
	}
	for (i = 0; i < n; i++) {
		struct rules_facts f;
		int r;

		if (rules_read_facts(ROOT, v[i]->pid, t->need, &f))
			continue;
		r = rules_match(cfg, &f, parent_rule(t, f.ppid));
		if (r < 0) {
			untrack(t, v[i], ticker_now_real_s());
			v[i] = NULL;
		} else {
			v[i]->rule = r;
			rename_proc(t, v[i], &f);
		}
		rules_facts_free(&f);
	}
	/* Those that could not be read are gone: any valid index will do
	 * until the next tick ends them. */
	i = 0;
	while (idmap_next(&t->procs, &i, &k, &val)) {
		struct tproc *tp = (struct tproc *)(intptr_t)val;

		if (tp->rule < 0)
			tp->rule = 0;
	}
	free(v);
}

int tracker_events_open(struct tracker *t)
{
	t->events_fd = discover_events_open();
	return t->events_fd;
}

/* A child of pid would be tracked with it: its rule says children = yes. */
static int follows_parent(const struct tracker *t, int pid)
{
	int r = parent_rule(t, pid);

	return r >= 0 && t->cfg->rules[r].children;
}

/* A fork of a process judged untracked is a copy of it -- same exe, argv,
 * uid, cgroup -- so it is untracked too, unless a pid = rule names it; what
 * it becomes after an exec is judged at the exec.  It inherits its
 * parent's verdict without a read of /proc: a busy machine forks and execs
 * hundreds of times a second, and judging each fork doubled that cost. */
static int inherits_rejection(struct tracker *t, int pid, int ppid)
{
	int64_t fp;

	if (!idmap_get(&t->rejected, ppid, &fp) || tp_of(t, ppid))
		return 0;
	for (size_t r = 0; r < t->cfg->nrules; r++)
		if (t->cfg->rules[r].pid == pid)
			return 0;
	/* The parent's fingerprint has another start time: a scan judges
	 * the child afresh if it is still there. */
	idmap_put(&t->rejected, pid, fp);
	return 1;
}

/* Judges a fork whose wait ended, or that exec'd: gone before it could be
 * read, it is counted unseen when it would have been tracked with its
 * parent. */
static void judge_fork(struct tracker *t, const struct pidq_entry *fw)
{
	if (judge(t, fw->pid, 1) == -ESRCH && fw->arg)
		t->unseen++;
}

static void on_fork_event(struct tracker *t, const struct discover_event *ev)
{
	int64_t now = ticker_now_mono();
	struct pidq_entry fw = {ev->pid, follows_parent(t, ev->ppid), now + FORKS_WAIT_NS, now};

	if (inherits_rejection(t, ev->pid, ev->ppid))
		return;
	if (pidq_put(&t->forks, fw))
		judge_fork(t, &fw); /* too many waiting: judged now */
}

/* Whether a fork whose wait ended waits again (daemon.h FORKS_WAIT_MAX_NS):
 * it is still on its way to an exec, not settled asleep as a copy. */
static int waits_again(struct tracker *t, const struct pidq_entry *fw, int64_t now_ns)
{
	struct procfs_stat st;
	struct pidq_entry again = *fw;

	if (now_ns - fw->since_ns + FORKS_WAIT_NS > FORKS_WAIT_MAX_NS ||
	    procfs_read_stat(ROOT, fw->pid, &st) || (st.state != 'R' && st.state != 'D'))
		return 0;
	again.due_ns = now_ns + FORKS_WAIT_NS;
	return pidq_put(&t->forks, again) == 0;
}

static void on_exec_event(struct tracker *t, struct tproc *tp, int pid)
{
	struct pidq_entry fw = {pid, 0, 0, 0};

	if (tp)
		rejudge(t, tp);
	else if (pidq_take(&t->forks, pid, &fw))
		judge_fork(t, &fw);
	else
		judge(t, pid, 1);
}

static void on_exit_event(struct tracker *t, struct tproc *tp, const struct discover_event *ev)
{
	struct pidq_entry fw;

	if (tp)
		untrack_status(t, tp, ticker_now_real_s(), ev->status);
	else if (pidq_take(&t->forks, ev->pid, &fw) && fw.arg)
		t->unseen++; /* ended while it waited for an exec */
	idmap_del(&t->rejected, ev->pid);
}

void tracker_events(struct tracker *t)
{
	struct discover_event ev[256];
	int n;

	while ((n = discover_events_read(t->events_fd, ev, 256)) > 0) {
		for (int i = 0; i < n; i++) {
			struct tproc *tp = tp_of(t, ev[i].pid);

			switch (ev[i].type) {
			case DISCOVER_FORK:
				/* A new process under a pid still tracked: the
				 * old one ended unseen. */
				if (tp)
					untrack(t, tp, ticker_now_real_s());
				on_fork_event(t, &ev[i]);
				break;
			case DISCOVER_EXEC:
				on_exec_event(t, tp, ev[i].pid);
				break;
			case DISCOVER_EXIT:
				on_exit_event(t, tp, &ev[i]);
				break;
			}
		}
		if (n < 256)
			break;
	}
	if (n == -ENOBUFS) {
		log_warning("proc connector overflowed: scanning /proc");
		tracker_scan(t);
	}
}

static void sample_group(struct tracker *t, struct group *g, int64_t tick, int64_t now_ns)
{
	size_t n, count = sampler_count(g->sm), alive = sampler_alive(g->sm);

	if (count > t->rd_cap) {
		size_t cap = count * 2;
		struct sampler_reading *rd = realloc(t->rd, cap * sizeof *rd);
		struct store_sample *sb = realloc(t->sb, cap * sizeof *sb);

		if (rd)
			t->rd = rd;
		if (sb)
			t->sb = sb;
		if (!rd || !sb)
			return;
		t->rd_cap = cap;
	}
	n = sampler_tick(g->sm, tick, now_ns, t->rd);
	for (size_t i = 0; i < n; i++) {
		struct sampler_reading *r = &t->rd[i];

		t->sb[i] = sample_of(r, tick);
		if (t->mx) {
			struct tproc *tp = tp_of(t, r->proc->pid);

			if (tp && tp->sp == r->proc)
				export_reading(t, tp, r);
		}
	}
	writer_push_samples(t->w, t->sb, n);
	/* Processes found gone in this tick end here, or, with the proc
	 * connector, when their exit event comes (it tells how they ended),
	 * which the kernel sends only after it made them zombies. */
	if (n < alive)
		for (size_t i = 0; i < sampler_count(g->sm); i++) {
			struct sampler_proc *sp = sampler_get(g->sm, i);
			struct tproc *tp;

			if (sp->alive || sp->end_reported)
				continue;
			tp = tp_of(t, sp->pid);
			if (tp && tp->sp == sp && t->events_fd >= 0) {
				if (!tp->gone_ns) {
					tp->gone_ns = now_ns;
					t->waiting++;
				}
			} else if (tp && tp->sp == sp) {
				untrack(t, tp, ticker_now_real_s());
			} else {
				sp->end_reported = 1;
			}
		}
	/* Entries ended here or by events are freed now, not at the next
	 * scan, which with events comes only every minute. */
	if (sampler_count(g->sm) > sampler_alive(g->sm))
		sampler_forget(g->sm);
}

/* Ends the processes gone for longer than EXIT_WAIT_NS whose exit event
 * never came (a connector that overflowed): how they ended is unknown. */
#define EXIT_WAIT_NS (1000 * 1000 * 1000LL)
static void end_waiting(struct tracker *t, int64_t now_ns)
{
	size_t i = 0, n = 0;
	int64_t k, v;
	struct tproc *late[64];

	/* After a stall, the events may be there unread: they come first. */
	tracker_events(t);
	while (t->waiting && n < 64 && idmap_next(&t->procs, &i, &k, &v)) {
		struct tproc *tp = (struct tproc *)(intptr_t)v;

		if (tp->gone_ns && now_ns - tp->gone_ns >= EXIT_WAIT_NS)
			late[n++] = tp;
	}
	for (i = 0; i < n; i++)
		untrack(t, late[i], ticker_now_real_s());
}

/* A process found a moment ago, read again (daemon.h, YOUNG_NS) until it
 * is YOUNG_FOR_NS old. */
static void read_young(struct tracker *t, struct pidq_entry *e, int64_t tick, int64_t now_ns)
{
	struct tproc *tp = tp_of(t, e->pid);
	int64_t next = ticker_next_on_grid(t->t0_ns, now_ns, YOUNG_NS);

	if (!tp)
		return; /* ended since */
	read_now(t, tp, tick, now_ns);
	if (next - e->since_ns < YOUNG_FOR_NS)
		pidq_put(&t->young, (struct pidq_entry){e->pid, 0, next, e->since_ns});
}

void tracker_tick(struct tracker *t, int64_t now_ns)
{
	int64_t tick = tick_now(t, now_ns);
	struct pidq_entry fw;

	if (t->stacks)
		dstacks_retry(t->stacks);
	if (t->waiting)
		end_waiting(t, now_ns);
	while (pidq_due(&t->forks, now_ns, &fw))
		if (!waits_again(t, &fw, now_ns))
			judge_fork(t, &fw);
	while (pidq_due(&t->young, now_ns, &fw))
		read_young(t, &fw, tick, now_ns);
	for (size_t i = 0; i < t->ngroups; i++) {
		struct group *g = t->groups[i];

		if (tick < g->next_due)
			continue;
		/* A late wake-up samples now, at the tick it is, rather than
		 * pretend it was on time; the next one is back on the grid.
		 * The grid points passed over are samples missed, counted. */
		t->missed += (uint64_t)((tick - g->next_due) / g->period) *
			     sampler_alive(g->sm);
		sample_group(t, g, tick, now_ns);
		g->next_due = (tick / g->period + 1) * g->period;
	}
}

int64_t tracker_next_due(const struct tracker *t)
{
	int64_t due = INT64_MAX, forks = pidq_next_due(&t->forks);
	int64_t young = pidq_next_due(&t->young);

	for (size_t i = 0; i < t->ngroups; i++)
		if (sampler_alive(t->groups[i]->sm) && t->groups[i]->next_due < due)
			due = t->groups[i]->next_due;
	due = due == INT64_MAX ? INT64_MAX : t->t0_ns + due * CONFIG_TICK_NS;
	if (young < forks)
		forks = young;
	return forks < due ? forks : due;
}

/* At most this many markers per wake-up: a flood never holds up a tick. */
#define MARKS_PER_WAKE 256

/* What markers may cost, per sending process, per user and for all of
 * them: a program marking every function call of a busy loop, or one
 * sending 3000-byte labels as fast as it can, gets its burst and then this
 * rate; a user starting many such programs, four times that; the rest is
 * dropped and counted.  A day at the per-process rate is at most 2.6 GiB of
 * labels, at the total rate 21 GiB: retention and the logged drops are the
 * remaining defence. */
static const struct budget_rate per_sender = {
	.msgs_per_s = 100, .burst_msgs = 1000,
	.bytes_per_s = 32 << 10, .burst_bytes = 256 << 10,
};
static const struct budget_rate per_user = {
	.msgs_per_s = 400, .burst_msgs = 4000,
	.bytes_per_s = 128 << 10, .burst_bytes = 1 << 20,
};
static const struct budget_rate all_senders = {
	.msgs_per_s = 1000, .burst_msgs = 5000,
	.bytes_per_s = 256 << 10, .burst_bytes = 1 << 20,
};

/* The budget of a user's processes together (one user starting many
 * senders gets no more than this); NULL without memory.  Users are few:
 * one entry each, kept while memtided runs. */
static struct budget *user_budget(struct tracker *t, uid_t uid)
{
	struct budget *v;
	int64_t i;

	if (idmap_get(&t->uid_marks, (int64_t)uid + 1, &i))
		return &t->ub[i];
	if (!(v = realloc(t->ub, (t->nub + 1) * sizeof *v)))
		return NULL;
	t->ub = v;
	t->ub[t->nub] = (struct budget){0};
	if (idmap_put(&t->uid_marks, (int64_t)uid + 1, (int64_t)t->nub))
		return NULL;
	return &t->ub[t->nub++];
}

static void drop_mark(struct tracker *t, const struct marksock_event *ev)
{
	t->marks_dropped++;
	t->dropper_pid = (int)ev->pid;
	t->dropper_uid = ev->uid == (uid_t)-1 ? -1 : (long)ev->uid;
}

int tracker_marks(struct tracker *t, struct marksock *ms)
{
	struct marksock_event ev;
	int64_t now = ticker_now_mono();
	uint64_t dropped = t->marks_dropped;
	int rc, n = 0;

	while (n++ < MARKS_PER_WAKE && (rc = marksock_recv(ms, &ev)) == 1) {
		struct wmsg m = {.type = W_MARK};
		struct tproc *tp = tp_of(t, ev.pid);
		struct budget *ub;
		size_t len = strlen(ev.label) + (ev.outcome ? strlen(ev.outcome) : 0) + 64;

		/* Only the processes memtided records may mark its history:
		 * anyone may write to the socket.  The sender is who the
		 * kernel says it is. */
		if (!tp) {
			log_debug("marker from untracked process %d ignored", (int)ev.pid);
			continue;
		}
		if (!budget_take(&tp->marks, &per_sender, now, len) ||
		    !(ub = user_budget(t, ev.uid)) || !budget_take(ub, &per_user, now, len) ||
		    !budget_take(&t->marks, &all_senders, now, len)) {
			drop_mark(t, &ev);
			continue;
		}
		m.u.mark = ev;
		/* label and outcome point into the socket's buffer, which the
		 * next receive reuses. */
		m.u.mark.outcome = ev.outcome ? strdup(ev.outcome) : NULL;
		if (!(m.u.mark.label = strdup(ev.label))) {
			free((char *)m.u.mark.outcome);
			drop_mark(t, &ev);
			continue;
		}
		if (writer_push_mark(t->w, &m)) {
			free((char *)m.u.mark.label);
			free((char *)m.u.mark.outcome);
			drop_mark(t, &ev);
		}
	}
	return (int)(t->marks_dropped - dropped);
}

uint64_t tracker_marks_dropped(const struct tracker *t)
{
	return t->marks_dropped;
}

void tracker_marks_dropper(const struct tracker *t, int *pid, long *uid)
{
	*pid = t->dropper_pid;
	*uid = t->dropper_uid;
}

/* Reads the memory limits of every tracked process again and queues the
 * changes: a limit may be set, raised or lifted while a process lives. */
static void tracker_read_limits(struct tracker *t)
{
	size_t i = 0;
	int64_t k, v;

	while (idmap_next(&t->procs, &i, &k, &v)) {
		struct tproc *tp = (struct tproc *)(intptr_t)v;
		struct wmsg m = {.type = W_CGROUP};

		if (!service_refresh(&tp->sv))
			continue;
		m.u.cg.local = tp->sp->id;
		m.u.cg.limit = tp->sv.limit;
		m.u.cg.high = tp->sv.high;
		m.u.cg.t = ticker_now_real_s();
		writer_push(t->w, &m);
	}
}

void tracker_read_hwm(struct tracker *t)
{
	for (size_t i = 0; i < t->ngroups; i++) {
		struct sampler *sm = t->groups[i]->sm;

		sampler_read_hwm(sm);
		for (size_t j = 0; j < sampler_count(sm); j++) {
			struct sampler_proc *sp = sampler_get(sm, j);
			struct wmsg m = {.type = W_HWM};
			struct tproc *tp;

			if (!sp->alive || sp->hwm_kib <= 0)
				continue;
			/* Only a new high is written: an idle process's VmHWM
			 * stays put, and 1000 UPDATEs a minute would not. */
			tp = tp_of(t, sp->pid);
			if (tp && tp->sp == sp) {
				if (sp->hwm_kib <= tp->hwm_sent_kib)
					continue;
				tp->hwm_sent_kib = sp->hwm_kib;
			}
			m.u.hwm.local = sp->id;
			m.u.hwm.bytes = sp->hwm_kib * 1024;
			writer_push(t->w, &m);
		}
	}
	tracker_read_limits(t);
}

void tracker_end_all(struct tracker *t, double ended)
{
	struct tproc **v = malloc((t->tracked + 1) * sizeof *v);
	size_t i = 0, n = 0;
	int64_t k, val;

	/* untrack() changes the map: collect first, where restarting the walk
	 * after each removal would be quadratic in the processes tracked. */
	if (v) {
		while (idmap_next(&t->procs, &i, &k, &val))
			v[n++] = (struct tproc *)(intptr_t)val;
		for (i = 0; i < n; i++)
			untrack(t, v[i], ended);
		free(v);
	}
	i = 0;
	while (idmap_next(&t->procs, &i, &k, &val)) {
		untrack(t, (struct tproc *)(intptr_t)val, ended);
		i = 0;
	}
}
