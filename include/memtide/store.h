/* store.h - the SQLite history: one file, runs, processes and samples.
 *
 * The schema (PRAGMA user_version = MEMTIDE_SCHEMA_VERSION):
 *
 *   run(id, kind, command, label, started, ended, interval, page_size, backend,
 *       samples, last_tick, peak_rss, kernel_peak_rss, exit_status, host, boot_id)
 *       started/ended: Unix seconds (real); interval: seconds between ticks;
 *       page_size: bytes per unit of sample.rss; peak_rss: pages, highest
 *       sampled total; kernel_peak_rss: bytes, the largest own kernel peak
 *       among its processes (proc.hwm), NULL unknown.
 *       kind: "run", "attach", "daemon" (one memtided session) or "import"
 *       (an mprof file; page_size 1, interval 0.00001 s: mprof's 0.0001 s
 *       steps times 10, the spare ticks keeping up to 5 samples of one
 *       series at one time apart, so times and MiB values come back
 *       exactly; cpu and threads 0; see cli/import.c).
 *       skipped (v4): ticks memtide run or attach woke up too late to
 *       sample (a busy machine), as of the last write; NULL for runs that
 *       do not count them (daemon, import, older files).
 *   proc(id, run, pid, ppid, parent, start_ticks, started, ended, first_tick,
 *        last_tick, exe, cmdline, argv, peak_rss, hwm,
 *        name, interpreter, script, module, venv, uid, unit, rule, interval)
 *       start_ticks: /proc/PID/stat field 22 (clock ticks since boot); with the
 *       run's boot_id it makes a process identity that survives pid reuse.
 *       cmdline: arguments joined by spaces, control and invalid UTF-8 bytes
 *       escaped; argv: the raw NUL-separated bytes.  peak_rss: pages, the
 *       highest sampled; hwm: bytes, its own kernel peak: the last VmHWM
 *       read while it lived, or wait4()'s ru_maxrss when that is provably
 *       its own (it waited for no child), never below its sampled peak and
 *       never a descendant's; NULL unknown.
 *       last_tick: the last tick sampled once the process ended; while it
 *       lives, at least the tick of its peak (written when the peak rises).
 *       (v2) name: what lists and charts call it ("gunicorn app:wsgi (venv
 *       myapp)"); interpreter/script/module/venv: its Python parts, NULL
 *       when not Python; uid; unit: its systemd unit; rule: the memtided
 *       [track] rule that matched; interval: seconds between its samples
 *       when not the run's (a daemon run ticks every 10 ms and samples each
 *       process every interval / run.interval ticks).
 *   sample(proc, tick, rss, cpu, threads)  WITHOUT ROWID, key (proc, tick)
 *       The sample's time is run.started + tick * run.interval: every process
 *       of a run is sampled on the same ticks, so the total of a run at a tick
 *       is a plain GROUP BY tick.  rss: pages of run.page_size bytes;
 *       cpu: permille of one core over the tick before (may exceed 1000).
 *       Small integers are what keeps a sample near 18 bytes on disk.
 *   sample_mem(proc, tick, pss, uss, swap)  WITHOUT ROWID, KiB, from
 *       smaps_rollup, only with --backend psutil_pss|psutil_uss.
 *   mark(id, run, label, start, end, level, pid, mem_start, mem_end)  (v2)
 *       A labelled moment or span: start/end Unix seconds (end NULL for a
 *       moment); level: nesting depth, 0 outermost (mprof FUNC stack
 *       level), -1 unknown; mem_*: bytes,
 *       the memory at its ends when known (mprof FUNC), else NULL.
 *   rollup(proc, minute, n, rss_min, rss_max, rss_mean, cpu_mean, cpu_max,
 *          threads_max, pss_min, pss_max, pss_mean, uss_mean, swap_max) (v2)
 *       WITHOUT ROWID, key (proc, minute): the n samples of one process in
 *       the minute starting at Unix time minute * 60.  rss_*: pages of
 *       run.page_size; cpu_*: permille; pss/uss/swap: KiB, NULL when not
 *       recorded.  memtided writes them before it drops raw samples older
 *       than its retention.
 *   sample_agg(proc, bucket, n, rss_min, rss_max, rss_mean, cpu_mean, cpu_max,
 *              threads_max, rss_first, rss_last)  (v3) WITHOUT ROWID, key
 *       (proc, bucket): the n
 *       samples of one process at ticks bucket * k to bucket * k + k - 1,
 *       k = store_agg_ticks(run.interval) (one second of ticks); units as
 *       sample.  memtide run, attach and import write them with the samples
 *       when k >= 4 (runs sampled every 0.25 s or faster), so a chart of
 *       hours reads one row a second instead of hundreds; memtided does not
 *       (its history has per-minute rollups).
 *   (v5) proc gains exit_code (exit status, NULL unless it exited),
 *       exit_signal (the signal that ended it, NULL unless killed),
 *       oom_killed (1 killed by the kernel's OOM killer, 0 not, NULL alive or
 *       unknown), memory_limit / memory_high (bytes, the lowest cgroup limit
 *       over it as last seen, NULL none), cgroup (its cgroup path), grp (its
 *       memtided group), includes_children (1 when this series' values
 *       already count its children, as the MEM lines of `mprof run -C`;
 *       a total never adds those children again), stacks (NULL: not asked;
 *       "CPython 3.X": stacks read; else why they could not be, one line),
 *       peak_stack (stack.id running at the sampled peak, NULL unknown).
 *   run (v5) gains recorder_pid and recorder_start (the pid and
 *       /proc/PID/stat start time, clock ticks since boot, of the process
 *       recording it, memtide or memtided): a run whose ended is NULL is
 *       being recorded while that process lives on run.host and
 *       run.boot_id (store_run_recording()); otherwise its recorder died.
 *   proc_limit(proc, t, memory_limit, memory_high)  (v5) WITHOUT ROWID: each
 *       change of a process's memory limit, t Unix seconds, bytes.
 *   mark (v5) gains uid (the sender's uid as the kernel reported it),
 *       mem_peak (bytes, the peak inside the span, NULL unknown) and
 *       outcome (free text, e.g. a test's "passed"/"failed").
 *   frame(id, function, file, line)  (v5) each Python code line once;
 *       unique (function, file, line).
 *   stack(id, parent, frame, depth)  (v5) a call stack as a chain: the
 *       innermost frame and the stack of its caller (parent 0: outermost);
 *       depth 1 for an outermost frame.  Unique (parent, frame).
 *   charge(proc, tick, stack, n, grown, released)  (v5) WITHOUT ROWID: the
 *       share of the RSS change between the sample before tick and the one
 *       at tick that was charged to stack (bytes, each >= 0), and n, how
 *       many stack samples saw that stack in the interval.
 *
 * The views are the stable interface for SQL users (times Unix seconds, sizes
 * bytes, cpu percent of one core):
 *   runs(run, started, ended, command, peak_rss, kernel_peak_rss, label, kind,
 *        interval, samples, exit_status, backend, skipped)
 *   processes(run, pid, ppid, command, started, ended, exe, peak_rss,
 *             kernel_peak_rss, proc, name, interpreter, script, module, venv,
 *             uid, unit, rule, interval)
 *   samples(run, pid, t, rss, cpu, threads, proc, tick)
 *   samples_mem(run, pid, t, pss, uss, swap, proc, tick)
 *   samples_minute(run, pid, t, n, rss_min, rss_max, rss_mean, cpu, cpu_max,
 *                  threads, pss_min, pss_max, pss_mean, uss_mean, swap_max,
 *                  proc, minute)   (t: start of the minute)
 *   marks(run, label, start, end, level, pid, mem_start, mem_end, mark,
 *         mem_peak, outcome, uid)
 *   (v5) processes also has exit_code, exit_signal, oom_killed, memory_limit,
 *        memory_high, cgroup, group_name, stacks;
 *   memory_limits(run, pid, t, memory_limit, memory_high, proc)
 *   stack_frames(stack, level, function, file, line)  (level 0 innermost)
 *   charges(run, pid, t, stack, function, file, line, n, grown, released,
 *           proc, tick)  (function/file/line: the innermost frame)
 *   growth_by_line(run, function, file, line, grown, released)      (self)
 *   growth_by_function(run, function, file, grown, released)        (self)
 *   growth_by_line_inclusive, growth_by_function_inclusive: the same,
 *        counting a line or function wherever it is on the stack (once)
 *   peak_stacks(run, pid, level, function, file, line, proc)
 *
 * Functions return 0 or -errno-like negative codes (MEMTIDE_E*), never print;
 * store_errmsg() gives the last SQLite message for the caller to print.
 * Frames, stacks and charges are written through stackstore.h (its own
 * prepared statements, inside the transactions begun here); where.h reads
 * them back.  store_run_delete() deletes a run's charges with it; frames
 * and stacks are shared by runs and stay.
 */
