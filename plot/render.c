/* render.c - cairo drawing of a laid-out chart (see render.h). */
#include "render.h"

#include "pngfile.h"
#include "polyline.h"

#include <cairo-pdf.h>
#include <cairo-svg.h>
#include <cairo.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define FONT "DejaVu Sans"

int render_format_of(const char *path)
{
	const char *dot = strrchr(path, '.');

	if (!dot || strchr(dot, '/'))
		return -1;
	if (strcasecmp(dot, ".png") == 0)
		return RENDER_PNG;
	if (strcasecmp(dot, ".svg") == 0)
		return RENDER_SVG;
	if (strcasecmp(dot, ".pdf") == 0)
		return RENDER_PDF;
	return -1;
}

static void set_font(cairo_t *cr, double size, int bold)
{
	cairo_select_font_face(cr, FONT, CAIRO_FONT_SLANT_NORMAL,
			       bold ? CAIRO_FONT_WEIGHT_BOLD
				    : CAIRO_FONT_WEIGHT_NORMAL);
	cairo_set_font_size(cr, size);
}

/* chart_measure_fn over a cairo context: the advance width of text. */
static double measure(void *ctx, const char *text, double size, int bold)
{
	cairo_t *cr = ctx;
	cairo_text_extents_t e;

	set_font(cr, size, bold);
	cairo_text_extents(cr, text, &e);
	return e.x_advance;
}

/* The theme a draw_*() call is for: set once per file, as every panel of
 * a figure has the same. */
static int dark;

static void colour(cairo_t *cr, int c, double alpha)
{
	double rgb[3];

	chart_theme_rgb(dark, c, rgb);
	cairo_set_source_rgba(cr, rgb[0], rgb[1], rgb[2], alpha);
}

/* Snaps a coordinate to a pixel centre so 1-unit lines stay crisp. */
static double crisp(double v)
{
	return floor(v) + 0.5;
}

static void draw_grid(const struct chart *c, cairo_t *cr)
{
	const struct chart_layout *L = &c->lay;
	const struct chart_rect *p = &L->plot;

	for (int i = 0; i < L->yt.n; i++) {
		double y = crisp(
			chart_y(c, ticks_value(&L->yt, i) * L->unit->bytes));

		cairo_move_to(cr, p->x, y);
		cairo_line_to(cr, p->x + p->w, y);
	}
	for (int i = 0; i < L->nx; i++) {
		double x = crisp(chart_x(c, L->xv[i]));

		cairo_move_to(cr, x, p->y);
		cairo_line_to(cr, x, p->y + p->h);
	}
	colour(cr, CHART_GRID, 1);
	cairo_set_line_width(cr, 1);
	cairo_stroke(cr);
}

static void path_to(void *ctx, double x, double y, int first)
{
	if (first)
		cairo_move_to(ctx, x, y);
	else
		cairo_line_to(ctx, x, y);
}

/* The canvas y of bytes, to a quarter unit: finer than any screen
 * resolves, and the numbers in an SVG path stay short ("412.25", not
 * "412.263184"). */
static double y_of(const struct chart *c, double bytes)
{
	return round(chart_y(c, bytes) * 4) / 4;
}

/* Ends one piece of a broken line; a piece of one point gets a segment of
 * no length, which the round cap draws as a dot.  Returns its points. */
static long piece_end(struct polyline *pl, cairo_t *cr)
{
	long kept = polyline_end(pl);

	if (kept == 1) {
		double x, y;

		cairo_get_current_point(cr, &x, &y);
		cairo_line_to(cr, x, y);
	}
	return kept;
}

/* Strokes a series as one polyline of at most two points a column.  A
 * column whose data only rose or only fell runs from its first value at its
 * left edge to its last at its right edge, so slopes stay slopes; one with
 * an extreme beyond those (a spike, a dip, noise) is a vertical span from
 * its smallest to its largest value in its middle, drawn the way the data
 * went.  A column with one sample is one point.  Points within a fifth of a
 * unit of the line that skips them are left out: a steady slope is two
 * points however long. */
