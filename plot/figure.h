/* figure.h - decides what a chart of runs or of daemon history shows: its
 * panels (memory, CPU, threads, flame), which lines and areas each has,
 * their labels, colours and weights, the peak marks, the trend and the
 * markers; then has data.c stream the samples into them.  No drawing
 * here. */
#ifndef MEMTIDE_PLOT_FIGURE_H
#define MEMTIDE_PLOT_FIGURE_H

#include <stddef.h>

#include "chart.h"
#include "data.h"

struct sqlite3;

enum figure_panel { FIGURE_MEM, FIGURE_CPU, FIGURE_THREADS };

#define FIGURE_MAX_PANELS 4 /* three kinds, and a flame panel */

struct figure_opts {
	const char *title; /* NULL: the run's command; "": no title */
	int window;        /* w0, w1 are set */
	double w0, w1;     /* seconds since each run's start, w0 < w1 */
	int width, height; /* canvas */
	enum figure_panel panel[3]; /* top to bottom */
	size_t npanels;             /* 0: memory only */
	enum data_metric metric;    /* of the memory panel */
	int stacked; /* processes as stacked areas summing to the total */
	int top;     /* > 0: the top N processes by memory x time, the rest
		      * "others" */
	int slope;   /* the Theil-Sen trend on the memory panel */
	int flame;   /* spans as a flame panel of nested bars */
	int no_markers; /* -n: no markers at all */
	int dark;
	/* Wall-clock: history (one data_run of data_history_load()) or a run
	 * drawn against the clock; since/until (Unix s) bound the window. */
	int wall;
	int history;
	int has_since, has_until;
	double since, until;
};

struct figure {
	struct chart panel[FIGURE_MAX_PANELS];
	size_t n;
	int any; /* some panel has samples */
};

/* The legend's name for a process: "1234 python3 worker.py", or its
 * recorded name ("1234 gunicorn app:wsgi (venv myapp)").  Returns buf. */
char *figure_proc_label(const struct data_proc *p, char *buf, size_t len);

/* Builds f (not yet initialised) for runs[0..nruns-1].  One run (or
 * history): a line per process, the total as a thicker line when there
 * are several (broken where no process existed), the six largest (by
 * memory x time) processes in colour and the rest in grey (with o->top,
 * the top N and one "others" line; with o->stacked, areas, the total their
 * top); markers weighed by what the total did in them (weigh.h);
 * a peak mark (the highest sampled value in the window) and, when the
 * window is the whole run and the kernel's peak is known and says more
 * (it differs; with several processes, it tops the sampled total), a
 * kernel peak mark.  Several runs: each run's total as one line
 * "LABEL (run N)" or "run N, MM-DD HH:MM:SS: command", aligned at their
 * starts, each with its peak mark.
 * Returns 0, -ENOMEM or -EIO (see sqlite3_errmsg(db)); figure_free(f) in
 * any case. */
int figure_build(struct figure *f, struct sqlite3 *db,
		 const struct data_run *runs, size_t nruns,
		 const struct figure_opts *o);
void figure_free(struct figure *f);

#endif
