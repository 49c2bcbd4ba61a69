/* chart.c - the chart model: scales, margins, legend and label placement
 * (see chart.h). */
#include "chart.h"

#include "label.h"
#include "lanes.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* How far capitals and digits rise above the baseline, and descenders drop
 * below it, in ems of a sans face (DejaVu Sans, the default here).  Text
 * boxes, and so every overlap test, are built from these. */
#define ASCENT 0.76
#define DESCENT 0.24

/* A placement that breaks a hard rule (overlaps text, leaves the plot)
 * costs this much more than any amount of hidden data. */
#define FORBIDDEN 1e9

static const unsigned char palette[CHART_PALETTE_N][3] = {
	{0x00, 0x72, 0xB2}, /* blue */
	{0xD5, 0x5E, 0x00}, /* vermillion */
	{0x00, 0x9E, 0x73}, /* bluish green */
	{0xCC, 0x79, 0xA7}, /* reddish purple */
	{0xE6, 0x9F, 0x00}, /* orange */
	{0x56, 0xB4, 0xE9}, /* sky blue */
};

/* On the dark background each colour keeps its hue, so a process is the
 * same colour in both themes; the ones too dim there are lightened. */
static const unsigned char palette_dark[CHART_PALETTE_N][3] = {
	{0x3E, 0x9A, 0xE6}, /* blue */
	{0xEE, 0x72, 0x1E}, /* vermillion */
	{0x1F, 0xBF, 0x8F}, /* bluish green */
	{0xE0, 0x94, 0xC0}, /* reddish purple */
	{0xF2, 0xAC, 0x1E}, /* orange */
	{0x9C, 0xD8, 0xF7}, /* sky blue */
};

void chart_theme_rgb(int dark, int colour, double rgb[3])
{
	/* INK, GREY, MUTED, BG, GRID, PANEL */
	static const unsigned char special[2][6][3] = {
		{{0x1a, 0x1a, 0x1a}, {0xa0, 0xa0, 0xa0}, {0x5c, 0x5c, 0x5c},
		 {0xff, 0xff, 0xff}, {0xe6, 0xe6, 0xe6}, {0xff, 0xff, 0xff}},
		{{0xe8, 0xe8, 0xe8}, {0x80, 0x80, 0x80}, {0xa8, 0xa8, 0xa8},
		 {0x1c, 0x1e, 0x22}, {0x36, 0x39, 0x3f}, {0x1c, 0x1e, 0x22}},
	};
	const unsigned char *c;

	if (colour >= 0)
		c = (dark ? palette_dark : palette)[colour % CHART_PALETTE_N];
	else if (colour >= CHART_PANEL)
		c = special[!!dark][-colour - 1];
	else
		c = special[!!dark][0];
	for (int i = 0; i < 3; i++)
		rgb[i] = c[i] / 255.0;
}

void chart_colour_rgb(int colour, double rgb[3])
{
	chart_theme_rgb(0, colour, rgb);
}

int chart_init(struct chart *c, int width, int height, double x0, double x1)
{
	memset(c, 0, sizeof *c);
	if (width < 1 || height < 1 || !(x1 > x0))
		return -EINVAL;
	c->width = width;
	c->height = height;
	c->x0 = x0;
	c->x1 = x1;
	c->ncols = (size_t)width;
	c->x_labels = 1;
	c->marker_labels = CHART_MOMENTS | CHART_SPANS;
	c->trend.text = -1;
	return 0;
}

void chart_free(struct chart *c)
{
	for (size_t i = 0; i < c->nseries; i++) {
		free(c->series[i].label);
		free(c->series[i].stack_lo);
		free(c->series[i].stack_hi);
		decimate_free(&c->series[i].dec);
	}
	for (size_t i = 0; i < c->nmarkers; i++)
		free(c->markers[i].label);
	free(c->markers);
	free(c->y_title);
	free(c->series);
	free(c->marks);
	free(c->title);
	free(c->note);
	free(c->lay.legend_series);
	free(c->lay.texts);
	memset(c, 0, sizeof *c);
}

static int replace(char **dst, const char *s)
{
	char *copy = NULL;

	if (s && !(copy = strdup(s)))
		return -ENOMEM;
	free(*dst);
	*dst = copy;
	return 0;
}

int chart_set_title(struct chart *c, const char *s)
{
	return replace(&c->title, s);
}

int chart_set_note(struct chart *c, const char *s)
{
	return replace(&c->note, s);
}

long chart_add_series(struct chart *c, const char *label, int colour,
		      enum chart_weight weight, double xa, double xb)
{
	struct chart_series *v, *s;

	v = realloc(c->series, (c->nseries + 1) * sizeof *v);
	if (!v)
		return -ENOMEM;
	c->series = v;
	s = &v[c->nseries];
	memset(s, 0, sizeof *s);
	if (label && !(s->label = strdup(label)))
		return -ENOMEM;
	s->legend_order = (int)c->nseries;
	s->life_a = 1;
	s->life_b = 0;
	s->colour = colour;
	s->weight = weight;
	if (decimate_init(&s->dec, c->x0, c->x1, c->ncols, xa, xb) < 0) {
		free(s->label);
		decimate_free(&s->dec);
		return -ENOMEM;
	}
	return (long)c->nseries++;
}

int chart_set_y_title(struct chart *c, const char *s)
{
	return replace(&c->y_title, s);
}

int chart_add_marker(struct chart *c, const char *label, double t0, double t1,
		     int level)
{
	struct chart_marker *v;
	char *copy = strdup(label ? label : "");

	if (!copy)
		return -ENOMEM;
	v = realloc(c->markers, (c->nmarkers + 1) * sizeof *v);
	if (!v) {
		free(copy);
		return -ENOMEM;
	}
	c->markers = v;
	v[c->nmarkers++] = (struct chart_marker){.label = copy,
						 .t0 = t0,
						 .t1 = t1,
						 .level = level < 0 ? 0 : level,
						 .lane = -1,
						 .text = -1};
	return 0;
}

static const struct ticks_unit percent_unit = {"%", 1}, count_unit = {"", 1};

char *chart_format_value(const struct chart *c, double v, char *buf,
			 size_t len)
{
	if (c->value == CHART_PERCENT)
		snprintf(buf, len, "%.1f %%", v);
	else if (c->value == CHART_COUNT)
		snprintf(buf, len, "%.0f", v);
	else
		ticks_format_bytes(v, c->lay.unit ? c->lay.unit
						  : ticks_unit_bytes(v),
				   buf, len);
	return buf;
}

int chart_add_mark(struct chart *c, enum chart_mark_kind kind, double bytes,
		   int colour)
{
	struct chart_mark *v = realloc(c->marks, (c->nmarks + 1) * sizeof *v);

	if (!v)
		return -ENOMEM;
	c->marks = v;
	v[c->nmarks++] = (struct chart_mark){
		.kind = kind, .bytes = bytes, .colour = colour, .text = -1};
	return 0;
}

double chart_x(const struct chart *c, double seconds)
{
	const struct chart_rect *p = &c->lay.plot;

	return p->x + (seconds - c->x0) / (c->x1 - c->x0) * p->w;
}

double chart_y(const struct chart *c, double bytes)
{
	const struct chart_rect *p = &c->lay.plot;

	return p->y + p->h - bytes / c->lay.y1 * p->h;
}

double chart_line_width(const struct chart *c, enum chart_weight w)
{
	static const double factor[] = {
		[CHART_THIN] = 0.6, [CHART_NORMAL] = 1, [CHART_THICK] = 1.7};

	return c->lay.line * factor[w];
}