static void draw_series(const struct chart *c, cairo_t *cr,
			const struct chart_series *s)
{
	const struct decimate *d = &s->dec;
	double left = c->lay.plot.x, lw = chart_line_width(c, s->weight);
	struct polyline pl;
	long kept = 0;

	polyline_start(&pl, 0.2, path_to, cr);
	if (d->has_pre)
		polyline_add(&pl, chart_x(c, d->pre_x), y_of(c, d->pre_v));
	for (size_t i = d->lo; i < d->hi; i++) {
		const struct decimate_col *col = decimate_get(d, i);
		double x = left + (double)i, a, b;

		if (!col)
			continue;
		if (col->brk) {
			/* Nothing existed in between: a new piece of line. */
			kept += piece_end(&pl, cr);
			polyline_start(&pl, 0.2, path_to, cr);
		}
		if (col->n == 1) {
			polyline_add(&pl, x + 0.5, y_of(c, col->first));
			continue;
		}
		a = col->last >= col->first ? col->min : col->max;
		b = col->last >= col->first ? col->max : col->min;
		if (col->min < fmin(col->first, col->last) ||
		    col->max > fmax(col->first, col->last)) {
			polyline_add(&pl, x + 0.5, y_of(c, a));
			polyline_add(&pl, x + 0.5, y_of(c, b));
		} else {
			polyline_add(&pl, x, y_of(c, col->first));
			polyline_add(&pl, x + 1, y_of(c, col->last));
		}
	}
	if (d->has_post && !d->post_brk)
		polyline_add(&pl, chart_x(c, d->post_x), y_of(c, d->post_v));
	/* One lone point is a dot below; a last piece of one, here. */
	kept += kept ? piece_end(&pl, cr) : polyline_end(&pl);
	if (kept == 0)
		return;
	colour(cr, s->colour, 1);
	if (kept == 1) {
		/* A lone sample: a dot, or it would not show at all. */
		double x, y;

		cairo_get_current_point(cr, &x, &y);
		cairo_new_path(cr);
		cairo_arc(cr, x, y, lw * 1.2, 0, 2 * M_PI);
		cairo_fill(cr);
		return;
	}
	cairo_set_line_width(cr, lw);
	cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
	cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND);
	cairo_stroke(cr);
}

static void mark_style(const struct chart *c, cairo_t *cr,
		       enum chart_mark_kind kind)
{
	double l = c->lay.line;
	const double dashed[] = {6 * l, 4 * l}, dotted[] = {0, 2.5 * l};

	cairo_set_line_width(cr, l);
	if (kind == CHART_PEAK) {
		cairo_set_line_cap(cr, CAIRO_LINE_CAP_BUTT);
		cairo_set_dash(cr, dashed, 2, 0);
	} else {
		cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND);
		cairo_set_dash(cr, dotted, 2, 0);
	}
}

static void draw_marks(const struct chart *c, cairo_t *cr)
{
	const struct chart_rect *p = &c->lay.plot;

	for (size_t i = 0; i < c->nmarks; i++) {
		const struct chart_mark *m = &c->marks[i];

		if (m->folded)
			continue;
		mark_style(c, cr, m->kind);
		colour(cr, m->colour, 0.9);
		cairo_move_to(cr, p->x, m->y);
		cairo_line_to(cr, p->x + p->w, m->y);
		cairo_stroke(cr);
	}
	cairo_set_dash(cr, NULL, 0, 0);
}

/* Set while drawing an SVG: its texts are written as <text> elements
 * afterwards (svg_texts) rather than drawn as glyph outlines. */
static int svg_text;

static void draw_text(cairo_t *cr, const struct chart_text *t)
{
	cairo_text_extents_t e;
	double dx;

	if (svg_text)
		return;
	set_font(cr, t->size, t->bold);
	cairo_text_extents(cr, t->text, &e);
	dx = t->align == CHART_LEFT     ? 0
	     : t->align == CHART_CENTRE ? e.x_advance / 2
					: e.x_advance;
	colour(cr, t->colour, 1);
	cairo_save(cr);
	cairo_translate(cr, t->x, t->y);
	if (t->vertical)
		cairo_rotate(cr, -M_PI / 2);
	cairo_move_to(cr, -dx, 0);
	cairo_show_text(cr, t->text);
	cairo_restore(cr);
}