#ifndef MEMTIDE_STORE_H
#define MEMTIDE_STORE_H

#include <stddef.h>
#include <stdint.h>

#define MEMTIDE_SCHEMA_VERSION 5

/* Error codes beyond errno: the database is not a memtide/SQLite file, or is
 * from a newer memtide. */
#define MEMTIDE_ECORRUPT 10001
#define MEMTIDE_ENEWER 10002
#define MEMTIDE_EOLDER 10003

struct store;

enum store_mode {
	STORE_READ,   /* read only; the file must exist */
	STORE_WRITE,  /* create or migrate as needed (its directory must exist) */
	STORE_UPDATE, /* read and write (and migrate); the file must exist */
};

/* Ticks per sample_agg bucket for a run of this interval: one second's
 * worth, or 0 (no aggregates) when that is fewer than 4 samples. */
static inline int64_t store_agg_ticks(double interval)
{
	double k = interval > 0 ? 1.0 / interval : 0;

	return k >= 4 ? (int64_t)(k + 0.5) : 0;
}

/* One bucket of sample_agg being built: store_agg_add() the samples of a
 * process in tick order, then store_agg_put() the last bucket (each is
 * merged with a row already there). */
struct store_agg {
	int64_t proc, bucket, n;
	int64_t rss_min, rss_max, rss_sum, cpu_sum, cpu_max, threads_max;
	int64_t rss_first, rss_last;
};