double chart_font(int width, int height)
{
	/* Type scales with the canvas: 13.3 at 1200x600.  Below that it
	 * shrinks half as fast, staying at 11 down to 480x240 (digits 8
	 * pixels tall, the smallest text, 0.85 of it, at 9), and at 7 on the
	 * smallest canvases, where more would leave no room for the data. */
	double m = fmin((double)width, 2.0 * height);

	return fmin(fmax(m / 90, fmin(11, fmax(7, m / 43))), 40);
}

/* The state of one chart_layout() call. */
struct lay {
	struct chart *c;
	chart_measure_fn measure;
	void *ctx;
	size_t cap;         /* of c->lay.texts */
	double headroom;    /* px the memory axis keeps free above the data */
	double marker_h;    /* px of marker lanes at the top of the plot */
	double outside_w;   /* > 0: the legend goes right of the plot, this
			     * wide with its gap */
	double legend_cost; /* data_cost() of the legend's place */
	int above;          /* the legend goes in rows above the plot */
	double above_h;     /* the room kept for it there */
	double above_need;  /* the room it asked for */
	int above_ok;       /* every entry found room there */
	int err;
};

static double width_of(struct lay *k, const char *text, double size, int bold)
{
	return k->measure(k->ctx, text, size, bold);
}

/* Shortens text in place with a trailing ellipsis until it is at most maxw
 * wide.  A binary search over the byte length: width grows with length. */
static void fit(struct lay *k, char *text, size_t cap, double size, int bold,
		double maxw)
{
	static const char ell[] = "\xe2\x80\xa6"; /* U+2026 */
	char buf[sizeof((struct chart_text *)0)->text];
	size_t lo = 0, hi = strlen(text), best = 0;

	if (width_of(k, text, size, bold) <= maxw)
		return;
	if (hi >= sizeof buf - sizeof ell)
		hi = sizeof buf - sizeof ell;
	while (lo <= hi) {
		size_t mid = (lo + hi) / 2, n = label_utf8_cut(text, mid);

		memcpy(buf, text, n);
		while (n > 0 && buf[n - 1] == ' ')
			n--;
		memcpy(buf + n, ell, sizeof ell);
		if (width_of(k, buf, size, bold) <= maxw) {
			best = mid;
			lo = mid + 1;
		} else {
			if (mid == 0)
				break;
			hi = mid - 1;
		}
	}
	best = label_utf8_cut(text, best);
	while (best > 0 && text[best - 1] == ' ')
		best--;
	if (best + sizeof ell > cap)
		best = label_utf8_cut(text, cap - sizeof ell);
	memcpy(text + best, ell, sizeof ell);
}

/* Appends a text (copied, cut to fit the array) and returns it, or NULL
 * when out of memory. */
static struct chart_text *add_text(struct lay *k, const char *s,
				   enum chart_role role, double size, int bold,
				   int colour)
{
	struct chart_layout *L = &k->c->lay;
	struct chart_text *t;
	size_t n;

	if (L->ntexts == k->cap) {
		size_t cap = k->cap ? 2 * k->cap : 64;

		t = realloc(L->texts, cap * sizeof *t);
		if (!t) {
			k->err = -ENOMEM;
			return NULL;
		}
		L->texts = t;
		k->cap = cap;
	}
	t = &L->texts[L->ntexts++];
	memset(t, 0, sizeof *t);
	n = label_utf8_cut(s, sizeof t->text - 1);
	memcpy(t->text, s, n);
	t->role = role;
	t->size = size;
	t->bold = bold;
	t->colour = colour;
	return t;
}

/* Anchors t at (x, y) and works out its box.  Vertical text runs upwards
 * from its anchor, its glyphs rising towards smaller x. */
static void anchor(struct lay *k, struct chart_text *t, double x, double y,
		   enum chart_align align, int vertical)
{
	double w = width_of(k, t->text, t->size, t->bold);
	double start = align == CHART_LEFT     ? 0
		       : align == CHART_CENTRE ? w / 2
					       : w;

	t->x = x;
	t->y = y;
	t->align = align;
	t->vertical = vertical;
	if (vertical)
		t->box = (struct chart_rect){x - ASCENT * t->size,
					     y - w + start, t->size, w};
	else
		t->box = (struct chart_rect){x - start, y - ASCENT * t->size, w,
					     t->size};
}

static int overlap(const struct chart_rect *a, const struct chart_rect *b)
{
	return a->x < b->x + b->w && b->x < a->x + a->w && a->y < b->y + b->h &&
	       b->y < a->y + a->h;
}

static int inside(const struct chart_rect *a, const struct chart_rect *outer)
{
	return a->x >= outer->x && a->y >= outer->y &&
	       a->x + a->w <= outer->x + outer->w &&
	       a->y + a->h <= outer->y + outer->h;
}

/* How much of the drawn data the rectangle r would hide: the length of
 * every column's vertical span (and of the joins across empty columns)
 * inside r, plus one per column touched, so that grazing a line still
 * counts.  Mark lines crossing r count a third of their covered length.
 * Works on the columns as read, so it holds before and after re_bucket(). */
static double data_cost(const struct chart *c, const struct chart_rect *r)
{
	double cost = 0, top = r->y, bot = r->y + r->h, right = r->x + r->w;

	for (size_t s = 0; s < c->nseries; s++) {
		const struct decimate *d = &c->series[s].dec;
		double pad = chart_line_width(c, c->series[s].weight);
		double prev_x = 0, prev_y = 0;
		int have_prev = 0;

		if (c->series[s].hidden)
			continue;
		for (size_t i = d->lo; i < d->hi; i++) {
			const struct decimate_col *col = decimate_get(d, i);
			double x, y0, y1, ov, xa, xb;

			if (!col)
				continue;
			x = chart_x(c, decimate_col_x(d, i));
			xa = fmax(prev_x, r->x);
			xb = fmin(x, right);
			if (have_prev && xb > xa && !col->brk) {
				/* The straight join from the previous filled
				 * column, over the part of it above r. */
				double yb = chart_y(c, col->first),
				       k = (yb - prev_y) / (x - prev_x);
				double ya_ = prev_y + k * (xa - prev_x),
				       yb_ = prev_y + k * (xb - prev_x);

				if (fmax(ya_, yb_) + pad > top &&
				    fmin(ya_, yb_) - pad < bot)
					cost += (xb - xa) * (1 + 2 * pad);
			}
			have_prev = 1;
			prev_x = x;
			prev_y = chart_y(c, col->last);
			if (x < r->x || x >= right)
				continue;
			y0 = chart_y(c, col->max) - pad;
			/* Stacked areas fill everything below their top. */
			y1 = chart_y(c, c->stacked ? 0 : col->min) + pad;
			ov = fmin(y1, bot) - fmax(y0, top);
			if (ov > 0)
				cost += 1 + ov;
		}
	}
	for (size_t m = 0; m < c->nmarks; m++) {
		double y = chart_y(c, c->marks[m].bytes);

		if (y >= top && y <= bot)
			cost += r->w / 3;
	}
	return cost;
}

/* Puts the memory axis in a unit and a 1-2-5 step, leaving room above the
 * highest value for a mark label (or a little air without one). */