static void draw_legend(const struct chart *c, cairo_t *cr)
{
	const struct chart_layout *L = &c->lay;
	const struct chart_rect *r = &L->legend;

	if (r->w <= 0)
		return;
	cairo_rectangle(cr, r->x + 0.5, r->y + 0.5, r->w - 1, r->h - 1);
	colour(cr, CHART_PANEL, 0.88);
	cairo_fill_preserve(cr);
	colour(cr, CHART_GRID, 1);
	cairo_set_line_width(cr, 1);
	cairo_stroke(cr);
	for (size_t i = 0; i < L->legend_n; i++) {
		size_t cols = L->legend_cols ? L->legend_cols : 1;
		double y = r->y + 0.6 * L->legend_pad +
			   ((double)(i / cols) + 0.5) * L->legend_row;
		double x = r->x + L->legend_pad +
			   (double)(i % cols) * L->legend_col_w;
		const struct chart_series *s;

		if (L->legend_series[i] < 0)
			continue;
		s = &c->series[L->legend_series[i]];
		colour(cr, s->colour, 1);
		cairo_set_line_width(cr,
				     s->stack_hi ? 0.6 * L->legend_row
						 : fmax(chart_line_width(
								c, s->weight),
							1.5));
		cairo_set_line_cap(cr, CAIRO_LINE_CAP_BUTT);
		cairo_move_to(cr, x, y);
		cairo_line_to(cr, x + L->legend_swatch, y);
		cairo_stroke(cr);
	}
}

static void draw_axes(const struct chart *c, cairo_t *cr)
{
	const struct chart_layout *L = &c->lay;
	const struct chart_rect *p = &L->plot;

	cairo_rectangle(cr, p->x + 0.5, p->y + 0.5, p->w - 1, p->h - 1);
	for (int i = 0; i < L->yt.n; i++) {
		double y = crisp(
			chart_y(c, ticks_value(&L->yt, i) * L->unit->bytes));

		cairo_move_to(cr, p->x, y);
		cairo_line_to(cr, p->x - L->tick_len, y);
	}
	for (int i = 0; i < L->nx; i++) {
		double x = crisp(chart_x(c, L->xv[i]));

		cairo_move_to(cr, x, p->y + p->h);
		cairo_line_to(cr, x, p->y + p->h + L->tick_len);
	}
	colour(cr, CHART_MUTED, 1);
	cairo_set_line_width(cr, 1);
	cairo_set_line_cap(cr, CAIRO_LINE_CAP_BUTT);
	cairo_stroke(cr);
}

/* Collects the points a polyline keeps. */
struct points {
	double *xy;
	size_t n, cap;
};

static void collect(void *ctx, double x, double y, int first)
{
	struct points *p = ctx;

	(void)first;
	if (p->n == p->cap) {
		size_t cap = p->cap ? 2 * p->cap : 256;
		double *v = realloc(p->xy, 2 * cap * sizeof *v);

		if (!v)
			return;
		p->xy = v;
		p->cap = cap;
	}
	p->xy[2 * p->n] = x;
	p->xy[2 * p->n + 1] = y;
	p->n++;
}

/* One edge of a stacked area, simplified as the lines are. */
static void stack_edge(const struct chart *c, const double *v,
		       struct points *out)
{
	struct polyline pl;

	polyline_start(&pl, 0.2, collect, out);
	for (size_t i = 0; i < c->ncols; i++)
		polyline_add(&pl, c->lay.plot.x + (double)i + 0.5,
			     y_of(c, v[i]));
	polyline_end(&pl);
}

/* A stack series: the area between its bottom and top, filled. */
static void draw_area(const struct chart *c, cairo_t *cr,
		      const struct chart_series *s)
{
	struct points top = {0}, bot = {0};

	stack_edge(c, s->stack_hi, &top);
	stack_edge(c, s->stack_lo, &bot);
	if (top.n && bot.n) {
		cairo_move_to(cr, c->lay.plot.x, bot.xy[1]);
		for (size_t i = 0; i < top.n; i++)
			cairo_line_to(cr, top.xy[2 * i], top.xy[2 * i + 1]);
		cairo_line_to(cr, c->lay.plot.x + c->lay.plot.w,
			      top.xy[2 * top.n - 1]);
		cairo_line_to(cr, c->lay.plot.x + c->lay.plot.w,
			      bot.xy[2 * bot.n - 1]);
		for (size_t i = bot.n; i-- > 0;)
			cairo_line_to(cr, bot.xy[2 * i], bot.xy[2 * i + 1]);
		cairo_close_path(cr);
		/* Opaque: the areas are the data, the grid stays behind. */
		colour(cr, s->colour, 1);
		cairo_fill(cr);
	}
	free(top.xy);
	free(bot.xy);
}

