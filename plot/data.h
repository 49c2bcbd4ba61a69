/* data.h - reads runs, daemon history and their samples (data_read() is
 * in data_read.c) out of a memtide
 * database for the chart: metadata up front, samples streamed straight
 * into decimators so ten million rows never sit in memory.  Read-only; the
 * schema is documented in include/memtide/store.h.
 *
 * Two ways to pick what is read:
 *   - a run (data_run_load): its processes, times in seconds since its
 *     start (mprof's axis);
 *   - history (data_history_load): the processes of any runs (memtided's
 *     sessions, usually) that match a pid or a regular expression and lived
 *     in a wall-clock window; times are Unix seconds.
 * Either way the result is a data_run whose processes carry their own
 * run's clock (started, interval), so data_read() can merge them. */
#ifndef MEMTIDE_PLOT_DATA_H
#define MEMTIDE_PLOT_DATA_H

#include <regex.h>
#include <stddef.h>
#include <stdint.h>

#include "decimate.h"

struct sqlite3;

/* What a series shows, and where it comes from: sample (rss, cpu,
 * threads), sample_mem (pss, uss, swap), or their per-minute rollups. */
enum data_metric {
	DATA_RSS,
	DATA_PSS,
	DATA_USS,
	DATA_SWAP,
	DATA_CPU,     /* percent of one core */
	DATA_THREADS, /* count */
};

/* "rss", "pss", "uss", "swap", "cpu", "threads" -> the metric, or -1. */
int data_metric_of(const char *name);
const char *data_metric_name(enum data_metric m);
/* Whether m is a memory size (bytes). */
int data_metric_is_bytes(enum data_metric m);
/* Whether m comes from sample_mem (sampled at its own pace). */
int data_metric_from_mem(enum data_metric m);
/* Where rows come from: memtided's per-minute rollups, sample_agg's
 * per-second buckets, or the samples. */
enum data_source {
	DATA_SRC_MINUTE,
	DATA_SRC_AGG,
	DATA_SRC_RAW,
};
/* The SQL that reads m of one process from src: raw rows (tick, value), or
 * rows (minute or bucket, n, min, max, mean[, first, last]); ?1 is
 * proc.id, ?2 and ?3 the first and last tick, minute or bucket.  NULL: m
 * has no such rows. */
const char *data_metric_sql(enum data_metric m, enum data_source src);

struct data_proc;
/* What one stored unit of m is worth for process p: bytes a page, 0.1 %
 * a permille, 1024 bytes a KiB. */
double data_metric_unit(const struct data_proc *p, enum data_metric m);

struct data_proc {
	int64_t id;  /* proc.id */
	int64_t run; /* run.id */
	int pid;
	char *cmdline;    /* owned; may be NULL */
	char *exe;        /* owned; may be NULL */
	char *name;       /* owned; proc.name (v2), may be NULL */
	double t0;        /* Unix seconds of its run's tick 0 */
	double interval;  /* its run's seconds per tick */
	double every;     /* seconds between its samples (proc.interval) */
	int64_t page_size; /* bytes per unit of sample.rss */
	int64_t hwm;      /* bytes, the kernel's high-water mark; -1 unknown */
	/* Extents of its rows; min > max when it has none. */
	int64_t tick_min, tick_max;         /* sample */
	int64_t mem_tick_min, mem_tick_max; /* sample_mem */
	int64_t minute_min, minute_max;     /* rollup */
	int64_t agg_min, agg_max;           /* sample_agg buckets */
	int64_t agg_ticks; /* ticks a bucket (store_agg_ticks), 0: none */
	int in_parent; /* its parent's values count it (includes_children):
			  a total does not add it again */
};

struct data_run {
	int64_t id;              /* 0 for history */
	char *command;           /* owned; for history, what was asked */
	char *label;             /* owned; may be NULL */
	char *kind;              /* owned: "run", "attach", "daemon", ... */
	double started;          /* Unix seconds of tick 0 */
	double interval;         /* seconds per tick */
	int64_t page_size;       /* bytes per unit of sample.rss */
	int64_t kernel_peak_rss; /* bytes, wait4()/VmHWM peak; -1 unknown */
	int64_t tick_max;        /* the last tick sampled; -1 when none */
	struct data_proc *procs; /* in the order the sampler found them */
	size_t nprocs;
};

