/* data.h - reads runs and their samples out of a memtide database for the
 * chart: metadata up front, samples streamed straight into decimators so a
 * million rows never sit in memory.  Read-only; the schema is documented in
 * include/memtide/store.h. */
#ifndef MEMTIDE_PLOT_DATA_H
#define MEMTIDE_PLOT_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "decimate.h"

struct sqlite3;

struct data_proc {
	int64_t id; /* proc.id */
	int pid;
	char *cmdline;              /* owned; may be NULL */
	char *exe;                  /* owned; may be NULL */
	int64_t tick_min, tick_max; /* of its samples; min > max when none */
};

struct data_run {
	int64_t id;
	char *command;           /* owned */
	char *label;             /* owned; may be NULL */
	double started;          /* Unix seconds of tick 0 */
	double interval;         /* seconds per tick */
	int64_t page_size;       /* bytes per unit of sample.rss */
	int64_t kernel_peak_rss; /* bytes, wait4()/VmHWM peak; -1 unknown */
	int64_t tick_max;        /* the last tick sampled; -1 when none */
	struct data_proc *procs; /* in the order the sampler found them */
	size_t nprocs;
};

/* Loads run id with its processes and the tick range of each one's samples
 * (two index seeks a process).  Returns 0, -ENOENT when there is no such
 * run, -ENOMEM, or -EIO (sqlite3_errmsg(db) says why).  data_run_free() it
 * in any case. */
int data_run_load(struct sqlite3 *db, int64_t id, struct data_run *r);
void data_run_free(struct data_run *r);

/* Seconds from tick 0 to the last sample; 0 when there are none. */
double data_run_duration(const struct data_run *r);

/* Streams the samples of r whose time (seconds since the run's start) is
 * within [x0, x1], plus the nearest one outside on each side, in tick order:
 * process i's into per_proc[i] (per_proc or any entry may be NULL), and the
 * sum over all processes at each tick into total (may be NULL).  Values are
 * bytes.  Processes are read through one index range scan each, merged by
 * tick, with only the ones alive at the current tick holding a cursor.  A
 * window of many samples is read in two halves at once: the later one on a
 * thread, through a read-only connection of its own to db's file.
 * Returns 0, -ENOMEM or -EIO (see sqlite3_errmsg(db)). */
int data_run_read(struct sqlite3 *db, const struct data_run *r, double x0,
		  double x1, struct decimate *const *per_proc,
		  struct decimate *total);

#endif
