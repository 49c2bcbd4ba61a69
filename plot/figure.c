/* figure.c - what a chart of runs or history shows (see figure.h). */
#include "figure.h"

#include "label.h"
#include "limits.h"
#include "slope.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *figure_proc_label(const struct data_proc *p, char *buf, size_t len)
{
	char cmd[160];

	if (p->name && *p->name)
		snprintf(cmd, sizeof cmd, "%s", p->name);
	else if ((p->cmdline && *p->cmdline) || (p->exe && *p->exe))
		label_command(p->cmdline, p->exe, cmd, sizeof cmd);
	else
		/* An mprof CHLD series: only its pid is known. */
		snprintf(cmd, sizeof cmd, "child");
	if (p->pid > 0)
		snprintf(buf, len, "%d %s", p->pid, cmd);
	else
		/* An mprof MEM series has no pid. */
		snprintf(buf, len, "%s", cmd);
	return buf;
}

/* What one figure_build() call shares between its panels. */
struct build {
	struct sqlite3 *db;
	const struct data_run *runs;
	size_t nruns;
	const struct figure_opts *o;
	double x0, x1;
	int absolute;
	enum data_rollups rollups;
	size_t *rank; /* per process of runs[0]: its place by peak, once known */
};

/* The kernel's peak is worth a line of its own only when it tells more
 * than the sampled one, over the whole run.  It is one process's high-water
 * mark (wait4's ru_maxrss, or the highest VmHWM), so with several processes
 * it says something only when it tops the sampled total: a burst the
 * sampler missed. */
static int kernel_peak_differs(const struct data_run *r, double peak,
			       const struct figure_opts *o)
{
	double k = (double)r->kernel_peak_rss;

	if (r->kernel_peak_rss <= 0 || o->history || o->wall)
		return 0;
	if (o->window && (o->w0 > 0 || o->w1 < data_run_duration(r)))
		return 0;
	if (r->nprocs > 1 && k <= peak)
		return 0;
	return fabs(k - peak) > 0.0005 * fmax(k, peak);
}

/* Orders process series by peak, largest first. */
static int by_peak(const void *a, const void *b, void *arg)
{
	const struct chart_series *s = arg;
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	double pi = s[i].dec.n ? s[i].dec.vmax : -1;
	double pj = s[j].dec.n ? s[j].dec.vmax : -1;

	if (pi != pj)
		return pi > pj ? -1 : 1;
	return i < j ? -1 : i > j;
}