static void layout_y(struct lay *k)
{
	struct chart *c = k->c;
	struct chart_layout *L = &c->lay;
	double vmax = 0, vu, need, f, target, step, top;
	int max_ticks;

	for (size_t i = 0; i < c->nseries; i++)
		if (c->series[i].dec.n && c->series[i].dec.vmax > vmax)
			vmax = c->series[i].dec.vmax;
	for (size_t i = 0; i < c->nmarks; i++)
		if (c->marks[i].bytes > vmax)
			vmax = c->marks[i].bytes;
	if (c->trend.on)
		vmax = fmax(vmax, c->trend.intercept +
					  c->trend.per_s *
						  (c->trend.xb - c->trend.x_ref));
	L->unit = c->value == CHART_BYTES     ? ticks_unit_bytes(vmax)
		  : c->value == CHART_PERCENT ? &percent_unit
					      : &count_unit;
	vu = vmax / L->unit->bytes;
	need = c->nmarks ? L->font + 6 : 0.03 * L->plot.h;
	need = fmax(need, k->headroom) + k->marker_h;
	f = fmin(0.5, need / fmax(L->plot.h, 1));
	target = vu > 0 ? vu / (1 - f) : 1;
	max_ticks = (int)floor(L->plot.h / (2.6 * L->font)) + 1;
	if (max_ticks < 2)
		max_ticks = 2;
	step = ticks_step(target, max_ticks);
	if (c->value == CHART_COUNT && step < 1)
		step = 1;
	top = ceil(target / step - 1e-9) * step;
	if (top < step)
		top = step;
	/* Rounding up to a whole step may add one tick over max_ticks; the
	 * top sits on a tick all the same. */
	L->yt.first = 0;
	L->yt.step = step;
	L->yt.n = (int)lround(top / step) + 1;
	L->yt.decimals = ticks_decimals(step);
	L->y1 = top * L->unit->bytes;
}

/* The label of x tick i. */
static char *x_label(const struct chart *c, int i, char *buf, size_t len)
{
	if (c->wall)
		return timeaxis_label(&c->lay.wt, c->lay.xv[i], buf, len);
	return ticks_format(&c->lay.xt, c->lay.xv[i], buf, len);
}

/* Picks ticks for a plot width on either kind of axis, into xv. */
static void pick_x(struct chart *c, int max_ticks)
{
	struct chart_layout *L = &c->lay;

	if (c->wall) {
		timeaxis_ticks(c->x0, c->x1, max_ticks, &L->wt);
		L->nx = L->wt.n;
		memcpy(L->xv, L->wt.t, (size_t)L->nx * sizeof *L->xv);
		return;
	}
	ticks_nice(c->x0, c->x1, max_ticks, &L->xt);
	L->nx = L->xt.n < TIMEAXIS_MAX ? L->xt.n : TIMEAXIS_MAX;
	for (int i = 0; i < L->nx; i++)
		L->xv[i] = ticks_value(&L->xt, i);
}

/* Chooses x ticks whose widest label fits between neighbours with a gap of
 * two ems.  Label width depends on the step (decimals, or the clock's
 * format), so iterate. */
static void layout_x(struct lay *k)
{
	struct chart *c = k->c;
	struct chart_layout *L = &c->lay;
	char buf[64];
	double w_est, w, last, q, limit;
	int max_ticks;

	if (c->wall)
		snprintf(buf, sizeof buf, "00:00");
	else
		snprintf(buf, sizeof buf, "%.1f",
			 fmax(fabs(c->x0), fabs(c->x1)));
	w_est = width_of(k, buf, L->font, 0);
	for (int iter = 0; iter < 6; iter++) {
		max_ticks = (int)floor(L->plot.w / (w_est + 2 * L->font)) + 1;
		if (max_ticks < 2)
			max_ticks = 2;
		pick_x(c, max_ticks);
		w = 0;
		for (int i = 0; i < L->nx; i++)
			w = fmax(w, width_of(k, x_label(c, i, buf, sizeof buf),
					     L->font, 0));
		if (w <= w_est + 0.5)
			break;
		w_est = w;
	}
	if (L->nx == 0 || c->force_w > 0)
		return;
	/* The last label is centred on its tick: narrow the plot until it
	 * stays on the canvas. */
	last = L->xv[L->nx - 1];
	w = width_of(k, x_label(c, L->nx - 1, buf, sizeof buf), L->font, 0);
	q = (last - c->x0) / (c->x1 - c->x0);
	limit = c->width - 0.5 * L->font - w / 2;
	if (q > 0 && chart_x(c, last) > limit)
		L->plot.w = fmax(1, floor((limit - L->plot.x) / q));
}

static int re_bucket(struct chart *c)
{
	size_t ncols = (size_t)c->lay.plot.w;

	for (size_t i = 0; i < c->nseries; i++) {
		struct decimate tmp;
		int err = decimate_resample(&c->series[i].dec, &tmp, ncols);

		if (err) {
			decimate_free(&tmp);
			return err;
		}
		decimate_free(&c->series[i].dec);
		c->series[i].dec = tmp;
	}
	c->ncols = ncols;
	return 0;
}

static int by_legend_order(const void *a, const void *b, void *arg)
{
	const struct chart *c = arg;
	long i = *(const long *)a, j = *(const long *)b;
	int oi = c->series[i].legend_order, oj = c->series[j].legend_order;

	if (oi != oj)
		return oi < oj ? -1 : 1;
	return i < j ? -1 : i > j;
}

/* A series is in the legend when it has a label and something to draw. */
static int listed(const struct chart_series *s)
{
	return s->label && (s->dec.n || (s->dec.has_pre && s->dec.has_post));
}

/* The legend in a grid of columns between the title and the plot, as
 * wide as the plot: where a legend beside the plot would leave the panels
 * under it an empty strip, or cut names on a small canvas.  idx (owned
 * from here) lists the n series in legend order.  At most a quarter of the
 * canvas tall; the last entry then says how many more there are.  Asks
 * for its height in k->above_need. */
/* One legend entry: series idx's label, or (idx < 0) how many were left
 * out, fitted to max_w.  Returns its text, or NULL when out of room. */
static struct chart_text *legend_entry(struct lay *k, long idx, size_t left_out,
				       double size, double max_w)
{
	struct chart_text *t;
	char more[64];
	const char *s = more;

	if (idx >= 0)
		s = k->c->series[idx].label;
	else
		snprintf(more, sizeof more, "%zu more", left_out);
	t = add_text(k, s, CHART_LEGEND, size, 0, idx >= 0 ? CHART_INK : CHART_MUTED);
	if (t)
		fit(k, t->text, sizeof t->text, size, 0, max_w);
	return t;
}

