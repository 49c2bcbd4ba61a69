/* figure.c - what a chart of runs or history shows (see figure.h). */
#include "figure.h"
#include "stackspans.h"

#include "label.h"
#include "limits.h"
#include "slope.h"
#include "weigh.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

/* The memory x time of each series, for the ranking. */
struct ranking {
	const double *area;
};

/* Orders process series by memory x time, largest first: a worker that
 * lived 0.3 s is not among the top ones for its peak. */
static int by_area(const void *a, const void *b, void *arg)
{
	const struct ranking *k = arg;
	size_t i = *(const size_t *)a, j = *(const size_t *)b;

	if (k->area[i] != k->area[j])
		return k->area[i] > k->area[j] ? -1 : 1;
	return i < j ? -1 : i > j;
}

/* The integral over the window of series e (value x seconds), counted as
 * the stacked areas count it. */
static double area_of(const struct chart_series *e, double *v)
{
	double sum = 0;

	chart_series_columns(e, v, NULL);
	for (size_t i = 0; i < e->dec.ncols; i++)
		sum += v[i];
	return sum / e->dec.scale;
}

/* Ranks the n process series at c->series[first] by memory x time, into
 * b->rank. */
static int rank_procs(struct build *b, struct chart *c, long first, size_t n)
{
	size_t *order = malloc((n ? n : 1) * sizeof *order);
	double *area = malloc((n ? n : 1) * sizeof *area);
	double *v = malloc(c->ncols * sizeof *v);
	struct ranking k = {.area = area};

	b->rank = malloc((n ? n : 1) * sizeof *b->rank);
	if (!order || !b->rank || !area || !v) {
		free(order);
		free(area);
		free(v);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		order[i] = i;
		area[i] = area_of(&c->series[first + (long)i], v);
	}
	qsort_r(order, n, sizeof *order, by_area, &k);
	for (size_t i = 0; i < n; i++)
		b->rank[order[i]] = i;
	free(order);
	free(area);
	free(v);
	return 0;
}

/* The "others" line: at each column, the sum of the hidden processes'
 * shares of it (chart_series_columns) but those their parent counts (r),
 * broken where none of them lived. */