/* One sample of one process, as the sampler hands it to the store. */
struct store_sample {
	int64_t proc;      /* proc.id */
	int64_t tick;      /* ticks since run.started */
	int64_t rss_pages; /* resident set, pages */
	int32_t cpu_pm;    /* permille of one core over the last tick */
	int32_t threads;
	int64_t pss_kib, uss_kib, swap_kib; /* -1 when not measured this tick */
};

/* The run being recorded. */
struct store_run {
	const char *kind; /* "run" or "attach" */
	const char *command;
	const char *label; /* NULL for none */
	double started;    /* Unix seconds of tick 0 */
	double interval;   /* seconds */
	long page_size;    /* bytes */
	const char *backend; /* "rss", "pss" or "uss" */
};

/* A process of a run as the sampler first saw it. */
struct store_proc {
	int64_t run;
	int pid, ppid;
	int64_t parent; /* proc.id of the parent in this run, 0 for none */
	uint64_t start_ticks;
	double started; /* Unix seconds */
	int64_t first_tick;
	const char *exe;     /* may be NULL */
	const char *argv;    /* NUL-separated, may be NULL */
	size_t argv_len;
	/* v2, all optional (NULL / 0 / -1 for unknown): */
	const char *name;    /* display name; NULL: the command line */
	const char *interpreter, *script, *module, *venv;
	long uid;            /* -1 for unknown */
	const char *unit;    /* systemd unit */
	const char *rule;    /* memtided rule */
	double interval;     /* seconds; 0: the run's */
};