static void draw_trend(const struct chart *c, cairo_t *cr)
{
	const struct chart_trend *t = &c->trend;
	double l = c->lay.line, dash[] = {9 * l, 3 * l, 2 * l, 3 * l};

	if (!t->on)
		return;
	cairo_move_to(cr, chart_x(c, t->xa),
		      chart_y(c, t->intercept + t->per_s * (t->xa - t->x_ref)));
	cairo_line_to(cr, chart_x(c, t->xb),
		      chart_y(c, t->intercept + t->per_s * (t->xb - t->x_ref)));
	cairo_set_dash(cr, dash, 4, 0);
	cairo_set_line_width(cr, 1.4 * l);
	cairo_set_line_cap(cr, CAIRO_LINE_CAP_BUTT);
	colour(cr, t->colour, 1);
	cairo_stroke(cr);
	cairo_set_dash(cr, NULL, 0, 0);
}

/* Moments as dotted vertical lines, spans (when this panel labels them) as
 * brackets in their lanes over a faint shade of the outermost ones. */
static void draw_markers(const struct chart *c, cairo_t *cr)
{
	const struct chart_layout *L = &c->lay;
	const struct chart_rect *p = &L->plot;
	const double dotted[] = {2, 3};

	for (size_t i = 0; i < c->nmarkers; i++) {
		const struct chart_marker *m = &c->markers[i];
		double xa = chart_x(c, m->t0), xb = chart_x(c, m->t1);

		if (m->t1 < m->t0) {
			double x = crisp(xa);

			cairo_move_to(cr, x, p->y);
			cairo_line_to(cr, x, p->y + p->h);
			cairo_set_dash(cr, dotted, 2, 0);
			cairo_set_line_width(cr, 1);
			colour(cr, CHART_MUTED, 0.9);
			cairo_stroke(cr);
			cairo_set_dash(cr, NULL, 0, 0);
			continue;
		}
		if (!(c->marker_labels & CHART_SPANS))
			continue;
		if (m->lane < 0) {
			/* Unlabelled (a crowd of them): a tick at its start
			 * along the top edge, no shade. */
			double x = crisp(xa);

			cairo_move_to(cr, x, p->y);
			cairo_line_to(cr, x, p->y + 0.4 * L->font);
			cairo_set_line_width(cr, 1);
			colour(cr, CHART_MUTED, 0.8);
			cairo_stroke(cr);
			continue;
		}
		if (m->level == 0) {
			cairo_rectangle(cr, xa, p->y + L->lanes.h, xb - xa,
					p->h - L->lanes.h);
			colour(cr, CHART_MUTED, 0.07);
			cairo_fill(cr);
		}
		{
			double y = p->y + (m->lane + 1) * L->lane_h -
				   0.3 * L->font,
			       d = 0.3 * L->font;

			if (chart_marker_pinned(c, m)) {
				/* Too short for a bracket, which would be a
				 * stray glyph: a pin down to its lane. */
				double x = crisp(xa);

				cairo_move_to(cr, x, y - L->lane_h + d);
				cairo_line_to(cr, x, y + d);
			} else {
				cairo_move_to(cr, xa + 0.5, y + d);
				cairo_line_to(cr, xa + 0.5, y);
				cairo_line_to(cr, xb - 0.5, y);
				cairo_line_to(cr, xb - 0.5, y + d);
			}
			cairo_set_line_width(cr, 1.2);
			colour(cr, CHART_MUTED, 1);
			cairo_stroke(cr);
		}
	}
}

/* A flame panel's bars, a row a nesting level, from the bottom up. */
static void draw_flame(const struct chart *c, cairo_t *cr)
{
	const struct chart_layout *L = &c->lay;
	const struct chart_rect *p = &L->plot;

	for (size_t i = 0; i < c->nmarkers; i++) {
		const struct chart_marker *m = &c->markers[i];
		double xa, xb, y;

		if (m->t1 < m->t0)
			continue;
		xa = chart_x(c, m->t0);
		xb = chart_x(c, m->t1);
		y = p->y + p->h - (m->level + 1) * L->flame_row;
		cairo_rectangle(cr, xa + 0.5, y + 1, fmax(xb - xa - 1, 1),
				L->flame_row - 2);
		colour(cr, m->level % CHART_PALETTE_N, dark ? 0.55 : 0.35);
		cairo_fill_preserve(cr);
		colour(cr, m->level % CHART_PALETTE_N, 1);
		cairo_set_line_width(cr, 1);
		cairo_stroke(cr);
	}
}