/* Ranks the n process series at c->series[first] by peak, into b->rank. */
static int rank_procs(struct build *b, struct chart *c, long first, size_t n)
{
	size_t *order = malloc((n ? n : 1) * sizeof *order);

	b->rank = malloc((n ? n : 1) * sizeof *b->rank);
	if (!order || !b->rank) {
		free(order);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		order[i] = i;
	qsort_r(order, n, sizeof *order, by_peak, c->series + first);
	for (size_t i = 0; i < n; i++)
		b->rank[order[i]] = i;
	free(order);
	return 0;
}

/* The "others" line: at each column, the sum of the means of the hidden
 * processes, each holding its last mean between its first and last
 * column (history samples some columns only). */
static int sum_others(struct chart *c, long dst, long first, size_t n)
{
	size_t nc = c->ncols;
	double *sum = calloc(nc, sizeof *sum);
	char *alive = calloc(nc, 1);
	struct decimate *d = &c->series[dst].dec;

	if (!sum || !alive) {
		free(sum);
		free(alive);
		return -ENOMEM;
	}
	for (size_t k = 0; k < n; k++) {
		const struct chart_series *s = &c->series[first + (long)k];
		const struct decimate *e = &s->dec;
		size_t lo = nc, hi = 0;
		double held = 0;

		if (!s->hidden)
			continue;
		for (size_t i = e->lo; i < e->hi; i++)
			if (decimate_get(e, i)) {
				lo = i < lo ? i : lo;
				hi = i;
			}
		for (size_t i = lo; i <= hi && i < nc; i++) {
			const struct decimate_col *col = decimate_get(e, i);

			if (col)
				held = col->sum / col->n;
			sum[i] += held;
			alive[i] = 1;
		}
	}
	for (size_t i = 0; i < nc; i++)
		if (alive[i])
			decimate_add(d, decimate_col_x(d, i), sum[i]);
	free(sum);
	free(alive);
	return d->err;
}

/* Colours the processes: the largest (by b->rank) in palette colours in
 * start order; the rest grey and thin, named "N more processes" by the
 * first of them, or with o->top hidden behind one "others" line. */
static int colour_procs(struct build *b, struct chart *c, long first,
			size_t n, int labelled)
{
	size_t limit = b->o->top > 0 ? (size_t)b->o->top : CHART_PALETTE_N;
	size_t coloured = 0, grey = 0;
	long first_grey = -1;
	char buf[64];

	for (size_t i = 0; i < n; i++) {
		struct chart_series *s = &c->series[first + (long)i];

		s->stack = 1;
		if (b->rank[i] < limit) {
			s->colour = (int)(coloured++ % CHART_PALETTE_N);
			continue;
		}
		s->colour = CHART_GREY;
		s->weight = CHART_THIN;
		free(s->label);
		s->label = NULL;
		if (b->o->top > 0)
			s->hidden = 1;
		if (s->dec.n && grey++ == 0)
			first_grey = first + (long)i;
	}
	if (first_grey < 0)
		return 0;
	if (b->o->top > 0) {
		long o;

		snprintf(buf, sizeof buf, "others (%zu process%s)", grey,
			 grey == 1 ? "" : "es");
		o = chart_add_series(c, labelled ? buf : NULL, CHART_GREY,
				     CHART_NORMAL, 1, 0);
		if (o < 0)
			return (int)o;
		c->series[o].stack = 1;
		return sum_others(c, o, first, n);
	}
	if (!labelled)
		return 0;
	snprintf(buf, sizeof buf, "%zu more process%s", grey,
		 grey == 1 ? "" : "es");
	if (!(c->series[first_grey].label = strdup(buf)))
		return -ENOMEM;
	c->series[first_grey].legend_order = (int)c->nseries;
	return 0;
}

/* The -s trend of series s, in its colour. */
static void add_trend(struct chart *c, const struct chart_series *s)
{
	struct slope sl;

	if (slope_of_decimate(&s->dec, &sl))
		return;
	c->trend = (struct chart_trend){.on = 1,
					.per_s = sl.per_s,
					.intercept = sl.intercept,
					.x_ref = sl.x_ref,
					.xa = sl.xa,
					.xb = sl.xb,
					.colour = s->colour,
					.text = -1};
}

/* The seconds one pixel column of d spans (its x are seconds). */
static double column_seconds(const struct decimate *d)
{
	return d->ncols > 0 ? (d->x1 - d->x0) / (double)d->ncols : 0;
}

/* A panel of one run (or of history) for metric m: processes, their total,
 * the peak marks and the trend (on the memory panel, main). */
static int build_one(struct build *b, struct chart *c, enum data_metric m,
		     int main)
{
	const struct data_run *r = &b->runs[0];
	const struct figure_opts *o = b->o;
	struct data_read rd = {.metric = m, .x0 = b->x0, .x1 = b->x1,
			       .absolute = b->absolute, .rollups = b->rollups};
	struct decimate **per = NULL;
	long first = (long)c->nseries, total = -1, top;
	int err = 0, colour;

	per = calloc(r->nprocs ? r->nprocs : 1, sizeof *per);
	if (!per)
		return -ENOMEM;
	if (r->nprocs > 1) {
		char buf[64];

		snprintf(buf, sizeof buf, "total (%zu processes)", r->nprocs);
		total = chart_add_series(c, main ? buf : NULL, CHART_INK,
					 CHART_THICK, c->x0, c->x1);
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
		double xa = 1, xb = 0;
		long s;

		if (!b->absolute && p->tick_min <= p->tick_max) {
			xa = (double)p->tick_min * p->interval;
			xb = (double)p->tick_max * p->interval;
		}
		s = chart_add_series(c,
				     main ? figure_proc_label(p, buf, sizeof buf)
					  : NULL,
				     0, CHART_NORMAL, xa, xb);
		if (s < 0) {
			err = (int)s;
			goto out;
		}
	}
	for (size_t i = 0; i < r->nprocs; i++)
		per[i] = &c->series[first + (long)i].dec;
	if (r->nprocs)
		rd.col_s = column_seconds(per[0]);
	err = data_read(b->db, r, &rd, per,
			total >= 0 ? &c->series[total].dec : NULL);
	if (err)
		goto out;
	for (size_t i = 0; i < c->nseries; i++)
		if (c->series[i].dec.err) {
			err = c->series[i].dec.err;
			goto out;
		}
	if (!b->rank && (err = rank_procs(b, c, first, r->nprocs)))
		goto out;
	if ((err = colour_procs(b, c, first, r->nprocs, main)))
		goto out;
	c->stacked = o->stacked && r->nprocs > 1;
	top = total >= 0 ? total : r->nprocs == 1 ? first : -1;
	if (top < 0 || !c->series[top].dec.n)
		goto out;
	colour = c->series[top].colour;
	if (o->slope && main)
		add_trend(c, &c->series[top]);
	if (!data_metric_is_bytes(m))
		goto out;
	if ((err = chart_add_mark(c, CHART_PEAK, c->series[top].dec.vmax,
				  colour)))
		goto out;
	if (m == DATA_RSS && kernel_peak_differs(r, c->series[top].dec.vmax, o))
		err = chart_add_mark(c, CHART_KERNEL_PEAK,
				     (double)r->kernel_peak_rss, colour);
out:
	free(per);
	return err;
}

/* A panel of several runs overlaid: each run's total for metric m. */
static int build_overlay(struct build *b, struct chart *c, enum data_metric m,
			 int main)
{
	for (size_t i = 0; i < b->nruns; i++) {
		const struct data_run *r = &b->runs[i];
		struct data_read rd = {.metric = m, .x0 = b->x0, .x1 = b->x1};
		char cmd[160], buf[192];
		long s;
		int err;

		label_command(r->command, NULL, cmd, sizeof cmd);
		snprintf(buf, sizeof buf, "run %lld: %s", (long long)r->id,
			 cmd);
		s = chart_add_series(c, main ? buf : NULL, (int)i,
				     CHART_NORMAL, c->x0, c->x1);
		if (s < 0)
			return (int)s;
		rd.col_s = column_seconds(&c->series[s].dec);
		err = data_read(b->db, r, &rd, NULL, &c->series[s].dec);
		if (!err)
			err = c->series[s].dec.err;
		if (err)
			return err;
		if (b->o->slope && main && b->nruns == 1)
			add_trend(c, &c->series[s]);
		if (c->series[s].dec.n && data_metric_is_bytes(m) &&
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

/* Markers into a chart, shifted from Unix seconds onto its axis. */
struct marker_sink {
	struct chart *c;
	double offset;
};

static int add_marker(void *ctx, const char *label, double a, double b,
		      int level)
{
	struct marker_sink *k = ctx;

	return chart_add_marker(k->c, label, a - k->offset, b - k->offset,
				level);
}

/* Loads the markers of the runs drawn (of the processes' runs, for
 * history) in the window into c. */
static int load_markers(struct build *b, struct chart *c)
{
	const struct data_run *r = &b->runs[0];
	struct marker_sink k = {.c = c};
	int err = 0;

	if (b->o->no_markers || b->nruns != 1)
		return 0;
	if (r->id) {
		k.offset = b->absolute ? 0 : r->started;
		return data_marks_read(b->db, r->id, b->x0 + k.offset,
				       b->x1 + k.offset, add_marker, &k);
	}
	for (size_t i = 0; i < r->nprocs && !err; i++) {
		int seen = 0;

		for (size_t j = 0; j < i && !seen; j++)
			seen = r->procs[j].run == r->procs[i].run;
		if (!seen)
			err = data_marks_read(b->db, r->procs[i].run, b->x0,
					      b->x1, add_marker, &k);
	}
	return err;
}

static const char *panel_title(enum figure_panel p, enum data_metric m)
{
	static const char *const mem[] = {
		[DATA_RSS] = "resident memory",
		[DATA_PSS] = "proportional memory (PSS)",
		[DATA_USS] = "unique memory (USS)",
		[DATA_SWAP] = "swap",
	};

	if (p == FIGURE_CPU)
		return "CPU";
	if (p == FIGURE_THREADS)
		return "threads";
	return m <= DATA_SWAP ? mem[m] : "memory";
}

/* The time window: seconds since the start (the longest run's, or -w), or
 * Unix seconds on a wall-clock axis. */
static void window_of(struct build *b)
{
	const struct figure_opts *o = b->o;
	const struct data_run *r = &b->runs[0];
	double x0 = 0, x1 = 0;

	if (o->history || (o->wall && b->nruns == 1)) {
		double dur = data_run_duration(r);

		x0 = o->has_since ? o->since : r->started;
		x1 = o->has_until ? o->until
				  : r->started + (dur > 0 ? dur : r->interval);
		if (!(x1 > x0))
			x1 = x0 + 1;
		b->x0 = x0;
		b->x1 = x1;
		b->absolute = 1;
		b->rollups = (x1 - x0) / fmax(o->width, 1) >= 120
				     ? DATA_ROLLUP_ONLY
				     : DATA_ROLLUP_GAPS;
		return;
	}
	if (o->window) {
		x0 = o->w0;
		x1 = o->w1;
	} else {
		for (size_t i = 0; i < b->nruns; i++) {
			x1 = fmax(x1, data_run_duration(&b->runs[i]));
			if (b->runs[i].tick_max == 0)
				x1 = fmax(x1, b->runs[i].interval);
		}
		if (!(x1 > 0))
			x1 = 1;
	}
	b->x0 = x0;
	b->x1 = x1;
}

/* Stacks the panels' bands down the canvas: the memory panel twice as tall
 * as a CPU or threads one, the flame panel a row a level, the first
 * keeping room for the title and the last for the time labels. */
static void place_panels(struct figure *f, int flame_levels)
{
	struct chart *p = f->panel;
	double H = p[0].height, font = chart_font(p[0].width, p[0].height);
	double title = p[0].title && *p[0].title ? 2.2 * font : 0.6 * font;
	double xlab = 3.4 * font, flame = 0, weight = 0, avail, y = 0;
	size_t nseries = f->n - (flame_levels > 0);

	if (f->n < 2)
		return;
	if (flame_levels > 0)
		flame = fmin(flame_levels * 1.6 * font + font, 0.3 * H);
	for (size_t i = 0; i < nseries; i++)
		weight += p[i].y_title && !strcmp(p[i].y_title, "CPU")   ? 1
			  : p[i].y_title && !strcmp(p[i].y_title, "threads") ? 1
									 : 2;
	avail = H - title - xlab - flame;
	for (size_t i = 0; i < f->n; i++) {
		double w = i >= nseries ? 0
			   : p[i].y_title &&
					   (!strcmp(p[i].y_title, "CPU") ||
					    !strcmp(p[i].y_title, "threads"))
				   ? 1
				   : 2;
		double h = i >= nseries ? flame : avail * w / weight;

		if (i == 0)
			h += title;
		if (i == f->n - 1)
			h += xlab;
		p[i].band_y = round(y);
		p[i].band_h = round(y + h) - round(y);
		p[i].x_labels = i == f->n - 1;
		y += h;
	}
}

int figure_build(struct figure *f, struct sqlite3 *db,
		 const struct data_run *runs, size_t nruns,
		 const struct figure_opts *o)
{
	static const enum figure_panel mem_only[] = {FIGURE_MEM};
	const enum figure_panel *kinds = o->npanels ? o->panel : mem_only;
	size_t nk = o->npanels ? o->npanels : 1;
	struct build b = {.db = db, .runs = runs, .nruns = nruns, .o = o};
	int err = 0, levels = 0;

	memset(f, 0, sizeof *f);
	window_of(&b);
	for (size_t i = 0; i < nk; i++) {
		struct chart *c = &f->panel[f->n];
		enum data_metric m = kinds[i] == FIGURE_CPU       ? DATA_CPU
				     : kinds[i] == FIGURE_THREADS ? DATA_THREADS
								  : o->metric;

		if ((err = chart_init(c, o->width, o->height, b.x0, b.x1)))
			goto out;
		f->n++;
		c->wall = b.absolute;
		c->dark = o->dark;
		c->value = kinds[i] == FIGURE_CPU       ? CHART_PERCENT
			   : kinds[i] == FIGURE_THREADS ? CHART_COUNT
							: CHART_BYTES;
		if ((err = chart_set_y_title(c, panel_title(kinds[i], m))))
			goto out;
		if (i == 0 && o->title)
			err = chart_set_title(c, o->title);
		else if (i == 0)
			err = default_title(c, runs, nruns);
		if (err)
			goto out;
		c->marker_labels = i == 0 ? CHART_MOMENTS | (o->flame ? 0
								       : CHART_SPANS)
					  : 0;
		if ((err = load_markers(&b, c)))
			goto out;
		if (nruns == 1)
			err = build_one(&b, c, m, i == 0);
		else
			err = build_overlay(&b, c, m, i == 0);
		if (!err && nruns == 1 && c->value == CHART_BYTES && !o->stacked)
			err = limits_add(c, db, &runs[0], b.absolute);
		if (err)
			goto out;
		for (size_t s = 0; s < c->nseries; s++)
			f->any |= c->series[s].dec.n > 0;
	}
	for (size_t i = 0; i < f->panel[0].nmarkers; i++)
		if (f->panel[0].markers[i].t1 >= f->panel[0].markers[i].t0 &&
		    f->panel[0].markers[i].level + 1 > levels)
			levels = f->panel[0].markers[i].level + 1;
	if (o->flame && levels > 0 && !o->no_markers) {
		struct chart *c = &f->panel[f->n];

		if ((err = chart_init(c, o->width, o->height, b.x0, b.x1)))
			goto out;
		f->n++;
		c->kind = CHART_FLAME;
		c->wall = b.absolute;
		c->dark = o->dark;
		c->marker_labels = 0;
		if ((err = chart_set_y_title(c, "calls")) ||
		    (err = load_markers(&b, c)))
			goto out;
	} else {
		levels = 0;
	}
	place_panels(f, levels);
	if (!f->any)
		err = chart_set_note(&f->panel[0],
				     o->window || o->has_since || o->has_until
					     ? "no samples in this window"
					     : "no samples recorded");
out:
	free(b.rank);
	return err;
}

void figure_free(struct figure *f)
{
	for (size_t i = 0; i < f->n; i++)
		chart_free(&f->panel[i]);
	f->n = 0;
}