/* A marker: a moment (end < 0) or a span of a run. */
struct store_mark {
	int64_t run;
	const char *label;
	double start, end; /* Unix seconds; end < 0 for none */
	int level;         /* nesting depth */
	int pid;           /* 0 for none */
	int64_t mem_start, mem_end; /* bytes, -1 for unknown */
};

/* The resolved database path: path if not NULL, else $MEMTIDE_DB, else
 * $XDG_DATA_HOME/memtide/memtide.db, else ~/.local/share/memtide/memtide.db.
 * Returns a malloc'd string, or NULL with errno set. */
char *store_default_path(const char *path);

/* Whether store_default_path(path) is the default of the XDG data
 * directory: no path given and no $MEMTIDE_DB.  Only that one's directory
 * is ever created (store_make_dir()); a path someone wrote down that names
 * a missing directory is a mistake to report. */
int store_path_is_default(const char *path);
/* Creates the missing directories above the file path, mode 0700 (the
 * history of what ran is not for other users).  Returns 0 or -errno. */
int store_make_dir(const char *path);

/* Opens (and in STORE_WRITE mode creates, and migrates) the database at
 * path; its directory must exist (-ENOENT, "its directory ... does not
 * exist").  STORE_READ migrates an older file too when
 * it may write to it, then reads it through a read-only connection; an older
 * file it may not write is refused (-MEMTIDE_EOLDER).  On failure returns a negative code and, when
 * *out is not NULL, a handle whose only use is store_errmsg() then
 * store_close(). */
int store_open(const char *path, enum store_mode mode, struct store **out);
void store_close(struct store *s);
/* The last error message (SQLite's or a description of a MEMTIDE_E* code). */
const char *store_errmsg(const struct store *s);
/* An SQLite result code as the negative codes above (0 for OK, DONE, ROW),
 * for the writers beside this file (stackstore.c). */
int store_sql_code(int rc);
/* The raw connection, for the read-only query paths (list, plot, query). */
struct sqlite3 *store_db(struct store *s);

/* Starts a run; *id receives run.id. */
int store_run_begin(struct store *s, const struct store_run *r, int64_t *id);
/* Adds a process; *id receives proc.id. */
int store_proc_add(struct store *s, const struct store_proc *p, int64_t *id);
/* Marks a process ended at Unix time ended (seconds) after last_tick. */
int store_proc_end(struct store *s, int64_t proc, double ended, int64_t last_tick);
/* Replaces a process's exe and argv (NUL-separated) after it exec'd. */
int store_proc_meta(struct store *s, int64_t proc, const char *exe,
		    const char *argv, size_t argv_len);
/* Records a kernel high-water mark (bytes) for a process; keeps the maximum.
 * A value no higher than the last one this store wrote for it writes
 * nothing (no row update, no transaction). */
int store_proc_hwm(struct store *s, int64_t proc, int64_t hwm_bytes);

/* (v5) How a process ended: status is a wait status (WIFEXITED: exit_code,
 * WIFSIGNALED: exit_signal; -1 unknown, both left NULL); oom_killed 1 when
 * the kernel's OOM killer ended it, 0 not, -1 unknown (NULL). */
int store_proc_exit(struct store *s, int64_t proc, int status, int oom_killed);
/* (v5) Records a process's cgroup path and memtided group (NULL: none). */
int store_proc_cgroup(struct store *s, int64_t proc, const char *cgroup,
		      const char *group);
/* (v5) Records the memory limit over a process from Unix time t on: a
 * proc_limit row, and proc.memory_limit / memory_high (bytes; <= 0: none,
 * NULL).  Callers record the first limit seen and each change. */
int store_proc_limit(struct store *s, int64_t proc, double t, int64_t limit,
		     int64_t high);