/* Draws one panel as chart_layout() decided, back to front. */
static void draw(const struct chart *c, cairo_t *cr)
{
	const struct chart_layout *L = &c->lay;
	const struct chart_rect *p = &L->plot;

	draw_grid(c, cr);
	cairo_save(cr);
	cairo_rectangle(cr, p->x, p->y, p->w, p->h);
	cairo_clip(cr);
	if (c->kind == CHART_FLAME) {
		draw_flame(c, cr);
	} else {
		draw_markers(c, cr);
		for (size_t i = 0; i < c->nseries; i++)
			if (c->series[i].stack_hi)
				draw_area(c, cr, &c->series[i]);
		for (int w = CHART_THIN; w <= CHART_THICK; w++)
			for (size_t i = 0; i < c->nseries; i++)
				if ((int)c->series[i].weight == w &&
				    !c->series[i].hidden &&
				    !c->series[i].stack_hi)
					draw_series(c, cr, &c->series[i]);
		draw_trend(c, cr);
		draw_marks(c, cr);
	}
	cairo_restore(cr);

	draw_axes(c, cr);
	draw_legend(c, cr);
	for (size_t i = 0; i < L->ntexts; i++) {
		const struct chart_text *t = &L->texts[i];

		if (!t->text[0])
			continue;
		if (t->role == CHART_MARK_LABEL ||
		    t->role == CHART_TREND_LABEL ||
		    (t->role == CHART_MARKER_LABEL && c->kind == CHART_SERIES)) {
			cairo_rectangle(cr, t->box.x - 2, t->box.y - 1,
					t->box.w + 4, t->box.h + 2);
			colour(cr, CHART_PANEL, 0.8);
			cairo_fill(cr);
		}
		draw_text(cr, t);
	}
}

/* Every panel on one background. */
static void draw_all(const struct chart *p, size_t n, cairo_t *cr)
{
	colour(cr, CHART_BG, 1);
	cairo_paint(cr);
	for (size_t i = 0; i < n; i++)
		draw(&p[i], cr);
}

/* Where cairo's output goes, and the first errno writing it failed with:
 * cairo keeps only "write error", and calls more functions after it. */
struct sink {
	FILE *f;
	int err;
};

static cairo_status_t write_sink(void *closure, const unsigned char *data,
				 unsigned int len)
{
	struct sink *k = closure;

	if (fwrite(data, 1, len, k->f) == len)
		return CAIRO_STATUS_SUCCESS;
	if (!k->err)
		k->err = errno ? -errno : -EIO;
	return CAIRO_STATUS_WRITE_ERROR;
}

/* Writes s with XML's five special characters escaped. */
static void xml_escaped(FILE *out, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", out); break;
		case '<': fputs("&lt;", out); break;
		case '>': fputs("&gt;", out); break;
		case '"': fputs("&quot;", out); break;
		case '\'': fputs("&apos;", out); break;
		default: fputc(*s, out);
		}
	}
}

/* Writes every text of the panels as an SVG <text> element: real text
 * that can be selected, searched and read by a screen reader (and by a
 * test), in a fraction of the bytes of cairo's glyph outlines.  The
 * layout measured DejaVu Sans, so that is the face asked for. */
static void svg_texts(FILE *out, const struct chart *p, size_t n)
{
	fputs("<g font-family=\"DejaVu Sans, Verdana, sans-serif\">\n", out);
	for (size_t k = 0; k < n; k++)
		for (size_t i = 0; i < p[k].lay.ntexts; i++) {
			const struct chart_text *t = &p[k].lay.texts[i];
			double rgb[3];

			if (!t->text[0])
				continue;
			chart_theme_rgb(dark, t->colour, rgb);
			fprintf(out,
				"<text x=\"%.2f\" y=\"%.2f\" font-size=\"%.2f\""
				" fill=\"#%02x%02x%02x\"%s%s",
				t->x, t->y, t->size, (int)lround(rgb[0] * 255),
				(int)lround(rgb[1] * 255),
				(int)lround(rgb[2] * 255),
				t->bold ? " font-weight=\"bold\"" : "",
				t->align == CHART_CENTRE ? " text-anchor=\"middle\""
				: t->align == CHART_RIGHT ? " text-anchor=\"end\""
							  : "");
			if (t->vertical)
				fprintf(out, " transform=\"rotate(-90 %.2f %.2f)\"",
					t->x, t->y);
			fputc('>', out);
			xml_escaped(out, t->text);
			fputs("</text>\n", out);
		}
	fputs("</g>\n", out);
}

