/* daemon.h - memtided's parts: logging, sd_notify, the writer thread and
 * the tracker (discovery, rules, sampling) that main.c drives.
 *
 * Two threads: the main thread discovers and samples on 10 ms base ticks
 * and never touches the database; the writer thread owns the store and
 * drains a bounded queue of samples and process records into it.
 */
#ifndef MEMTIDED_DAEMON_H
#define MEMTIDED_DAEMON_H

#include <stddef.h>
#include <stdint.h>

#include "memtide/config.h"
#include "memtide/marksock.h"
#include "memtide/store.h"

/* ---- log.c: one function, stderr, levels of config.h. */
void log_set_level(int level);
int log_enabled(int level);
void dlog(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define log_error(...) dlog(CONFIG_LOG_ERROR, __VA_ARGS__)
#define log_warning(...) dlog(CONFIG_LOG_WARNING, __VA_ARGS__)
#define log_notice(...) dlog(CONFIG_LOG_NOTICE, __VA_ARGS__)
#define log_info(...) dlog(CONFIG_LOG_INFO, __VA_ARGS__)
#define log_debug(...) dlog(CONFIG_LOG_DEBUG, __VA_ARGS__)

/* ---- notify.c: the sd_notify protocol, written directly: one datagram to
 * $NOTIFY_SOCKET ('@' = abstract namespace).  A no-op without it. */
void notify(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The watchdog period to ping at (half of $WATCHDOG_USEC), ns; 0: none. */
int64_t notify_watchdog_ns(void);

/* ---- writer.c */
enum wmsg_type { W_SAMPLE, W_PROC, W_END, W_META, W_HWM, W_MARK, W_EXIT, W_CGROUP };

/* A process record; the strings of p are malloc'd and owned by the message.
 * local / parent_local: the main thread's ids, mapped to proc.id by the
 * writer (the database assigns those, and sampling never waits for it). */
struct wproc {
	struct store_proc p;
	int64_t local, parent_local;
};

struct wmsg {
	enum wmsg_type type;
	union {
		struct store_sample s; /* s.proc is a local id */
		struct wproc *proc;
		struct {
			int64_t local, last_tick;
			double ended;
		} end;
		struct {
			int64_t local;
			char *exe, *argv;
			size_t argv_len;
		} meta;
		struct {
			int64_t local, bytes;
		} hwm;
		struct marksock_event mark; /* .label malloc'd, owned */
		struct {
			int64_t local;
			int pid, status, oom; /* status: wait status; oom 0/1 */
			double t;             /* Unix seconds */
		} exit;
		struct {
			int64_t local, limit, high; /* bytes, 0 none */
			double t;
			/* first: a process just tracked, with its cgroup and
			 * group (malloc'd, may be NULL); else a limit changed */
			int first;
			char *cgroup, *group;
		} cg;
	} u;
};

struct writer_stats {
	uint64_t written, dropped, queued;
	int failing;
};

struct writer;
/* Starts the writer thread on an open store and run.  max_queued: samples
 * held while the database cannot take them; more are dropped (counted). */
int writer_start(struct store *st, int64_t run, size_t max_queued, struct writer **out);
/* Queues n samples; never blocks on the database.  Returns how many were
 * dropped because the queue was full. */
size_t writer_push_samples(struct writer *w, const struct store_sample *v, size_t n);
/* Queues a process record, end, exec or high-water mark: never dropped. */
void writer_push(struct writer *w, const struct wmsg *m);
/* Queues a W_MARK, which counts against max_queued and may fill only a
 * small share of it.  Returns 0, or -ENOBUFS (full: the caller still owns
 * m's label and counts the drop). */
int writer_push_mark(struct writer *w, const struct wmsg *m);
/* Where W_MARK records go: the spans begun through ms are remembered in it.
 * The writer only calls marksock_store(), the main thread only
 * marksock_recv(): they touch different parts of ms. */
void writer_set_marksock(struct writer *w, struct marksock *ms);
/* Where the charges of Python stacks come from (rules with stacks = yes),
 * keyed by local ids: written with every round.  NULL: none. */
struct stackwatch;
void writer_set_stackwatch(struct writer *w, struct stackwatch *sw);
/* Retention settings (ns; 0: keep everything), applied from the next round. */
void writer_retention(struct writer *w, int64_t raw_ns, int64_t rollup_ns);
void writer_get_stats(struct writer *w, struct writer_stats *s);
/* Flushes what is queued (trying until deadline, CLOCK_MONOTONIC ns), ends
 * the run at Unix time ended, joins the thread and frees the writer.
 * Returns the samples that could not be written. */
uint64_t writer_stop(struct writer *w, int64_t deadline_ns, double ended);

/* ---- markers.c: binds the marker socket at path (see there for the
 * checks).  Returns 0 and *out, or -errno with a one-line reason in err. */
int markers_open(const char *path, struct marksock **out, char *err, size_t len);

/* ---- export.c: the metrics page (Prometheus), when configured. */
struct exporter;
/* Creates the process table and serves it on addr (HOST:PORT).  Returns 0,
 * or -errno (-EADDRINUSE...) with nothing left running. */
int exporter_start(const char *addr, struct exporter **out);
/* The process table the tracker keeps up to date; NULL for e NULL. */
struct metrics *exporter_metrics(struct exporter *e);
int exporter_port(const struct exporter *e);
/* Renders the page now and makes it the one served. */
void exporter_publish(struct exporter *e, struct writer *w, uint64_t missed,
		      uint64_t unseen, uint64_t marks_dropped);
/* Whether what the page shows changed since it was rendered (a process
 * came, went or was read anew; CPU counters aside). */
int exporter_stale(const struct exporter *e);
void exporter_stop(struct exporter *e);

/* ---- service.c: a tracked process as part of a service. */
struct rules_facts;
struct service {
	char *cgroup;     /* its cgroup path (cgroup.h), NULL unknown */
	int v1;           /* the path is the v1 memory controller's */
	int64_t limit, high; /* bytes, 0 none: the lowest on its path */
	int64_t oom_base; /* its cgroup's OOM kills when first seen, -1 unknown */
	char *group;      /* its metrics group */
};
/* What a group template may name beyond the rules' facts (NULL unknown). */
struct service_facts {
	const char *name, *script, *module;
};
/* Reads the cgroup, limits and OOM counter of f->pid and names its group
 * (the rule's group = template, else its name; when the template names
 * only unknown facts, the parent's group if any, else the rule's name).
 * parent: the tracked parent it was forked from (its cgroup is the
 * child's), or NULL.  0 or -ENOMEM. */
int service_read(struct service *sv, const struct config_rule *rule,
		 const struct rules_facts *f, const struct service_facts *sf,
		 const struct service *parent);
/* Reads pid's cgroup again (after an exec: a process may move itself, then
 * exec): 1 when it moved (sv has its new cgroup, limits and OOM baseline),
 * 0 not, or -ENOMEM. */
int service_moved(struct service *sv, int pid);
/* Names the group again (after an exec): 1 when it changed, 0 not, or
 * -ENOMEM. */
int service_regroup(struct service *sv, const struct config_rule *rule,
		    const struct rules_facts *f, const struct service_facts *sf);
void service_free(struct service *sv);
/* Reads the limits again: 1 when they changed (sv has the new ones). */
int service_refresh(struct service *sv);
/* How a process with wait status status (-1 unknown) ended: a
 * METRICS_HOW_* value, or -1 unknown.  A SIGKILL is an OOM kill when its
 * cgroup's OOM-kill counter rose since sv was read. */
int service_how(struct service *sv, int status);

/* Processes waiting for a moment to come (daemon/pidq.c): a pid, an int
 * for the caller, and when it is due (monotonic ns). */
#define PIDQ_MAX 4096 /* waiting at once; past it pidq_put() refuses */
struct pidq_entry {
	int pid;
	int arg;
	int64_t due_ns;
	int64_t since_ns; /* when it was first queued */
};
struct pidq {
	struct pidq_entry *v;
	size_t n, cap;
};
/* Queues e.  Returns 0, or -ENOMEM / -ENOSPC (full). */
int pidq_put(struct pidq *q, struct pidq_entry e);
/* Takes pid out of the queue: 1 with its entry in *out, 0 when not there. */
int pidq_take(struct pidq *q, int pid, struct pidq_entry *out);
/* Takes an entry due at now_ns: 1, or 0 when none is. */
int pidq_due(struct pidq *q, int64_t now_ns, struct pidq_entry *out);
/* When the first entry is due; INT64_MAX when none waits. */
int64_t pidq_next_due(const struct pidq *q);
void pidq_free(struct pidq *q);

/* A fork is nearly always followed by an exec (subprocess, a shell,
 * os.fork then os.execv): judged at the fork, the child would be read
 * twice, once as a copy of its parent and again as what it execs, and a
 * helper a service runs would leave a series as the service's copy.  So a
 * fork waits FORKS_WAIT_NS for its exec, and is judged then, or at the end
 * of the wait if none came (a fork that stays a copy: multiprocessing,
 * gunicorn's workers).  Python's os.fork() takes 3.5-5 ms from the fork to
 * the child running here; a child living 20 ms is still read at 10.  On a
 * starved CPU a child can wait longer than that for its turn: one still
 * running (R) or in a page fault (D) at the end of its wait, rather than
 * settled asleep, waits again, up to FORKS_WAIT_MAX_NS in all (with one CPU
 * hog beside them, 35 % of the helpers in test_daemon.py had outlived a
 * single wait). */
#define FORKS_WAIT_NS (10 * 1000 * 1000LL)
#define FORKS_WAIT_MAX_NS (100 * 1000 * 1000LL)
/* A process found by an event (its fork or exec) is read at once, and
 * again at every point of the YOUNG_NS grid (since tick 0) in its first
 * YOUNG_FOR_NS, whatever its interval: found at its exec, a worker has not
 * loaded anything yet, and a group's sum would count it at its first
 * megabyte for a whole interval.  The metrics page is made again on the
 * same grid after a change (main.c), right after these reads, so a page
 * holds no reading of a process younger than YOUNG_FOR_NS older than
 * itself: read at +100 and +300 ms only, workers of bench g that had grown
 * to 25 MiB were on the page at 0-12 MiB, 1.7 % under /proc in all.  One a
 * scan finds has run a while: its samples stay on its interval's grid. */
#define YOUNG_NS (100 * 1000 * 1000LL)
#define YOUNG_FOR_NS (1000 * 1000 * 1000LL)

/* ---- track.c */
struct tracker;
int tracker_new(const struct config *cfg, struct writer *w, int64_t t0_ns,
		struct tracker **out);
/* Stops reading stacks (before the writer's last round). */
void tracker_stop_stacks(struct tracker *t);
void tracker_free(struct tracker *t);
/* Keeps the metrics page mx (owned by the caller; NULL: none) up to date
 * with every reading. */
struct metrics;
void tracker_set_metrics(struct tracker *t, struct metrics *mx);
/* Swaps in a new config (the caller keeps ownership of both) and judges
 * every tracked process again. */
void tracker_reload(struct tracker *t, const struct config *cfg);
/* Judges every process of /proc. */
void tracker_scan(struct tracker *t);
/* Subscribes to the proc connector; returns its fd or -errno. */
int tracker_events_open(struct tracker *t);
/* Handles pending proc connector events. */
void tracker_events(struct tracker *t);
/* Samples the groups due at monotonic time now_ns. */
void tracker_tick(struct tracker *t, int64_t now_ns);
/* The monotonic time the next group is due, ns. */
int64_t tracker_next_due(const struct tracker *t);
/* Receives the queued markers of ms (without blocking) and queues those
 * of tracked processes for the database, each within its sender's budget;
 * others are ignored.  Returns how many it dropped over a budget. */
int tracker_marks(struct tracker *t, struct marksock *ms);
/* Markers of tracked processes dropped: over their sender's budget, or the
 * queue's share for markers full. */
uint64_t tracker_marks_dropped(const struct tracker *t);
/* The process (kernel pid) and uid of the last such drop. */
void tracker_marks_dropper(const struct tracker *t, int *pid, long *uid);
/* Reads VmHWM of every tracked process and queues the new highs. */
void tracker_read_hwm(struct tracker *t);
/* Ends every tracked process at Unix time ended (shutdown). */
void tracker_end_all(struct tracker *t, double ended);
size_t tracker_count(const struct tracker *t);
/* Samples given up because memtided woke up later than a whole interval
 * (a busy machine): the sample is taken late instead, once. */
uint64_t tracker_missed(const struct tracker *t);
/* Children of tracked processes (children = yes) that ended before memtided
 * could read them: a fork event came, /proc had nothing left. */
uint64_t tracker_unseen(const struct tracker *t);

#endif