/* Adds a marker; *id (may be NULL) receives mark.id. */
int store_mark_add(struct store *s, const struct store_mark *m, int64_t *id);
/* Adds a sample of proc in bucket to a, first writing a's bucket when
 * this one is another (a new process, or the next bucket). */
int store_agg_add(struct store *s, struct store_agg *a, int64_t proc,
		  int64_t bucket, int64_t rss, int64_t cpu, int64_t threads);
/* Writes a's bucket, merged with the row already there, inside the
 * caller's transaction. */
int store_agg_put(struct store *s, const struct store_agg *a);
/* Sets the end (Unix seconds) and memory at the end (bytes, -1 unknown) of
 * a marker. */
int store_mark_end(struct store *s, int64_t mark, double end, int64_t mem_end);

/* Ends, at time end (Unix seconds), the latest marker of run with this
 * label that has no end yet and, when uid >= 0, that uid sent (a sender
 * may end only its own; uid < 0: any, for a caller who may write the
 * database anyway).  Returns 0, -ENOENT when there is none, or another
 * negative code. */
int store_mark_end_label(struct store *s, int64_t run, const char *label,
			 long long uid, double end);
/* Records the uid (as the kernel reported it) that sent a marker; uid < 0
 * leaves it unknown. */
int store_mark_uid(struct store *s, int64_t mark, long long uid);
/* Deletes at most max_rows markers (of any run) that started before cutoff
 * (Unix seconds): markers expire with the history they annotate.  Returns 0
 * and *deleted, or a negative code. */
int store_mark_expire(struct store *s, double cutoff, size_t max_rows,
		      size_t *deleted);
/* Sets a marker's peak (bytes, -1: leave it) and outcome (NULL: leave
 * it): what its sender measured and said at its end. */
int store_mark_outcome(struct store *s, int64_t mark, int64_t mem_peak,
		       const char *outcome);
/* Raises proc.hwm (bytes; the maximum is kept) of the latest process of run
 * with this pid: a marker's sender reports its VmHWM before resetting it. */
int store_pid_hwm(struct store *s, int64_t run, int pid, int64_t hwm_bytes);

/* Appends n samples in one transaction (or in the caller's, see
 * store_begin), updating the run's sample count, last tick, the
 * per-process and run peaks, and (for a run begun by store_run_begin() of
 * kind run or attach) their sample_agg buckets. */
int store_append(struct store *s, int64_t run, const struct store_sample *v,
		 size_t n);

/* One transaction around the calls that follow until store_commit():
 * a writer that adds, ends and appends in one commit, instead of one
 * commit (and WAL write) each.  store_commit() rolls back when it fails;
 * store_rollback() undoes the transaction after any error of a call in it. */
int store_begin(struct store *s);
int store_commit(struct store *s);
void store_rollback(struct store *s);

/* Records how many ticks of a run were skipped so far; in the caller's
 * transaction with the samples it accounts for. */
int store_run_skipped(struct store *s, int64_t run, int64_t skipped);

/* Ends a run: end time, exit status (-1 unknown), kernel peak (bytes, -1:
 * the largest proc.hwm of the run). */
int store_run_end(struct store *s, int64_t run, double ended, int exit_status,
		  int64_t kernel_peak);

/* Whether run is being recorded now: not ended, and its recorder (run.
 * recorder_pid, recorder_start) alive on this host and boot.  Returns 1, 0
 * (ended, or its recorder is gone: the run stays unfinished), or -errno. */
int store_run_recording(struct store *s, int64_t run);

/* Resolves a user's RUN argument: a number, "last"/NULL for the newest, or
 * "-N" / "~N" for the Nth newest (mprof's relative index: -1 the last).
 * Returns 0 and *id, -ENOENT when there is no such run. */
int store_run_resolve(struct store *s, const char *arg, int64_t *id);
/* Deletes a run with its processes and samples. */
int store_run_delete(struct store *s, int64_t run);

#endif