/* Copies cairo's SVG to out with a <title> after the opening <svg ...>
 * and the panels' texts before the closing </svg>. */
static void svg_finish(FILE *out, const char *svg, size_t len,
		       const char *title, const struct chart *p, size_t n)
{
	const char *tag = strstr(svg, "<svg");
	const char *end = tag ? strchr(tag, '>') : NULL;
	const char *close = NULL;

	for (const char *q = svg; (q = strstr(q, "</svg>")); q++)
		close = q;
	if (!end || !close || close < end) {
		fwrite(svg, 1, len, out);
		return;
	}
	end++;
	fwrite(svg, 1, (size_t)(end - svg), out);
	if (title && *title) {
		fputs("\n<title>", out);
		xml_escaped(out, title);
		fputs("</title>", out);
	}
	fwrite(end, 1, (size_t)(close - end), out);
	svg_texts(out, p, n);
	fwrite(close, 1, len - (size_t)(close - svg), out);
}

/* What is drawn into one file: the panels, their shared canvas size and
 * title, and PNG pixels per canvas unit. */
struct fig {
	struct chart *p;
	size_t n;
	int width, height; /* canvas units */
	int px_w, px_h;    /* PNG pixels */
	double scale;
	const char *title;
};

/* A surface of the figure's size for format f: PNG pixels (pngfile.h
 * encodes them), SVG into the memory stream mem, PDF straight into out.
 * Never NULL: cairo reports failures through the surface's status. */
static cairo_surface_t *surface_for(const struct fig *g, enum render_format f,
				    struct sink *out, struct sink *mem)
{
	cairo_surface_t *s;

	switch (f) {
	case RENDER_SVG:
		return cairo_svg_surface_create_for_stream(write_sink, mem,
							   g->width, g->height);
	case RENDER_PDF:
		s = cairo_pdf_surface_create_for_stream(write_sink, out,
							g->width, g->height);
		if (g->title)
			cairo_pdf_surface_set_metadata(
				s, CAIRO_PDF_METADATA_TITLE, g->title);
		cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_CREATOR,
					       "memtide-plot " MEMTIDE_VERSION);
		return s;
	case RENDER_PNG:
	default:
		/* No alpha channel: the PNG is smaller and faster to encode. */
		return cairo_image_surface_create(CAIRO_FORMAT_RGB24, g->px_w,
						  g->px_h);
	}
}

/* A context on surface that measures and draws text the same way in
 * every format: unhinted metrics, so the three files of one chart share one
 * layout.  Never NULL: cairo reports failures through its status. */
static cairo_t *context_for(cairo_surface_t *surface)
{
	cairo_t *cr = cairo_create(surface);
	cairo_font_options_t *fo = cairo_font_options_create();

	cairo_font_options_set_hint_metrics(fo, CAIRO_HINT_METRICS_OFF);
	cairo_set_font_options(cr, fo);
	cairo_font_options_destroy(fo);
	return cr;
}

/* Draws pixel rows [y0, y1) of the figure onto image (CAIRO_FORMAT_RGB24)
 * through a surface of their own over those rows' pixels, so that two
 * threads can draw two bands at once.  Returns 0 or -EIO. */
static int draw_band(const struct fig *g, cairo_surface_t *image, int y0,
		     int y1)
{
	int stride = cairo_image_surface_get_stride(image), err;
	cairo_surface_t *s = cairo_image_surface_create_for_data(
		cairo_image_surface_get_data(image) + (size_t)y0 * stride,
		CAIRO_FORMAT_RGB24, g->px_w, y1 - y0, stride);
	cairo_t *cr = context_for(s);

	/* By whole pixels: every edge and glyph lands where it would on the
	 * whole image, so the bands join without a seam. */
	cairo_translate(cr, 0, -y0);
	cairo_scale(cr, g->scale, g->scale);
	draw_all(g->p, g->n, cr);
	err = cairo_status(cr) == CAIRO_STATUS_SUCCESS ? 0 : -EIO;
	cairo_destroy(cr);
	cairo_surface_destroy(s);
	return err;
}

/* A PNG is drawn in this many bands, taken in turn by two threads.  A dense
 * series costs far more in some rows than in others, so halves would leave
 * one thread idle; more bands would each stroke every series again. */
#define RENDER_BANDS 8