static void layout_legend_above(struct lay *k, long *idx, size_t n)
{
	struct chart *c = k->c;
	struct chart_layout *L = &c->lay;
	const struct chart_rect *p = &L->plot;
	double size = L->font, row = 1.4 * size, pad = 0.6 * size;
	double swatch = 1.6 * size, gap = 0.5 * size, text_w = 0, col_w, y;
	size_t cols, rows, max_rows, shown = n, first_text = L->ntexts;

	k->above_ok = 1;

	/* Panels share the canvas with others: their legend may take more
	 * of their own height than a lone chart's. */
	double budget = (c->band_h > 0 ? 0.45 : 0.2) * (p->h + k->above_h);

	max_rows = (size_t)fmax(c->band_h > 0,
				floor((budget - 1.2 * pad - 0.6 * size) / row));
	if (max_rows == 0) {
		/* No room for a row: the caller puts it elsewhere. */
		k->above_ok = 0;
		max_rows = 1;
	}
	for (size_t i = 0; i < n; i++)
		text_w = fmax(text_w, width_of(k, c->series[idx[i]].label, size,
					       0));
	text_w = fmin(text_w, p->w - swatch - gap - 2 * pad);
	col_w = ceil(swatch + gap + text_w + pad);
	cols = (size_t)fmax(1, floor((p->w - pad) / col_w));
	rows = (n + cols - 1) / cols;
	if (rows > max_rows) {
		/* More columns, names shortened to fit them, down to six
		 * ems; what still does not fit is counted in the last. */
		double min_w = 6 * size + swatch + gap + pad;

		cols = (n + max_rows - 1) / max_rows;
		if ((p->w - pad) / (double)cols < min_w)
			cols = (size_t)fmax(1, floor((p->w - pad) / min_w));
		col_w = floor((p->w - pad) / (double)cols);
		text_w = col_w - swatch - gap - pad;
		rows = (n + cols - 1) / cols;
		if (rows > max_rows) {
			rows = max_rows;
			shown = rows * cols;
			idx[shown - 1] = -1;
		}
	}
	k->above_ok = k->above_ok && shown == n;
	for (size_t i = 0; i < shown; i++)
		if (!legend_entry(k, idx[i], n - shown + 1, size, text_w)) {
			free(idx);
			return;
		}
	if (cols > shown)
		cols = shown;
	L->legend = (struct chart_rect){
		p->x, p->y - k->above_h, ceil(pad + (double)cols * col_w),
		ceil(2 * pad * 0.6 + (double)rows * row)};
	k->above_need = L->legend.h + round(0.6 * size);
	k->legend_cost = 0;
	L->legend_row = row;
	L->legend_swatch = swatch;
	L->legend_pad = pad;
	L->legend_n = shown;
	L->legend_series = idx;
	L->legend_cols = cols;
	L->legend_col_w = col_w;
	for (size_t i = 0; i < shown; i++) {
		y = L->legend.y + 0.6 * pad + ((double)(i / cols) + 0.5) * row +
		    (ASCENT - DESCENT) / 2 * size;
		anchor(k, &L->texts[first_text + i],
		       L->legend.x + pad + (double)(i % cols) * col_w + swatch +
			       gap,
		       y, CHART_LEFT, 0);
	}
}

/* Builds the legend's rows and texts and puts the box in whichever corner
 * or edge hides the least data; matplotlib's "best" order breaks ties. */
static void layout_legend(struct lay *k)
{
	struct chart *c = k->c;
	struct chart_layout *L = &c->lay;
	const struct chart_rect *p = &L->plot;
	double size = L->font, row = 1.4 * size, pad = 0.6 * size;
	double swatch = 2.2 * size, gap = 0.6 * size, text_w = 0, maxw, m;
	double best = HUGE_VAL, w, h;
	size_t n = 0, rows, max_rows, first_text = L->ntexts;
	struct chart_rect cand[8];
	long *idx;

	for (size_t i = 0; i < c->nseries; i++)
		n += listed(&c->series[i]);
	if (n == 0)
		return;
	idx = malloc(n * sizeof *idx);
	if (!idx) {
		k->err = -ENOMEM;
		return;
	}
	n = 0;
	for (size_t i = 0; i < c->nseries; i++)
		if (listed(&c->series[i]))
			idx[n++] = (long)i;
	qsort_r(idx, n, sizeof *idx, by_legend_order, c);
	if (k->above) {
		layout_legend_above(k, idx, n);
		return;
	}
	max_rows = (size_t)fmax(1, floor((p->h * 0.9 - 2 * pad) / row));
	rows = n;
	if (rows > max_rows) {
		rows = max_rows;
		/* The last row says how many were left out. */
		idx[rows - 1] = -1;
	}
	maxw = fmax(p->w * 0.4 - swatch - gap - 2 * pad, 4 * size);
	for (size_t r = 0; r < rows; r++) {
		struct chart_text *t = legend_entry(k, idx[r], n - rows + 1, size, maxw);

		if (!t) {
			free(idx);
			return;
		}
		text_w = fmax(text_w, width_of(k, t->text, size, 0));
	}
	w = ceil(pad + swatch + gap + text_w + pad);
	h = ceil(2 * pad * 0.6 + rows * row);
	m = round(0.5 * L->font);
	{
		double l = p->x + m, r = p->x + p->w - m - w;
		double t = p->y + L->lanes.h + m, b = p->y + p->h - m - h;
		double cx = p->x + round((p->w - w) / 2),
		       cy = p->y + round((p->h - h) / 2);

		cand[0] = (struct chart_rect){r, t, w, h};  /* upper right */
		cand[1] = (struct chart_rect){l, t, w, h};  /* upper left */
		cand[2] = (struct chart_rect){l, b, w, h};  /* lower left */
		cand[3] = (struct chart_rect){r, b, w, h};  /* lower right */
		cand[4] = (struct chart_rect){r, cy, w, h}; /* right */
		cand[5] = (struct chart_rect){l, cy, w, h}; /* left */
		cand[6] = (struct chart_rect){cx, b, w, h}; /* lower centre */
		cand[7] = (struct chart_rect){cx, t, w, h}; /* upper centre */
	}
	if (k->outside_w > 0) {
		/* The plot was narrowed to make room beside it. */
		cand[0] = (struct chart_rect){p->x + p->w + m, p->y, w, h};
		for (size_t i = 1; i < sizeof cand / sizeof cand[0]; i++)
			cand[i] = cand[0];
	}
	for (size_t i = 0; i < sizeof cand / sizeof cand[0]; i++) {
		double cost = data_cost(c, &cand[i]) + 0.01 * (double)i;

		if (k->outside_w > 0)
			cost = 0;
		else if (!inside(&cand[i], p) ||
		    (L->lanes.h > 0 && overlap(&cand[i], &L->lanes)))
			cost += FORBIDDEN;
		if (cost < best) {
			best = cost;
			L->legend = cand[i];
		}
	}
	k->legend_cost = best;
	L->legend_row = row;
	L->legend_swatch = swatch;
	L->legend_pad = pad;
	L->legend_n = rows;
	L->legend_series = idx;
	L->legend_cols = 1;
	L->legend_col_w = w;
	for (size_t r = 0; r < rows; r++) {
		double base = L->legend.y + 0.6 * pad + (r + 0.5) * row +
			      (ASCENT - DESCENT) / 2 * size;

		anchor(k, &L->texts[first_text + r],
		       L->legend.x + pad + swatch + gap, base, CHART_LEFT, 0);
	}
}

static int hits_text(const struct chart_layout *L, const struct chart_rect *r,
		     size_t upto)
{
	for (size_t i = 0; i < upto; i++)
		if (overlap(r, &L->texts[i].box))
			return 1;
	return 0;
}

/* Labels each mark ("peak 301.2 MiB") at an end of its line, above or
 * below it, choosing the spot that hides the least data and touches no
 * other text, legend or mark line. */
