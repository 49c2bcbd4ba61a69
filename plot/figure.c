/* figure.c - what a chart of runs shows (see figure.h). */
#include "figure.h"

#include "label.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *figure_proc_label(const struct data_proc *p, char *buf, size_t len)
{
	char cmd[160];

	label_command(p->cmdline, p->exe, cmd, sizeof cmd);
	snprintf(buf, len, "%d %s", p->pid, cmd);
	return buf;
}

/* The kernel's peak is worth a line of its own only when it tells more
 * than the sampled one, over the whole run.  It is one process's high-water
 * mark (wait4's ru_maxrss, or the highest VmHWM), so with several processes
 * it says something only when it tops the sampled total: a burst the
 * sampler missed. */
static int kernel_peak_differs(const struct data_run *r, double peak,
			       const struct figure_opts *o)
{
	double k = (double)r->kernel_peak_rss;

	if (r->kernel_peak_rss <= 0)
		return 0;
	if (o->window && (o->w0 > 0 || o->w1 < data_run_duration(r)))
		return 0;
	if (r->nprocs > 1 && k <= peak)
		return 0;
	return fabs(k - peak) > 0.0005 * fmax(k, peak);
}

/* Orders process series by peak, largest first: the ones that get colour. */
static int by_peak(const void *a, const void *b, void *arg)
{
	const struct chart *c = arg;
	long i = *(const long *)a, j = *(const long *)b;
	double pi = c->series[i].dec.n ? c->series[i].dec.vmax : -1;
	double pj = c->series[j].dec.n ? c->series[j].dec.vmax : -1;

	if (pi != pj)
		return pi > pj ? -1 : 1;
	return i < j ? -1 : i > j;
}

/* Colours the largest processes in start order, greys the rest and names
 * the first grey one "N more processes" for the legend. */
static int colour_procs(struct chart *c, long first, size_t n)
{
	long *rank = malloc(n * sizeof *rank);
	char *chosen = calloc(n, 1);
	size_t coloured = 0, grey = 0;
	long first_grey = -1;
	int err = 0;

	if (!rank || !chosen) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		rank[i] = first + (long)i;
	qsort_r(rank, n, sizeof *rank, by_peak, c);
	for (size_t i = 0; i < n && i < CHART_PALETTE_N; i++)
		chosen[rank[i] - first] = 1;
	for (size_t i = 0; i < n; i++) {
		struct chart_series *s = &c->series[first + (long)i];

		if (chosen[i]) {
			s->colour = (int)coloured++;
			continue;
		}
		s->colour = CHART_GREY;
		s->weight = CHART_THIN;
		free(s->label);
		s->label = NULL;
		if (s->dec.n && grey++ == 0)
			first_grey = first + (long)i;
	}
	if (first_grey >= 0) {
		char buf[64];

		snprintf(buf, sizeof buf, "%zu more process%s", grey,
			 grey == 1 ? "" : "es");
		if (!(c->series[first_grey].label = strdup(buf)))
			err = -ENOMEM;
		c->series[first_grey].legend_order = (int)c->nseries;
	}
out:
	free(rank);
	free(chosen);
	return err;
}

