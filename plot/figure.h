/* figure.h - decides what the chart of one or more runs shows: which
 * lines, their labels, colours and weights, and the peak marks; then has
 * data.c stream the samples into them.  No drawing here. */
#ifndef MEMTIDE_PLOT_FIGURE_H
#define MEMTIDE_PLOT_FIGURE_H

#include <stddef.h>

#include "chart.h"
#include "data.h"

struct sqlite3;

struct figure_opts {
	const char *title; /* NULL: the run's command; "": no title */
	int window;        /* w0, w1 are set */
	double w0, w1;     /* seconds since each run's start, w0 < w1 */
	int width, height; /* canvas */
};

/* The legend's name for a process: "1234 python3 worker.py".  Returns buf. */
char *figure_proc_label(const struct data_proc *p, char *buf, size_t len);

/* Builds c (not yet initialised) for runs[0..nruns-1].  One run: a line per
 * process, the total as a thicker line when there are several, the six
 * largest processes in colour and the rest in grey, a peak mark (the
 * highest sampled value in the window) and, when the window is the whole
 * run and the kernel's peak is known and says more (it differs; with several
 * processes, it tops the sampled total), a kernel peak mark.  Several
 * runs: each run's total as one line "run N: command", aligned at their
 * starts, each with its peak mark.  Returns 0, -ENOMEM or -EIO (see
 * sqlite3_errmsg(db)); chart_free(c) in any case. */
int figure_build(struct chart *c, struct sqlite3 *db,
		 const struct data_run *runs, size_t nruns,
		 const struct figure_opts *o);

#endif