static int sum_others(struct chart *c, long dst, long first, size_t n,
		      const struct data_run *r)
{
	size_t nc = c->ncols;
	double *sum = calloc(nc, sizeof *sum), *v = calloc(nc, sizeof *v);
	char *alive = calloc(nc, 1), *in = calloc(nc, 1);
	struct decimate *d = &c->series[dst].dec;
	int seen = 0, err = -ENOMEM;

	if (!sum || !v || !alive || !in)
		goto out;
	for (size_t k = 0; k < n; k++) {
		const struct chart_series *s = &c->series[first + (long)k];

		if (!s->hidden || r->procs[k].in_parent)
			continue;
		chart_series_columns(s, v, in);
		for (size_t i = 0; i < nc; i++) {
			sum[i] += v[i];
			alive[i] |= in[i];
		}
	}
	for (size_t i = 0; i < nc; i++) {
		if (!alive[i]) {
			if (seen)
				decimate_break(d);
			continue;
		}
		decimate_add(d, decimate_col_x(d, i), sum[i]);
		seen = 1;
	}
	err = d->err;
out:
	free(sum);
	free(v);
	free(alive);
	free(in);
	return err;
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

		/* A process its parent's values count (includes_children) is
		 * no layer of its own on top of them: a line over the areas. */
		s->stack = !b->runs[0].procs[i].in_parent;
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
		return sum_others(c, o, first, n, &b->runs[0]);
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

/* Reads run r's total for metric m (or its one process) over the window
 * into d, in ncols columns.  Returns 0 or <0; decimate_free(d) in any
 * case. */
static int read_top(struct build *b, const struct data_run *r,
		    enum data_metric m, size_t ncols, struct decimate *d)
{
	struct data_read rd = {.metric = m, .x0 = b->x0, .x1 = b->x1,
			       .absolute = b->absolute, .rollups = b->rollups,
			       .col_s = (b->x1 - b->x0) / (double)ncols};
	struct decimate *one = d;
	int err;

	if ((err = decimate_init(d, b->x0, b->x1, ncols, b->x0, b->x1)) < 0)
		return err;
	err = r->nprocs == 1 ? data_read(b->db, r, &rd, &one, NULL)
			     : data_read(b->db, r, &rd, NULL, d);
	return err ? err : d->err;
}

/* The -s trend of run r's total (or of its one process) for metric m, in
 * colour.  It is read again into SLOPE_MAX_POINTS columns of the window,
 * not taken from the chart's pixel columns: the same data gives the same
 * rate at any canvas size. */
static int add_trend(struct build *b, struct chart *c,
		     const struct data_run *r, enum data_metric m, int colour,
		     const struct decimate *fine)
{
	struct decimate d = {0};
	struct slope sl;
	int err = 0;

	/* The fine columns of a lone process, read with the chart, are as
	 * independent of the canvas (slope_of_decimate() merges them). */
	if (fine ? slope_of_decimate(fine, &sl)
		 : (err = read_top(b, r, m, SLOPE_MAX_POINTS, &d)) ||
			   slope_of_decimate(&d, &sl))
		goto out;
	c->trend = (struct chart_trend){.on = 1,
					.per_s = sl.per_s,
					.intercept = sl.intercept,
					.x_ref = sl.x_ref,
					.xa = sl.xa,
					.xb = sl.xb,
					.colour = colour,
					.text = -1};
out:
	decimate_free(&d);
	return err;
}

/* The seconds one pixel column of d spans (its x are seconds). */
static double column_seconds(const struct decimate *d)
{
	return d->ncols > 0 ? (d->x1 - d->x0) / (double)d->ncols : 0;
}

/* The life of process p on the chart's axis: from its first row to one
 * of its sample intervals after its last, as data_read() holds it in a
 * total. */
static void set_life(const struct build *b, struct chart_series *s,
		     const struct data_proc *p)
{
	double a, z, shift = b->absolute ? 0 : b->runs[0].started;

	data_proc_span(p, &a, &z);
	if (a > z)
		return;
	s->life_a = a - shift;
	s->life_b = z - shift + p->every;
}

/* Columns of the read that weighs markers: one a sample where that is
 * at most this many, so that a 30 ms test is told from its neighbour. */
#define WEIGH_COLS_MAX 65536
/* Spans worth that second read: fewer rarely crowd their lanes, and are
 * weighed on the chart's own columns. */
#define WEIGH_FINE_SPANS 40

/* Whether c's markers are a crowd of spans, worth weighing on a column a
 * sample. */
static int crowded(const struct chart *c)
{
	size_t spans = 0;

	for (size_t i = 0; i < c->nmarkers; i++)
		spans += c->markers[i].t1 >= c->markers[i].t0;
	return spans > WEIGH_FINE_SPANS;
}

/* Prepares d, empty, with a column a sample of run r over the window
 * (SLOPE_MAX_POINTS to WEIGH_COLS_MAX of them, whatever the canvas).
 * Returns 0 or <0; decimate_free(d) in any case. */
static int fine_init(const struct build *b, const struct data_run *r,
		     struct decimate *d)
{
	double every = HUGE_VAL, n;

	for (size_t i = 0; i < r->nprocs; i++)
		every = fmin(every, r->procs[i].every);
	n = (b->x1 - b->x0) / (every > 0 ? every : 1);
	n = fmin(fmax(n, SLOPE_MAX_POINTS), WEIGH_COLS_MAX);
	return decimate_init(d, b->x0, b->x1, (size_t)n, b->x0, b->x1);
}

/* Weighs c's markers (markers_weigh()) by what run r's total (metric m)
 * did in them: on fine (read along with the chart, or NULL), else, for a
 * crowd of spans, on the total read again at a column a sample, else on
 * series top's columns.  Returns 0 or <0. */
static int weigh_markers(struct build *b, struct chart *c,
			 const struct data_run *r, enum data_metric m,
			 long top, const struct decimate *fine)
{
	struct decimate again = {0};
	const struct decimate *d = fine ? fine : &c->series[top].dec;
	int err = 0;

	if (!fine && crowded(c)) {
		if ((err = fine_init(b, r, &again)) ||
		    (err = read_top(b, r, m, again.ncols, &again)))
			goto out;
		d = &again;
	}
	markers_weigh(c, d);
out:
	decimate_free(&again);
	return err;
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
	struct decimate **per = NULL, fine = {0};
	long first = (long)c->nseries, total = -1, top;
	int err = 0, colour, with_fine = 0;

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
		set_life(b, &c->series[s], p);
	}
	for (size_t i = 0; i < r->nprocs; i++)
		per[i] = &c->series[first + (long)i].dec;
	if (r->nprocs)
		rd.col_s = column_seconds(per[0]);
	/* A process alone has no total to read: its samples go to the fine
	 * columns that weigh a crowd of markers and give the trend too, in
	 * the same pass. */
	if (main && r->nprocs == 1 && (crowded(c) || o->slope)) {
		if ((err = fine_init(b, r, &fine)))
			goto out;
		with_fine = 1;
	}
	err = data_read(b->db, r, &rd, per,
			total >= 0  ? &c->series[total].dec
			: with_fine ? &fine
				    : NULL);
	if (!err && with_fine)
		err = fine.err;
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
	if (c->stacked && total >= 0)
		c->series[total].stack_sum = 1;
	top = total >= 0 ? total : r->nprocs == 1 ? first : -1;
	if (top < 0 || !c->series[top].dec.n)
		goto out;
	colour = c->series[top].colour;
	if (main && c->nmarkers &&
	    (err = weigh_markers(b, c, r, m, top, with_fine ? &fine : NULL)))
		goto out;
	if (o->slope && main &&
	    (err = add_trend(b, c, r, m, colour, with_fine ? &fine : NULL)))
		goto out;
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
	decimate_free(&fine);
	return err;
}