static void layout_marks(struct lay *k)
{
	struct chart *c = k->c;
	struct chart_layout *L = &c->lay;
	const struct chart_rect *p = &L->plot;
	double size = L->font, m = 0.5 * L->font, g = 0.25 * L->font;
	/* The legend with a little air around it. */
	const struct chart_rect clear = {L->legend.x - g, L->legend.y - g,
					 L->legend.w + 2 * g,
					 L->legend.h + 2 * g};

	for (size_t i = 0; i < c->nmarks; i++) {
		c->marks[i].y = chart_y(c, c->marks[i].bytes);
		c->marks[i].folded = 0;
	}
	/* A kernel peak within a few units of its sampled peak would draw as
	 * one muddled line: say both values on the peak's line instead. */
	for (size_t i = 0; i < c->nmarks; i++)
		for (size_t j = 0; j < c->nmarks; j++)
			if (c->marks[i].kind == CHART_KERNEL_PEAK &&
			    c->marks[j].kind == CHART_PEAK &&
			    c->marks[i].colour == c->marks[j].colour &&
			    fabs(c->marks[i].y - c->marks[j].y) < 3)
				c->marks[i].folded = 1 + (int)j;
	for (size_t i = 0; i < c->nmarks; i++) {
		struct chart_mark *mk = &c->marks[i];
		struct chart_text *t;
		char val[48], text[160];
		double best = HUGE_VAL, bx = 0, by = 0;
		enum chart_align ba = CHART_RIGHT;
		double lw = chart_line_width(c, CHART_NORMAL);
		double above = mk->y - 0.35 * size - lw;
		double below = mk->y + 0.35 * size + ASCENT * size + lw;
		const struct {
			double x, y;
			enum chart_align a;
		} cand[] = {
			{p->x + p->w - m, above, CHART_RIGHT},
			{p->x + m, above, CHART_LEFT},
			{p->x + p->w - m, below, CHART_RIGHT},
			{p->x + m, below, CHART_LEFT},
			{p->x + p->w / 2, above, CHART_CENTRE},
			{p->x + p->w / 2, below, CHART_CENTRE},
		};

		if (mk->folded)
			continue;
		chart_format_value(c, mk->bytes, val, sizeof val);
		snprintf(text, sizeof text, "%s %s",
			 mk->kind == CHART_KERNEL_PEAK ? "kernel peak" : "peak",
			 val);
		for (size_t o = 0; o < c->nmarks; o++)
			if (c->marks[o].folded == 1 + (int)i) {
				size_t n = strlen(text);

				chart_format_value(c, c->marks[o].bytes, val,
						   sizeof val);
				snprintf(text + n, sizeof text - n,
					 " (kernel %s)", val);
			}
		t = add_text(k, text, CHART_MARK_LABEL, size, 0, mk->colour);
		if (!t)
			return;
		/* A small canvas: shortened rather than off the plot. */
		fit(k, t->text, sizeof t->text, size, 0, p->w - 2 * m);
		for (size_t j = 0; j < sizeof cand / sizeof cand[0]; j++) {
			double cost;

			anchor(k, t, cand[j].x, cand[j].y, cand[j].a, 0);
			cost = data_cost(c, &t->box) + 0.01 * (double)j;
			if (!inside(&t->box, p))
				cost += FORBIDDEN;
			if ((L->legend.w > 0 && overlap(&t->box, &clear)) ||
			    (L->lanes.h > 0 && overlap(&t->box, &L->lanes)) ||
			    hits_text(L, &t->box, L->ntexts - 1))
				cost += FORBIDDEN;
			for (size_t o = 0; o < c->nmarks; o++)
				if (o != i && !c->marks[o].folded &&
				    c->marks[o].y >= t->box.y - 1 &&
				    c->marks[o].y <= t->box.y + t->box.h + 1)
					cost += FORBIDDEN / 1e3;
			if (cost < best) {
				best = cost;
				bx = cand[j].x;
				by = cand[j].y;
				ba = cand[j].a;
			}
		}
		anchor(k, t, bx, by, ba, 0);
		mk->text = (int)(L->ntexts - 1);
	}
}

int chart_marker_pinned(const struct chart *c, const struct chart_marker *m)
{
	return m->t1 < m->t0 || chart_x(c, m->t1) - chart_x(c, m->t0) < 3;
}

/* Orders marker indices by weight, heaviest first, then by time. */
static int by_weight(const void *x, const void *y, void *arg)
{
	const struct chart_marker *m = arg;
	const size_t *u = x, *v = y;
	double wa = m[u[1]].weight, wb = m[v[1]].weight;

	if (wa != wb)
		return wa > wb ? -1 : 1;
	return m[u[1]].t0 < m[v[1]].t0 ? -1 : m[u[1]].t0 > m[v[1]].t0;
}

/* Whether any marker of c weighs something. */
static int weighed(const struct chart *c)
{
	for (size_t i = 0; i < c->nmarkers; i++)
		if (c->markers[i].weight > 0)
			return 1;
	return 0;
}

/* Spans labelled at most in a crowd: the rest are ticks. */
#define CROWD_LABELS 12

/* Lanes for a crowd of labels that do not all fit: only the markers that
 * matter get one, heaviest (c->markers[idx[j]].weight) first, so the
 * spike's span keeps its label among hundreds: every moment when they
 * weigh (see figure.c), and up to CROWD_LABELS spans that weigh a tenth
 * of the heaviest span or more.  Returns the lanes used. */
static size_t lanes_by_weight(const struct chart *c, const size_t *idx,
			      const double *a, const double *b, size_t n,
			      double gap, size_t max_lanes, int *lane)
{
	/* Pairs (item, marker), sorted by the marker's weight. */
	size_t *pair = malloc((n ? n : 1) * 2 * sizeof *pair);
	size_t *order = malloc((n ? n : 1) * sizeof *order), used = 0;

	if (pair && order) {
		double top = 0;
		size_t m = 0, spans = 0;

		for (size_t j = 0; j < n; j++) {
			const struct chart_marker *k = &c->markers[idx[j]];

			pair[2 * j] = j;
			pair[2 * j + 1] = idx[j];
			if (k->t1 >= k->t0 && isfinite(k->weight))
				top = fmax(top, k->weight);
		}
		qsort_r(pair, n, 2 * sizeof *pair, by_weight, c->markers);
		for (size_t j = 0; j < n; j++) {
			const struct chart_marker *k = &c->markers[pair[2 * j + 1]];

			if (k->t1 < k->t0 ? !(k->weight > 0)
					  : !(k->weight > 0) ||
						    k->weight < 0.1 * top ||
						    spans++ >= CROWD_LABELS)
				continue;
			order[m++] = pair[2 * j];
		}
		used = lanes_assign_ranked(a, b, n, gap, max_lanes, order, m,
					   lane);
	}
	free(pair);
	free(order);
	return used;
}

/* Labels the markers in lanes at the top of the plot: a moment's label
 * right of its line (left of it near the right edge), a span's above its
 * bracket; lanes stack them so that none collide, up to a third of the
 * plot's height; a label with no room left is not shown. */