static int build_one(struct chart *c, struct sqlite3 *db,
		     const struct data_run *r, const struct figure_opts *o)
{
	struct decimate **per = NULL;
	long first = (long)c->nseries, total = -1;
	int err = 0, colour;
	double peak;

	per = calloc(r->nprocs ? r->nprocs : 1, sizeof *per);
	if (!per)
		return -ENOMEM;
	if (r->nprocs > 1) {
		char buf[64];

		snprintf(buf, sizeof buf, "total (%zu processes)", r->nprocs);
		total = chart_add_series(c, buf, CHART_INK, CHART_THICK, c->x0,
					 c->x1);
		if (total < 0) {
			err = (int)total;
			goto out;
		}
		c->series[total].legend_order = -1;
		first = (long)c->nseries;
	}
	for (size_t i = 0; i < r->nprocs; i++) {
		const struct data_proc *p = &r->procs[i];
		char buf[192];
		long s;

		s = chart_add_series(c, figure_proc_label(p, buf, sizeof buf),
				     0, CHART_NORMAL,
				     (double)p->tick_min * r->interval,
				     (double)p->tick_max * r->interval);
		if (s < 0) {
			err = (int)s;
			goto out;
		}
	}
	for (size_t i = 0; i < r->nprocs; i++)
		per[i] = &c->series[first + (long)i].dec;
	err = data_run_read(db, r, c->x0, c->x1, per,
			    total >= 0 ? &c->series[total].dec : NULL);
	if (err)
		goto out;
	for (size_t i = 0; i < c->nseries; i++)
		if (c->series[i].dec.err) {
			err = c->series[i].dec.err;
			goto out;
		}
	if ((err = colour_procs(c, first, r->nprocs)))
		goto out;
	if (total >= 0) {
		peak = c->series[total].dec.vmax;
		colour = CHART_INK;
		if (!c->series[total].dec.n)
			goto out;
	} else if (r->nprocs == 1 && c->series[first].dec.n) {
		peak = c->series[first].dec.vmax;
		colour = c->series[first].colour;
	} else {
		goto out;
	}
	if ((err = chart_add_mark(c, CHART_PEAK, peak, colour)))
		goto out;
	if (kernel_peak_differs(r, peak, o))
		err = chart_add_mark(c, CHART_KERNEL_PEAK,
				     (double)r->kernel_peak_rss, colour);
out:
	free(per);
	return err;
}

static int build_overlay(struct chart *c, struct sqlite3 *db,
			 const struct data_run *runs, size_t nruns)
{
	for (size_t i = 0; i < nruns; i++) {
		const struct data_run *r = &runs[i];
		char cmd[160], buf[192];
		long s;
		int err;

		label_command(r->command, NULL, cmd, sizeof cmd);
		snprintf(buf, sizeof buf, "run %lld: %s", (long long)r->id,
			 cmd);
		s = chart_add_series(c, buf, (int)i, CHART_NORMAL, c->x0,
				     c->x1);
		if (s < 0)
			return (int)s;
		err = data_run_read(db, r, c->x0, c->x1, NULL,
				    &c->series[s].dec);
		if (!err)
			err = c->series[s].dec.err;
		if (err)
			return err;
		if (c->series[s].dec.n &&
		    (err = chart_add_mark(c, CHART_PEAK, c->series[s].dec.vmax,
					  (int)i)))
			return err;
	}
	return 0;
}

/* The default title: the command (after its label, when it has one), or
 * the list of runs overlaid. */
static int default_title(struct chart *c, const struct data_run *runs,
			 size_t nruns)
{
	char buf[512];
	size_t used;

	if (nruns == 1) {
		if (runs[0].label && *runs[0].label)
			snprintf(buf, sizeof buf, "%s: %s", runs[0].label,
				 runs[0].command);
		else
			snprintf(buf, sizeof buf, "%s", runs[0].command);
		return chart_set_title(c, buf);
	}
	used = (size_t)snprintf(buf, sizeof buf, "runs");
	for (size_t i = 0; i < nruns && used < sizeof buf - 32; i++)
		used += (size_t)snprintf(buf + used, sizeof buf - used,
					 "%s %lld", i ? "," : "",
					 (long long)runs[i].id);
	return chart_set_title(c, buf);
}

int figure_build(struct chart *c, struct sqlite3 *db,
		 const struct data_run *runs, size_t nruns,
		 const struct figure_opts *o)
{
	double x0 = 0, x1 = 0;
	int err, any = 0;

	if (o->window) {
		x0 = o->w0;
		x1 = o->w1;
	} else {
		for (size_t i = 0; i < nruns; i++) {
			x1 = fmax(x1, data_run_duration(&runs[i]));
			if (runs[i].tick_max == 0)
				x1 = fmax(x1, runs[i].interval);
		}
		if (!(x1 > 0))
			x1 = 1;
	}
	if ((err = chart_init(c, o->width, o->height, x0, x1)))
		return err;
	if (o->title)
		err = chart_set_title(c, o->title);
	else
		err = default_title(c, runs, nruns);
	if (err)
		return err;
	if (nruns == 1)
		err = build_one(c, db, &runs[0], o);
	else
		err = build_overlay(c, db, runs, nruns);
	if (err)
		return err;
	for (size_t i = 0; i < c->nseries; i++)
		any |= c->series[i].dec.n > 0;
	if (!any)
		err = chart_set_note(c, o->window ? "no samples in this window"
						  : "no samples recorded");
	return err;
}