/* The legend's name for one of several runs overlaid: its label (from
 * memtide run --label) with its id, else its id and start time, which tell
 * two runs of one command apart: "nightly (run 12)", "run 12, 11-20
 * 08:00:03: python3 -m dsjob.crunch". */
static void overlay_label(const struct data_run *r, char *buf, size_t len)
{
	char cmd[160], when[32] = "";
	time_t t = (time_t)floor(r->started);
	struct tm tm;

	if (r->label && *r->label) {
		snprintf(buf, len, "%s (run %lld)", r->label, (long long)r->id);
		return;
	}
	if (localtime_r(&t, &tm))
		strftime(when, sizeof when, ", %m-%d %H:%M:%S", &tm);
	label_command(r->command, NULL, cmd, sizeof cmd);
	snprintf(buf, len, "run %lld%s: %s", (long long)r->id, when, cmd);
}

/* A panel of several runs overlaid: each run's total for metric m. */
static int build_overlay(struct build *b, struct chart *c, enum data_metric m,
			 int main)
{
	for (size_t i = 0; i < b->nruns; i++) {
		const struct data_run *r = &b->runs[i];
		struct data_read rd = {.metric = m, .x0 = b->x0, .x1 = b->x1};
		char buf[224];
		long s;
		int err;

		overlay_label(r, buf, sizeof buf);
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

/* Markers into a chart, shifted from Unix seconds onto its axis; for
 * history (procs set), only those of run's processes drawn. */
struct marker_sink {
	struct chart *c;
	double offset;
	const struct data_run *procs;
	int64_t run;
};

/* Whether history r draws process pid of run at Unix second t: a pid
 * names one process only while it lives. */
static int drawn(const struct data_run *r, int64_t run, int pid, double t)
{
	for (size_t i = 0; i < r->nprocs; i++) {
		const struct data_proc *p = &r->procs[i];
		double a, z;

		if (p->run != run || p->pid != pid)
			continue;
		data_proc_span(p, &a, &z);
		if (t >= a - p->every && t <= z + p->every)
			return 1;
	}
	return 0;
}

static int add_marker(void *ctx, const char *label, double a, double b,
		      int level, int pid)
{
	struct marker_sink *k = ctx;

	/* A marker that names no process is the whole run's. */
	if (k->procs && pid > 0 && !drawn(k->procs, k->run, pid, a))
		return 0;
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
		if (b->o->stacks)
			return stackspans_read(b->db, r->id, b->x0 + k.offset,
					       b->x1 + k.offset, add_marker, &k);
		return data_marks_read(b->db, r->id, b->x0 + k.offset,
				       b->x1 + k.offset, add_marker, &k);
	}
	for (size_t i = 0; i < r->nprocs && !err; i++) {
		int seen = 0;

		for (size_t j = 0; j < i && !seen; j++)
			seen = r->procs[j].run == r->procs[i].run;
		k.procs = r;
		k.run = r->procs[i].run;
		if (!seen)
			err = data_marks_read(b->db, k.run, b->x0, b->x1,
					      add_marker, &k);
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
		/* Two rows at least: room for the axis title of one. */
		flame = fmin(fmax(flame_levels, 2) * 1.6 * font + font,
			     0.3 * H);
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
		if ((err = chart_set_y_title(c, o->stacks ? "code" : "calls")) ||
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