/* Loads run id with its processes and the extents of each one's samples
 * (a few index seeks a process).  Returns 0, -ENOENT when there is no such
 * run, -ENOMEM, or -EIO (sqlite3_errmsg(db) says why).  data_run_free() it
 * in any case. */
int data_run_load(struct sqlite3 *db, int64_t id, struct data_run *r);
void data_run_free(struct data_run *r);

/* What history to select: processes with pid (0: any) whose name or
 * command line matches re (NULL: any), with samples or rollups in [t0, t1]
 * (Unix seconds). */
struct data_select {
	int pid;
	const regex_t *re;
	double t0, t1;
};

/* Loads the processes of any run that sel selects into r (id 0, command
 * describe, a copy).  Returns 0 (r->nprocs may be 0), -ENOMEM or -EIO. */
int data_history_load(struct sqlite3 *db, const struct data_select *sel,
		      const char *describe, struct data_run *r);

/* The Unix seconds of the first and last sample or rollup of any process
 * of r; *a > *b when there are none. */
void data_run_span(const struct data_run *r, double *a, double *b);

/* The Unix seconds of the first and last row of process p, over every
 * table (a rollup's minute counts whole); *a > *b when it has none. */
void data_proc_span(const struct data_proc *p, double *a, double *b);

/* Seconds from tick 0 to the last sample; 0 when there are none. */
double data_run_duration(const struct data_run *r);

/* Whether any process of r has samples of metric m (rollups count). */
int data_run_has(const struct data_run *r, enum data_metric m);

enum data_rollups {
	DATA_ROLLUP_NONE, /* raw samples only */
	DATA_ROLLUP_GAPS, /* rollups where a process's raw samples are gone */
	DATA_ROLLUP_ONLY, /* rollups only: a window too long for raw ones */
};

/* A read: the metric, the window and how times are counted. */
struct data_read {
	enum data_metric metric;
	double x0, x1;   /* the window, x0 < x1 */
	int absolute;    /* x in Unix seconds (history); else seconds since
			  * r->started (a run, whose processes share it) */
	enum data_rollups rollups; /* only with absolute */
	/* Seconds a pixel column spans, 0 for raw samples only: at two
	 * sample_agg buckets or more to a column, a process alone in its
	 * run (or read without a total) is read from its buckets, one row a
	 * second instead of hundreds, min and max kept. */
	double col_s;
};

/* Streams the samples of r in o's window, plus the nearest one outside on
 * each side, in time order: process i's into per_proc[i] (per_proc or any
 * entry may be NULL) and the sum over all processes into total (may be
 * NULL).  Values are bytes, percent or counts (see data_metric).  The sum
 * of a run's rss, cpu or threads is over the processes sampled at each
 * tick; for history and for pss/uss/swap (sampled at each process's own
 * pace) it holds each process's last value until its next sample or its
 * end, and breaks (decimate_break()) where none was left.  A rollup row is a span from its minimum to its maximum in the
 * middle of its minute, and adds its mean to the sum.  Processes are read
 * through one index range scan each, merged by time, with only the ones
 * alive at the current time holding a cursor.  A window of many samples is
 * read in two halves at once: the later one on a thread, through a
 * read-only connection of its own to db's file.  Returns 0, -ENOMEM or
 * -EIO (see sqlite3_errmsg(db)). */
int data_read(struct sqlite3 *db, const struct data_run *r,
	      const struct data_read *o, struct decimate *const *per_proc,
	      struct decimate *total);

/* Calls fn(ctx, label, start, end, level, pid) for each marker of run
 * whose time overlaps [t0, t1] (Unix seconds), by start; start and end
 * are Unix seconds, end < start for a moment; pid is the sender's, 0 when
 * the marker names no process.  A database without markers
 * (schema v1) has none.  Stops at fn's first non-zero return and returns
 * it; else 0, -ENOMEM or -EIO. */
int data_marks_read(struct sqlite3 *db, int64_t run, double t0, double t1,
		    int (*fn)(void *ctx, const char *label, double start,
			      double end, int level, int pid),
		    void *ctx);

/* data_read() of a run's RSS over [x0, x1] seconds since its start. */
int data_run_read(struct sqlite3 *db, const struct data_run *r, double x0,
		  double x1, struct decimate *const *per_proc,
		  struct decimate *total);

#endif
