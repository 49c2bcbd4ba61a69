/* sampler.h - the set of tracked processes and one tick of readings.
 *
 * A process is (pid, start_ticks): a pid reused by a new process is a new
 * entry, never the old series continued.  The per-tick path reads kept-open
 * files (procfs.h); libproc2 serves discovery: the children scans of -C,
 * (pid, parent, start time) of every process.  exe and argv are read from
 * /proc/PID/exe and cmdline directly, exact bytes and no library mapped.
 *
 * The sampler knows nothing of the store: the caller gives each new entry its
 * proc.id, and is told of entries that ended.
 */
#ifndef MEMTIDE_SAMPLER_H
#define MEMTIDE_SAMPLER_H

#include <stddef.h>
#include <stdint.h>

#include "memtide/procfs.h"

enum sampler_backend {
	SAMPLER_RSS,
	SAMPLER_PSS, /* also reads smaps_rollup (PSS, USS, swap) */
	SAMPLER_USS,
};

struct sampler_proc {
	int pid, ppid;
	uint64_t start_ticks; /* /proc/PID/stat field 22 */
	double started;       /* Unix seconds */
	char *exe;            /* malloc'd, or NULL when unreadable */
	char *argv;           /* NUL-separated, malloc'd, or NULL */
	size_t argv_len;
	struct sampler_proc *parent; /* NULL for a root */

	int64_t id;       /* the caller's id (proc.id); 0 until the caller sets it */
	int meta_changed; /* exe/argv re-read after an exec; the caller clears it */
	int alive;        /* 0 once the process has ended */
	int end_reported; /* the caller sets it after recording the end */
	int64_t first_tick, last_tick; /* ticks it was sampled at; -1 before */
	int64_t rss_pages;  /* latest */
	int64_t peak_pages; /* highest sampled */
	int64_t hwm_kib;    /* highest VmHWM seen, -1 unknown */

	struct procfs_handle h;
	uint64_t last_cpu_ns;
	int64_t last_mono_ns;
	int64_t next_rollup_ns; /* smaps_rollup is read no sooner than this */
	int64_t next_hwm_ns;    /* status (VmHWM), as the peak rises: not before */
};

/* One reading, as handed to the caller. */
struct sampler_reading {
	struct sampler_proc *proc;
	int64_t rss_pages;
	int32_t cpu_pm; /* permille of one core since the reading before */
	int32_t threads;
	int64_t pss_kib, uss_kib, swap_kib; /* -1 when not read this tick */
};

struct sampler;

/* Creates a sampler over the /proc tree at root.  children: track every
 * descendant of a root too.  Returns 0 or -errno. */
int sampler_new(const char *root, int children, enum sampler_backend backend,
		struct sampler **out);
void sampler_free(struct sampler *s);

/* Tracks pid as a root (the command started, or the attached process).
 * Returns 0 and the entry, or -ESRCH when there is no such process, or
 * -EACCES. */
int sampler_add_root(struct sampler *s, int pid, struct sampler_proc **out);
/* The same with its exe and argv (NUL-separated, argv_len bytes) already
 * read by the caller (either may be NULL): copied, not read again. */
int sampler_add_known(struct sampler *s, int pid, const char *exe, const char *argv,
		      size_t argv_len, struct sampler_proc **out);

/* Treats processes whose parent is adopter as descendants too: memtide run
 * is a child subreaper, so orphaned grandchildren are reparented to it. */
void sampler_set_adopter(struct sampler *s, int pid);

/* Finds descendants of tracked processes that are not tracked yet (a libproc2
 * scan of the whole system) and tracks them.  Returns how many were added, or
 * -errno. */
int sampler_scan(struct sampler *s);

/* Reads every live process at monotonic time now_ns for tick.  Readings go to
 * out (room for sampler_count() entries); processes found gone are marked
 * !alive.  Returns the number of readings. */
size_t sampler_tick(struct sampler *s, int64_t tick, int64_t now_ns,
		    struct sampler_reading *out);

/* Reads one live process p of s at tick (a process just found, so that
 * even one that lives 20 ms has a sample).  Returns 1 with the reading in
 * out, or 0 when it is gone. */
int sampler_tick_one(struct sampler *s, struct sampler_proc *p, int64_t tick,
		     int64_t now_ns, struct sampler_reading *out);

/* Stops sampling p (it no longer matches what is tracked): it is !alive
 * from now on, as if it had ended. */
void sampler_end(struct sampler *s, struct sampler_proc *p);

/* Frees the entries that ended and whose end the caller reported
 * (end_reported), so a long-lived sampler does not grow with every process
 * it ever saw.  Their pointers become invalid.  Returns how many. */
size_t sampler_forget(struct sampler *s);

/* Re-reads exe and argv of live processes whose /proc/PID/exe changed since
 * (they exec'd: a pyenv shim becoming python, a wrapper becoming the
 * worker, or the same python running another script: argv compared too),
 * setting meta_changed.  Returns how many changed. */
int sampler_refresh_meta(struct sampler *s);

/* Re-reads VmHWM of every live process (costly: /proc/PID/status). */
void sampler_read_hwm(struct sampler *s);

/* Entries, live or ended (stable pointers until sampler_free). */
size_t sampler_count(const struct sampler *s);
struct sampler_proc *sampler_get(struct sampler *s, size_t i);
/* Live entries. */
size_t sampler_alive(const struct sampler *s);

#endif