static void layout_markers(struct lay *k)
{
	struct chart *c = k->c;
	struct chart_layout *L = &c->lay;
	const struct chart_rect *p = &L->plot;
	double size = 0.9 * L->font, lane_h = 1.5 * L->font, *a, *b;
	size_t n = 0, max_lanes, used;
	int *lane;
	size_t *idx;

	L->lanes = (struct chart_rect){0, 0, 0, 0};
	L->nlanes = 0;
	L->lane_h = lane_h;
	if (!c->nmarkers || !c->marker_labels)
		return;
	a = calloc(c->nmarkers, sizeof *a);
	b = calloc(c->nmarkers, sizeof *b);
	lane = calloc(c->nmarkers, sizeof *lane);
	idx = calloc(c->nmarkers, sizeof *idx);
	if (!a || !b || !lane || !idx) {
		k->err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < c->nmarkers; i++) {
		struct chart_marker *m = &c->markers[i];
		int moment = m->t1 < m->t0;
		struct chart_text *t;
		double x, w, right = p->x + p->w;

		m->lane = -1;
		m->text = -1;
		if (!(c->marker_labels & (moment ? CHART_MOMENTS : CHART_SPANS)))
			continue;
		if (moment ? m->t0 < c->x0 || m->t0 > c->x1
			   : m->t1 < c->x0 || m->t0 > c->x1)
			continue;
		if (!(t = add_text(k, m->label, CHART_MARKER_LABEL, size, 0,
				   CHART_INK)))
			goto out;
		fit(k, t->text, sizeof t->text, size, 0, fmax(p->w * 0.4, size));
		w = width_of(k, t->text, size, 0);
		x = fmax(chart_x(c, m->t0), p->x);
		if (chart_marker_pinned(c, m)) {
			a[n] = x + 0.25 * size;
			if (a[n] + w > right) /* left of its line */
				a[n] = x - 0.25 * size - w;
			b[n] = a[n] + w;
			a[n] = fmin(a[n], x);
			b[n] = fmax(b[n], x);
		} else {
			a[n] = x;
			b[n] = fmax(fmin(chart_x(c, m->t1), right), x + w);
			if (b[n] > right) {
				b[n] = right;
				a[n] = fmin(x, right - w);
			}
		}
		a[n] = fmax(a[n], p->x);
		m->text = (int)(L->ntexts - 1);
		idx[n++] = i;
	}
	max_lanes = (size_t)floor(p->h / 3 / lane_h);
	used = lanes_assign(a, b, n, 0.6 * L->font, max_lanes, lane);
	/* A crowd, and weights to pick from it (else first come, first
	 * served). */
	for (size_t j = 0; j < n; j++)
		if (lane[j] < 0 && weighed(c)) {
			used = lanes_by_weight(c, idx, a, b, n, 0.6 * L->font,
					       max_lanes, lane);
			break;
		}
	for (size_t j = 0; j < n; j++) {
		struct chart_marker *m = &c->markers[idx[j]];
		struct chart_text *t = &L->texts[m->text];
		double x = fmax(chart_x(c, m->t0), p->x);
		double base = p->y + lane[j] * lane_h + 0.15 * L->font +
			      ASCENT * size;

		m->lane = lane[j];
		if (lane[j] < 0) {
			t->text[0] = '\0';
			t->box = (struct chart_rect){0, 0, 0, 0};
			m->text = -1;
			continue;
		}
		if (chart_marker_pinned(c, m) && a[j] < x)
			anchor(k, t, x - 0.25 * size, base, CHART_RIGHT, 0);
		else if (chart_marker_pinned(c, m))
			anchor(k, t, x + 0.25 * size, base, CHART_LEFT, 0);
		else
			anchor(k, t, a[j], base, CHART_LEFT, 0);
	}
	L->nlanes = used;
	if (used)
		L->lanes = (struct chart_rect){p->x, p->y, p->w,
					       (double)used * lane_h};
out:
	free(a);
	free(b);
	free(lane);
	free(idx);
}

/* A flame panel: each span a bar in the row of its level, its label inside
 * when at least a few characters fit. */
static void layout_flame(struct lay *k)
{
	struct chart *c = k->c;
	struct chart_layout *L = &c->lay;
	const struct chart_rect *p = &L->plot;
	double size = 0.85 * L->font;
	int levels = 1;

	for (size_t i = 0; i < c->nmarkers; i++)
		if (c->markers[i].t1 >= c->markers[i].t0 &&
		    c->markers[i].level + 1 > levels)
			levels = c->markers[i].level + 1;
	L->flame_row = p->h / levels;
	for (size_t i = 0; i < c->nmarkers; i++) {
		struct chart_marker *m = &c->markers[i];
		double xa, xb, y;
		struct chart_text *t;

		m->text = -1;
		if (m->t1 < m->t0 || m->t1 < c->x0 || m->t0 > c->x1)
			continue;
		xa = fmax(chart_x(c, m->t0), p->x);
		xb = fmin(chart_x(c, m->t1), p->x + p->w);
		if (xb - xa < 3 * size || L->flame_row < size * 1.1)
			continue;
		if (!(t = add_text(k, m->label, CHART_MARKER_LABEL, size, 0,
				   CHART_INK)))
			return;
		fit(k, t->text, sizeof t->text, size, 0, xb - xa - 0.6 * size);
		y = p->y + p->h - (m->level + 0.5) * L->flame_row +
		    (ASCENT - DESCENT) / 2 * size;
		anchor(k, t, xa + 0.3 * size, y, CHART_LEFT, 0);
		m->text = (int)(L->ntexts - 1);
	}
}

/* The value of the trend line at time x. */
static double trend_at(const struct chart *c, double x)
{
	return c->trend.intercept + c->trend.per_s * (x - c->trend.x_ref);
}

/* The time at canvas x. */
static double time_of(const struct chart *c, double x)
{
	const struct chart_rect *p = &c->lay.plot;

	return c->x0 + (x - p->x) / p->w * (c->x1 - c->x0);
}

/* Labels the trend line "trend +12.3 MiB/h" near an end of it, above or
 * below, where it hides the least and collides with nothing. */
static void layout_trend(struct lay *k)
{
	struct chart *c = k->c;
	struct chart_layout *L = &c->lay;
	const struct chart_rect *p = &L->plot;
	double size = L->font, m = 0.5 * L->font, best = HUGE_VAL;
	double lw = L->line;
	double bx = 0, by = 0;
	enum chart_align ba = CHART_LEFT;
	const struct chart_rect clear = {L->legend.x - 2, L->legend.y - 2,
					 L->legend.w + 4, L->legend.h + 4};
	struct chart_text *t;
	char text[96], rate[64];

	c->trend.text = -1;
	if (!c->trend.on)
		return;
	snprintf(text, sizeof text, "trend %s",
		 ticks_format_rate(c->trend.per_s, c->x1 - c->x0,
				   c->value == CHART_BYTES, rate, sizeof rate));
	if (!(t = add_text(k, text, CHART_TREND_LABEL, size, 0,
			   c->trend.colour)))
		return;
	fit(k, t->text, sizeof t->text, size, 0, p->w - 2 * m);
	for (int j = 0; j < 6; j++) {
		double ends[3] = {p->x + p->w - m, p->x + m, p->x + p->w / 2};
		enum chart_align al[3] = {CHART_RIGHT, CHART_LEFT, CHART_CENTRE};
		double w = width_of(k, t->text, size, 0), xa, xb, ya, yb, y;
		double cost;

		xa = al[j / 2] == CHART_LEFT    ? ends[j / 2]
		     : al[j / 2] == CHART_RIGHT ? ends[j / 2] - w
						: ends[j / 2] - w / 2;
		xb = xa + w;
		ya = chart_y(c, trend_at(c, time_of(c, xa)));
		yb = chart_y(c, trend_at(c, time_of(c, xb)));
		if (j % 2 == 0)
			y = fmin(ya, yb) - 0.35 * size - lw;
		else
			y = fmax(ya, yb) + 0.35 * size + ASCENT * size + lw;
		anchor(k, t, ends[j / 2], y, al[j / 2], 0);
		cost = data_cost(c, &t->box) + 0.01 * j;
		if (!inside(&t->box, p) ||
		    (L->legend.w > 0 && overlap(&t->box, &clear)) ||
		    (L->lanes.h > 0 && overlap(&t->box, &L->lanes)) ||
		    hits_text(L, &t->box, L->ntexts - 1))
			cost += FORBIDDEN;
		if (cost < best) {
			best = cost;
			bx = ends[j / 2];
			by = y;
			ba = al[j / 2];
		}
	}
	anchor(k, t, bx, by, ba, 0);
	c->trend.text = (int)(L->ntexts - 1);
}