/* The bands of one image, and the next one no thread has taken. */
struct bands {
	const struct fig *g;
	cairo_surface_t *image;
	atomic_int next;
	atomic_int err; /* 0, or -EIO once a band failed */
};

static void *draw_bands(void *arg)
{
	struct bands *b = arg;
	int k, h = b->g->px_h;

	while ((k = atomic_fetch_add(&b->next, 1)) < RENDER_BANDS)
		if (draw_band(b->g, b->image, h * k / RENDER_BANDS,
			      h * (k + 1) / RENDER_BANDS) < 0)
			atomic_store(&b->err, -EIO);
	return NULL;
}

/* Draws the laid-out figure onto image, in bands on this thread and one
 * more: stroking a dense series is most of a PNG's drawing time.  Returns
 * 0 or -EIO. */
static int draw_image(const struct fig *g, cairo_surface_t *image)
{
	struct bands b = {.g = g, .image = image};
	pthread_t thread;
	int started = pthread_create(&thread, NULL, draw_bands, &b) == 0;

	draw_bands(&b);
	if (started)
		pthread_join(thread, NULL);
	/* Its pixels changed through other surfaces. */
	cairo_surface_mark_dirty(image);
	return atomic_load(&b.err);
}

/* Lays out the panels and draws them on surface, an image for PNG.
 * Returns 0, -ENOMEM or -EIO. */
static int paint(const struct fig *g, cairo_surface_t *surface,
		 enum render_format f)
{
	cairo_t *cr = context_for(surface);
	int err = chart_layout_panels(g->p, g->n, measure, cr);

	if (!err && f == RENDER_PNG) {
		err = draw_image(g, surface);
	} else if (!err) {
		draw_all(g->p, g->n, cr);
		if (cairo_status(cr) != CAIRO_STATUS_SUCCESS)
			err = -EIO;
	}
	cairo_destroy(cr);
	return err;
}

int render_panels(struct chart *p, size_t n, const char *path,
		  enum render_format f, double scale)
{
	struct fig g = {.p = p, .n = n, .width = p[0].width,
			.height = p[0].height, .title = p[0].title};
	cairo_surface_t *surface = NULL;
	struct sink out = {0}, mem = {0};
	char *svg = NULL;
	size_t svg_len = 0;
	int err = 0;

	if (!(scale > 0) || f != RENDER_PNG)
		scale = 1;
	g.scale = scale;
	g.px_w = (int)lround(g.width * scale);
	g.px_h = (int)lround(g.height * scale);
	dark = p[0].dark;
	svg_text = f == RENDER_SVG;
	if (!(out.f = fopen(path, "wb")))
		return -errno;
	if (f == RENDER_SVG && !(mem.f = open_memstream(&svg, &svg_len))) {
		err = -errno;
		goto out;
	}
	surface = surface_for(&g, f, &out, &mem);
	if (cairo_surface_status(surface) != CAIRO_STATUS_SUCCESS) {
		err = -ENOMEM;
		goto out;
	}
	if ((err = paint(&g, surface, f)))
		goto out;
	if (f == RENDER_PNG) {
		cairo_surface_flush(surface);
		err = pngfile_write(
			out.f,
			(const uint32_t *)cairo_image_surface_get_data(surface),
			cairo_image_surface_get_width(surface),
			cairo_image_surface_get_height(surface),
			cairo_image_surface_get_stride(surface));
		if (err)
			goto out;
	} else {
		cairo_surface_finish(surface);
	}
	if (cairo_surface_status(surface) != CAIRO_STATUS_SUCCESS)
		err = -EIO;
	if (mem.f) {
		if (fclose(mem.f) && !err)
			err = -errno;
		mem.f = NULL;
		if (!err && !mem.err) {
			errno = EIO;
			svg_finish(out.f, svg, svg_len, g.title, p, n);
			if (ferror(out.f))
				err = -errno;
		}
	}
	if (!err && fflush(out.f))
		err = -errno;
out:
	cairo_surface_destroy(surface);
	if (mem.f)
		fclose(mem.f);
	free(svg);
	if (fclose(out.f) && !err)
		err = -errno;
	if (out.err || mem.err)
		err = out.err ? out.err : mem.err;
	if (err)
		unlink(path);
	/* Drops cairo's font caches, so that leak checkers see only leaks. */
	cairo_debug_reset_static_data();
	return err;
}

int render_file(struct chart *c, const char *path, enum render_format f)
{
	return render_panels(c, 1, path, f, 1);
}
