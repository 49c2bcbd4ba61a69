/* metrics.h - the Prometheus text exposition (format 0.0.4) of memtided.
 *
 * The caller (memtided's sampling loop) keeps a struct metrics up to date:
 * metrics_set() for each process after each reading, metrics_end() when one
 * ends; then, as often as it wants the page refreshed, metrics_render()
 * writes the whole page into a buffer it hands to the HTTP server (httpd.h).
 * Rendering is the only costly part and runs on the caller's thread; the
 * server never touches this object.
 *
 * The page holds, per group of processes (a [track] rule's group = template,
 * else the rule's name), labelled group, whatever its members do:
 *   memtide_group_processes                    gauge, live members
 *   memtide_group_resident_memory_bytes        gauge, bytes, sum over live members
 *   memtide_group_pss_bytes                    gauge, bytes (only where read)
 *   memtide_group_memory_limit_bytes           gauge, bytes: the highest limit
 *       over a live member, only where one is set
 *   memtide_group_cpu_seconds_total            counter, seconds: ended members'
 *       last reading stays in, so it only grows however workers churn
 *   memtide_group_oom_kills_total              counter
 *   memtide_group_exits_total{how}             counter, how = exit (it exited),
 *       signal (killed by one), oom (killed by the OOM killer)
 * A sum over groups never counts an ended process, and the number of series
 * grows with groups, never with churn.
 *
 * When per-process series are on (metrics_per_process(); memtided's
 * per_process_metrics), also, per tracked process, labelled rule, pid, name
 * and, when known, script, module and unit:
 *   memtide_process_resident_memory_bytes      gauge, bytes
 *   memtide_process_pss_bytes                  gauge, bytes (only where read)
 *   memtide_process_memory_limit_bytes         gauge, bytes: the lowest cgroup
 *       memory.max over the process (a unit's MemoryMax=), only where set
 *   memtide_process_cpu_seconds_total          counter, seconds (user+system)
 *   memtide_process_threads                    gauge
 *   memtide_process_start_time_seconds         gauge, Unix seconds
 * memtided's own process (read from /proc/self at each render), named as the
 * Prometheus client libraries name them:
 *   process_cpu_seconds_total, process_resident_memory_bytes,
 *   process_virtual_memory_bytes, process_start_time_seconds,
 *   process_open_fds, process_max_fds
 * and memtide_samples_taken_total, memtide_samples_written_total,
 * memtide_samples_dropped_total, memtide_samples_missed_total,
 * memtide_processes_unseen_total, memtide_markers_dropped_total,
 * memtide_metrics_clients_evicted_total (counters),
 * memtide_tracked_processes (gauge, live processes).
 *
 * An ended process stays on the page, with its last values, for the grace
 * period given to metrics_new() (memtided: 0, gone from the next page),
 * then is dropped.  A new process with the pid of an earlier one replaces
 * it at once: two series never share a pid.  Every label value is at most
 * METRICS_LABEL_MAX bytes, printable (control characters become spaces),
 * cut with an ellipsis.
 *
 * Functions return 0 or -errno (-ENOMEM), never print.
 */
#ifndef MEMTIDE_METRICS_H
#define MEMTIDE_METRICS_H

#include <stddef.h>
#include <stdint.h>

/* The grace period memtided uses: an ended process leaves the page at
 * once, so no sum over its series ever counts the dead. */
#define MEMTIDE_METRICS_GRACE_S 0.0

#define METRICS_LABEL_MAX 128   /* bytes of a label value, before escaping */
#define METRICS_MAX_GROUPS 1024 /* more group names share the next one */
#define METRICS_OVERFLOW_GROUP "(other groups)"

/* How a process ended, for memtide_group_exits_total{how}. */
enum metrics_how {
	METRICS_HOW_EXIT,   /* exit(): an exit status */
	METRICS_HOW_SIGNAL, /* killed by a signal */
	METRICS_HOW_OOM,    /* killed by the kernel's OOM killer */
	METRICS_NHOW
};

/* One process as the caller last read it.  Strings may be NULL (label
 * left out; name and rule are then empty); they are copied. */
struct metrics_proc {
	int pid;
	uint64_t start_ticks; /* with pid, the process's identity */
	const char *rule, *name, *script, *module, *unit;
	const char *group; /* NULL: rule */
	int64_t rss_bytes;
	int64_t pss_bytes;  /* -1 when not read */
	int64_t limit_bytes; /* cgroup memory limit, <= 0 when none */
	double cpu_seconds; /* user + system, since the process started */
	int threads;
	double start_time; /* Unix seconds */
};

/* memtided's counters since it started. */
struct metrics_counters {
	uint64_t samples_taken, samples_written, samples_dropped;
	uint64_t samples_missed; /* memtided too late to take them */
	uint64_t processes_unseen; /* children gone before they could be read */
	uint64_t markers_dropped;  /* over their sender's budget */
	uint64_t clients_evicted;  /* metrics connections evicted (httpd.h) */
};

struct metrics;

/* Creates an empty set; ended processes stay grace_s seconds.  Returns 0 or
 * -ENOMEM. */
int metrics_new(double grace_s, struct metrics **out);
void metrics_free(struct metrics *m);

/* Adds the process (pid, start_ticks) or updates its values and labels.
 * An entry with the same pid and another start (a reused pid) is dropped. */
int metrics_set(struct metrics *m, const struct metrics_proc *p);

/* Per-process series on (1, the default) or off (0): groups only. */
void metrics_per_process(struct metrics *m, int on);

/* Marks the process ended at Unix time now (seconds), how as enum
 * metrics_how (or -1: it left its rule, or how is unknown): its group keeps
 * its CPU time and counts the exit.  Unknown ones are ignored. */
void metrics_exit(struct metrics *m, int pid, uint64_t start_ticks, double now,
		  int how);
/* metrics_exit() with how -1. */
void metrics_end(struct metrics *m, int pid, uint64_t start_ticks, double now);

/* Live plus ended-within-grace entries. */
size_t metrics_count(const struct metrics *m);

/* A count of the changes to what the page shows: a process added, moved to
 * another group, ended, or its memory, limit or threads changed (CPU time
 * alone is not counted).  The same count as at a render: that page is
 * still true but for CPU counters. */
uint64_t metrics_changes(const struct metrics *m);

/* Drops the entries ended more than the grace period before now (Unix
 * seconds), then writes the page: *out receives a malloc'd buffer (the
 * caller frees it, or hands it to httpd_publish()) of *len bytes, also
 * NUL-terminated.  Returns 0 or -ENOMEM. */
int metrics_render(struct metrics *m, const struct metrics_counters *c,
		   double now, char **out, size_t *len);

/* A label value bounded as above, then escaped as metrics_escape() does.
 * Returns a malloc'd string, or NULL (ENOMEM). */
char *metrics_label(const char *s);

/* A label value as the text format wants it: backslash, double quote and
 * newline escaped (\\ \" \n), invalid UTF-8 replaced by U+FFFD.  Returns a
 * malloc'd string, or NULL (ENOMEM). */
char *metrics_escape(const char *s);

#endif