/* The y axis title: "resident memory (MiB)", "CPU (% of one core)". */
static void y_title(const struct chart *c, char *buf, size_t len)
{
	const char *name = c->y_title ? c->y_title : "resident memory";

	if (c->kind == CHART_FLAME)
		snprintf(buf, len, "%s", name);
	else if (c->value == CHART_BYTES)
		snprintf(buf, len, "%s (%s)", name, c->lay.unit->name);
	else if (c->value == CHART_PERCENT)
		snprintf(buf, len, "%s (%%)", name);
	else
		snprintf(buf, len, "%s", name);
}

/* One attempt at the whole layout, with headroom px kept free above the
 * data; everything but the re-bucketing. */
static int layout_pass(struct lay *k)
{
	struct chart *c = k->c;
	struct chart_layout *L = &c->lay;
	double W = c->width, H = c->height, font, pad, top, bottom, left, right;
	double ytick_w = 0, gap, y0 = 0;
	int titled = c->title && *c->title;
	char buf[200];
	struct chart_text *t;

	font = chart_font(c->width, c->height);
	L->font = font;
	L->line = fmax(1, 1.5 * font / 13.3);
	L->tick_len = round(0.4 * font);
	pad = round(0.8 * font);
	gap = 0.35 * font;
	if (c->band_h > 0) {
		y0 = c->band_y;
		H = c->band_h;
	}

	/* The top y tick label rises half an em above the plot. */
	top = y0 + (titled ? pad + 1.3 * font + 0.65 * font : 1.5 * pad);
	/* A panel under another: room for half its top tick label. */
	if (c->band_h > 0 && !titled)
		top = y0 + 0.75 * font;
	bottom = c->x_labels ? L->tick_len + gap + font + 0.45 * font + font +
				       pad * 0.7
			     : 0.75 * font;
	L->plot.y = ceil(top + k->above_h);
	L->plot.h = fmax(1, floor(y0 + H - bottom) - L->plot.y);
	if (c->kind == CHART_SERIES) {
		layout_y(k);
		for (int i = 0; i < L->yt.n; i++) {
			ticks_format(&L->yt, ticks_value(&L->yt, i), buf,
				     sizeof buf);
			ytick_w = fmax(ytick_w, width_of(k, buf, font, 0));
		}
	} else {
		L->unit = &count_unit;
		L->y1 = 1;
		L->yt.n = 0;
	}
	left = pad * 0.7 + font + 0.5 * font + ytick_w + gap + L->tick_len;
	if (c->wall)
		snprintf(buf, sizeof buf, "00:00:00");
	else
		snprintf(buf, sizeof buf, "%.1f", c->x1);
	right = fmax(pad * 1.5, width_of(k, buf, font, 0) / 2 + 0.5 * pad);
	L->plot.x = round(left);
	L->plot.w = fmax(1, floor(W - right - L->plot.x));
	if (k->outside_w > 0)
		L->plot.w = fmax(1, L->plot.w - k->outside_w);
	if (c->force_w > 0) {
		L->plot.x = c->force_x;
		L->plot.w = c->force_w;
	}
	layout_x(k);

	for (int i = 0; i < L->yt.n; i++) {
		double v = ticks_value(&L->yt, i);

		ticks_format(&L->yt, v, buf, sizeof buf);
		if (!(t = add_text(k, buf, CHART_TICK, font, 0, CHART_INK)))
			return k->err;
		anchor(k, t, L->plot.x - L->tick_len - gap,
		       chart_y(c, v * L->unit->bytes) +
			       (ASCENT - DESCENT) / 2 * font,
		       CHART_RIGHT, 0);
	}
	if (c->x_labels) {
		for (int i = 0; i < L->nx; i++) {
			x_label(c, i, buf, sizeof buf);
			if (!(t = add_text(k, buf, CHART_TICK, font, 0,
					   CHART_INK)))
				return k->err;
			anchor(k, t, chart_x(c, L->xv[i]),
			       L->plot.y + L->plot.h + L->tick_len + gap +
				       ASCENT * font,
			       CHART_CENTRE, 0);
		}
		if (c->wall)
			timeaxis_title(c->x0, c->x1, buf, sizeof buf);
		else
			snprintf(buf, sizeof buf, "time since start (s)");
		if (!(t = add_text(k, buf, CHART_AXIS, font, 0, CHART_INK)))
			return k->err;
		fit(k, t->text, sizeof t->text, font, 0, L->plot.w);
		anchor(k, t, L->plot.x + L->plot.w / 2,
		       y0 + H - pad * 0.7 - DESCENT * font, CHART_CENTRE, 0);
	}
	y_title(c, buf, sizeof buf);
	/* A short panel: the unit alone says more than a cut name. */
	if (width_of(k, buf, font, 0) > L->plot.h && c->kind == CHART_SERIES &&
	    c->value != CHART_COUNT)
		snprintf(buf, sizeof buf, "%s",
			 c->value == CHART_BYTES ? L->unit->name
						 : c->y_title ? c->y_title : "%");
	if (!(t = add_text(k, buf, CHART_AXIS, font, 0, CHART_INK)))
		return k->err;
	fit(k, t->text, sizeof t->text, font, 0, L->plot.h);
	/* Never an ellipsis alone (a "⋮" once turned). */
	if (!strcmp(t->text, "\xe2\x80\xa6"))
		t->text[0] = '\0';
	anchor(k, t, pad * 0.7 + ASCENT * font, L->plot.y + L->plot.h / 2,
	       CHART_CENTRE, 1);

	if (titled) {
		if (!(t = add_text(k, c->title, CHART_TITLE, 1.3 * font, 1,
				   CHART_INK)))
			return k->err;
		fit(k, t->text, sizeof t->text, t->size, 1, W - 2 * pad);
		anchor(k, t, W / 2, y0 + pad + ASCENT * t->size, CHART_CENTRE,
		       0);
	}
	if (c->note) {
		if (!(t = add_text(k, c->note, CHART_NOTE, 1.1 * font, 0,
				   CHART_MUTED)))
			return k->err;
		fit(k, t->text, sizeof t->text, t->size, 0,
		    L->plot.w - 2 * pad);
		anchor(k, t, L->plot.x + L->plot.w / 2,
		       L->plot.y + L->plot.h / 2 +
			       (ASCENT - DESCENT) / 2 * t->size,
		       CHART_CENTRE, 0);
	}
	if (c->kind == CHART_FLAME) {
		layout_flame(k);
		return k->err;
	}
	layout_markers(k);
	if (k->err)
		return k->err;
	layout_legend(k);
	if (k->err)
		return k->err;
	layout_marks(k);
	if (k->err)
		return k->err;
	layout_trend(k);
	return k->err;
}

static void layout_release(struct chart_layout *L)
{
	free(L->legend_series);
	free(L->texts);
	memset(L, 0, sizeof *L);
}

/* The part of column i of d that lies within [a, b]; 1 when b < a. */
static double life_part(const struct decimate *d, size_t i, double a,
			double b)
{
	double w = 1 / d->scale, x = d->x0 + (double)i * w;
	double ov = fmin(x + w, b) - fmax(x, a);

	if (b < a)
		return 1;
	return ov <= 0 ? 0 : fmin(1, ov / w);
}

