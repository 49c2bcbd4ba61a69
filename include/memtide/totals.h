/* totals.h - the figures of a run read back from the store, one way for
 * every program: the summary of memtide run, memtide peak, memtide list and
 * memtide ps print what these compute, with one rounding (units.h).
 */
#ifndef MEMTIDE_TOTALS_H
#define MEMTIDE_TOTALS_H

#include <stddef.h>
#include <stdint.h>

struct sqlite3;

enum totals_metric { TOTALS_RSS, TOTALS_PSS, TOTALS_USS };

/* The metric a run's headline is in: PSS or USS for runs recorded with
 * --backend psutil_pss / psutil_uss (run.backend), else RSS. */
enum totals_metric totals_metric_of(const char *backend);
/* "RSS", "PSS" or "USS". */
const char *totals_metric_name(enum totals_metric m);

/* The peak (bytes) of run's total of metric m as memtide-plot draws it
 * when the series are not sampled on shared ticks (mprof files, smaps
 * readings): each process's last value stands until its next sample, or
 * for its interval (proc.interval, at least run.interval) after its last;
 * a process whose parent's values already count it (includes_children)
 * is not added again.  0 when there is nothing.  Returns 0 or -EIO. */
int totals_held_peak(struct sqlite3 *db, int64_t run, enum totals_metric m,
		     int64_t *peak);

/* The same peak from rows in memory (memtide import holds the rows it has
 * just written; reading a million back, sorted, was 40 % of its time).
 * Rows go in tick order, with the tick their value stops standing at
 * (totals_held_until() for a series' last row, else INT64_MAX); rows of
 * one tick in any order. */
struct totals_held {
	struct totals_held_row *h; /* the latest row of each series */
	size_t n, cap;
	int64_t sum, best, key;
};
#define TOTALS_HELD_INIT {NULL, 0, 0, 0, 0, INT64_MIN}
/* Returns 0 or -ENOMEM. */
int totals_held_add(struct totals_held *t, int64_t series, int64_t tick, int64_t v,
		    int64_t until);
/* The peak (bytes); frees what t holds. */
int64_t totals_held_end(struct totals_held *t);
/* The tick a series' last value, at tick, stops standing at: hold_s
 * seconds later, in ticks of interval_s rounded up (the chart's
 * arithmetic, plot/data_read.c). */
int64_t totals_held_until(int64_t tick, double hold_s, double interval_s);

/* What memtide says of one run. */
struct totals_run {
	enum totals_metric metric;
	int64_t peak;       /* bytes: the peak of the total, in metric */
	int64_t nprocs;     /* processes recorded */
	int64_t kernel_peak; /* bytes: the largest process's own kernel peak
			      * (RSS), -1 unknown */
	int kernel_pid;     /* its pid, 0 unknown */
	int64_t top_peak;   /* bytes: the largest single process's peak in
			     * metric, -1 none */
	int top_pid;
	int daemon;         /* a memtided session: its processes are not one
			       program, and their sum means nothing */
};

/* Reads the figures of run.  Returns 0, -ENOENT (no such run) or -EIO. */
int totals_run_read(struct sqlite3 *db, int64_t run, struct totals_run *out);

#endif
