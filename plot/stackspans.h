/* stackspans.h - memtide plot --stacks: the Python code of a run recorded
 * with --stacks, as markers on the timeline (drawn by the flame panel of
 * chart.c, under the memory panel):
 *   level 0: which top-level function was running (the outermost frame
 *            below the main script's <module>), one span per stretch of
 *            ticks where it was the most sampled;
 *   level 1: the STACKSPANS_GROWTHS stretches of growth that grew memory
 *            most, each labelled with the function that grew it and by
 *            how much ("grow_b +24.0 MiB").
 */
#ifndef MEMTIDE_PLOT_STACKSPANS_H
#define MEMTIDE_PLOT_STACKSPANS_H

#include <stdint.h>

#define STACKSPANS_GROWTHS 5

struct sqlite3;

/* Calls fn(ctx, label, start, end, level, pid) for each span of run
 * overlapping [t0, t1] (Unix seconds), like data_marks_read(); pid 0: the
 * spans are the whole run's.  A run without stacks
 * (or an older database) has none.  Returns 0, fn's first non-zero
 * return, -ENOMEM or -EIO. */
int stackspans_read(struct sqlite3 *db, int64_t run, double t0, double t1,
		    int (*fn)(void *ctx, const char *label, double start,
			      double end, int level, int pid),
		    void *ctx);

#endif