void chart_series_columns(const struct chart_series *e, double *v,
			  char *alive)
{
	const struct decimate *d = &e->dec;
	size_t nc = d->ncols, first = nc, last = 0;
	int known = e->life_b >= e->life_a;
	double held = 0;

	for (size_t i = d->lo; i < d->hi; i++)
		if (decimate_get(d, i)) {
			first = i < first ? i : first;
			last = i;
		}
	for (size_t i = 0; i < nc; i++) {
		const struct decimate_col *col = decimate_get(d, i);
		double part = life_part(d, i, e->life_a, e->life_b);
		int in;

		if (col)
			held = col->sum / col->n;
		/* Without a known life, between its first and last samples. */
		in = col || (first < nc && (known ? i >= first && part > 0
						  : i > first && i < last));
		v[i] = in ? held * (known ? part : 1) : 0;
		if (alive)
			alive[i] = (char)in;
	}
	/* Nor across a break (a sum of processes none of which lived
	 * there, as the "others" line). */
	for (size_t i = nc, cut = 0; !known && i-- > 0;) {
		const struct decimate_col *col = decimate_get(d, i);

		if (col) {
			cut = col->brk;
		} else if (cut) {
			v[i] = 0;
			if (alive)
				alive[i] = 0;
		}
	}
}

/* The stacked areas: in each column, every stack series' share of it
 * (chart_series_columns) on top of the ones before.  The total of a
 * stacked chart is drawn as their top, broken where none lived: the same
 * columns, the same rule, so the areas and the line add up. */
static int stack_areas(struct chart *c)
{
	size_t nc = c->ncols;
	double *cum, *v;
	char *alive, *any;
	int err = 0;

	if (!c->stacked)
		return 0;
	cum = calloc(nc ? nc : 1, sizeof *cum);
	v = calloc(nc ? nc : 1, sizeof *v);
	alive = calloc(nc ? nc : 1, 1);
	any = calloc(nc ? nc : 1, 1);
	if (!cum || !v || !alive || !any) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t s = 0; s < c->nseries; s++) {
		struct chart_series *e = &c->series[s];

		if (!e->stack || e->hidden)
			continue;
		e->stack_lo = malloc(nc * sizeof *e->stack_lo);
		e->stack_hi = malloc(nc * sizeof *e->stack_hi);
		if (!e->stack_lo || !e->stack_hi) {
			err = -ENOMEM;
			goto out;
		}
		chart_series_columns(e, v, alive);
		for (size_t i = 0; i < nc; i++) {
			e->stack_lo[i] = cum[i];
			cum[i] += v[i];
			e->stack_hi[i] = cum[i];
			any[i] |= alive[i];
		}
	}
	for (size_t s = 0; s < c->nseries; s++) {
		struct chart_series *e = &c->series[s];
		struct decimate d;
		int seen = 0;

		if (!e->stack_sum)
			continue;
		if ((err = decimate_init(&d, e->dec.x0, e->dec.x1, nc, 1, 0)))
			goto out;
		for (size_t i = 0; i < nc; i++) {
			if (!any[i]) {
				if (seen)
					decimate_break(&d);
				continue;
			}
			decimate_add(&d, decimate_col_x(&d, i), cum[i]);
			seen = 1;
		}
		if ((err = d.err)) {
			decimate_free(&d);
			goto out;
		}
		decimate_free(&e->dec);
		e->dec = d;
	}
out:
	free(cum);
	free(v);
	free(alive);
	free(any);
	return err;
}

/* chart_layout() without the re-bucketing, so it can be run again. */
static int layout_only(struct chart *c, chart_measure_fn measure, void *ctx)
{
	struct chart_layout *L = &c->lay;
	struct lay k = {.c = c, .measure = measure, .ctx = ctx};
	double cost;
	int err;

	layout_release(L);
	if ((err = layout_pass(&k)))
		return err;
	if (c->kind == CHART_FLAME)
		return 0;
	/* Marker labels take lanes at the top: keep the data below them. */
	if (L->nlanes) {
		k.marker_h = L->lanes.h + 0.3 * L->font;
		layout_release(L);
		k.cap = 0;
		if ((err = layout_pass(&k)))
			return err;
	}
	/* A legend that hides data gets a second try with the memory axis
	 * raised so that it fits above the data, unless that would squash
	 * the data; the better of the two stays (the first is re-done, as a
	 * pass also places the marks). */
	if (L->legend.w > 0 && L->legend.h < 0.35 * L->plot.h &&
	    k.legend_cost > 4 * L->font) {
		cost = k.legend_cost;
		k.headroom = L->legend.h + 2 * round(0.5 * L->font) + 2;
		layout_release(L);
		k.cap = 0;
		if ((err = layout_pass(&k)))
			return err;
		if (k.legend_cost >= cost) {
			k.headroom = 0;
			layout_release(L);
			k.cap = 0;
			if ((err = layout_pass(&k)))
				return err;
		}
	}
	/* Still in the way: above the plot, in rows as wide as it, where
	 * beside it would leave the panels below an empty strip or cut names
	 * on a small canvas. */
	if (L->legend.w > 0 && k.legend_cost > 4 * L->font &&
	    (c->band_h > 0 || c->width < 800 || L->legend.w >= 0.4 * c->width)) {
		k.above = 1;
		k.headroom = 0;
		for (int pass = 0; pass < 2; pass++) {
			layout_release(L);
			k.cap = 0;
			if ((err = layout_pass(&k)))
				return err;
			k.above_h = k.above_need;
		}
		if (c->band_h > 0 || k.above_ok)
			return 0;
		k.above = 0;
		k.above_h = 0;
		layout_release(L);
		k.cap = 0;
		if ((err = layout_pass(&k)))
			return err;
	}
	/* Still in the way: beside the plot, which gets narrower. */
	if (L->legend.w > 0 && k.legend_cost > 4 * L->font &&
	    L->legend.w < 0.4 * c->width) {
		k.outside_w = L->legend.w + round(0.5 * L->font);
		k.headroom = 0;
		layout_release(L);
		k.cap = 0;
		if ((err = layout_pass(&k)))
			return err;
	}
	return 0;
}

static int layout_finish(struct chart *c)
{
	int err = re_bucket(c);

	return err ? err : stack_areas(c);
}

int chart_layout(struct chart *c, chart_measure_fn measure, void *ctx)
{
	int err = layout_only(c, measure, ctx);

	return err ? err : layout_finish(c);
}

int chart_layout_panels(struct chart *p, size_t n, chart_measure_fn measure,
			void *ctx)
{
	double left = 0, right = HUGE_VAL;
	int err;

	for (size_t i = 0; i < n; i++) {
		p[i].force_x = p[i].force_w = 0;
		if ((err = layout_only(&p[i], measure, ctx)))
			return err;
		left = fmax(left, p[i].lay.plot.x);
		right = fmin(right, p[i].lay.plot.x + p[i].lay.plot.w);
	}
	for (size_t i = 0; n > 1 && i < n; i++) {
		p[i].force_x = left;
		p[i].force_w = fmax(1, right - left);
		if ((err = layout_only(&p[i], measure, ctx)))
			return err;
	}
	for (size_t i = 0; i < n; i++)
		if ((err = layout_finish(&p[i])))
			return err;
	return 0;
}
