/* chart.h - the chart model: what a memory chart shows and where everything
 * goes on the canvas.  Pure arithmetic: no cairo, no SQLite.
 *
 * A chart is built in three steps:
 *   1. chart_init() sets the canvas and the time window, chart_add_series()
 *      and chart_add_mark() add the lines and the peak marks;
 *   2. the caller feeds samples into each series' decimate (see data.h);
 *   3. chart_layout() picks the units, the ticks, the plot rectangle, the
 *      legend's place and every text's position, measuring text through a
 *      callback so that the renderer's fonts decide widths.
 * The renderer then only draws what the layout says (see render.h).
 *
 * Coordinates are canvas units with y down: pixels for PNG, points for SVG
 * and PDF.  Times are seconds since the start of a run; memory is bytes.
 */
#ifndef MEMTIDE_PLOT_CHART_H
#define MEMTIDE_PLOT_CHART_H

#include <stddef.h>

#include "decimate.h"
#include "ticks.h"

/* Colours: 0 .. CHART_PALETTE_N - 1 are the Okabe-Ito colours (safe for
 * the common colour-vision deficiencies), in the order lines get them;
 * its yellow is left out, too faint for a line on white. */
#define CHART_PALETTE_N 6
enum {
	CHART_INK = -1,   /* near black: the total line, text */
	CHART_GREY = -2,  /* processes beyond the palette */
	CHART_MUTED = -3, /* grid, frame, secondary text */
};

/* The colour's red, green, blue in [0, 1]. */
void chart_colour_rgb(int colour, double rgb[3]);

enum chart_weight { CHART_THIN, CHART_NORMAL, CHART_THICK };

struct chart_series {
	char *label;      /* legend text, owned; NULL: not in the legend */
	int legend_order; /* the legend lists series by this, ascending */
	int colour;
	enum chart_weight weight;
	struct decimate dec; /* x: seconds since the run's start, v: bytes */
};

enum chart_mark_kind {
	CHART_PEAK,        /* highest sampled value: dashed line */
	CHART_KERNEL_PEAK, /* the kernel's high-water mark: dotted line */
};

struct chart_mark {
	enum chart_mark_kind kind;
	double bytes;
	int colour;
	/* Set by chart_layout(): */
	double y;   /* canvas y of the line */
	int text;   /* index of its label in texts, or -1 */
	int folded; /* 1 + index of a peak mark so close that this one is not
		     * drawn: its value is in that mark's label instead */
};

enum chart_align { CHART_LEFT, CHART_CENTRE, CHART_RIGHT };

enum chart_role {
	CHART_TITLE,
	CHART_TICK,
	CHART_AXIS,
	CHART_LEGEND,
	CHART_MARK_LABEL,
	CHART_NOTE,
};

struct chart_rect {
	double x, y, w, h;
};

/* One piece of text, positioned. */
struct chart_text {
	char text[200]; /* UTF-8, already shortened to fit */
	enum chart_role role;
	double x, y; /* anchor: the baseline point at align */
	double size; /* font size, canvas units */
	enum chart_align align;
	int vertical; /* turned a quarter anticlockwise about (x, y) */
	int bold;
	int colour;
	struct chart_rect box; /* the area the glyphs may cover */
};

/* Width (canvas units) of text set at size, bold or not; ctx is the
 * renderer's. */
typedef double (*chart_measure_fn)(void *ctx, const char *text, double size,
				   int bold);

/* Everything chart_layout() decides. */
struct chart_layout {
	double font; /* base font size */
	double line; /* line width of a normal series */
	double tick_len;
	struct chart_rect plot; /* the data area; x, y, w, h whole units */
	const struct ticks_unit *unit; /* of the memory axis */
	double y1;       /* bytes at the top of the plot (the bottom is 0) */
	struct ticks xt; /* seconds */
	struct ticks yt; /* in unit */
	struct chart_rect legend; /* w == 0: no legend */
	double legend_row;        /* height of one legend row */
	double legend_swatch;     /* length of the line sample */
	double legend_pad;
	size_t legend_n;     /* rows */
	long *legend_series; /* per row: series index, or -1 for "... more" */
	struct chart_text *texts;
	size_t ntexts;
};

struct chart {
	int width, height; /* canvas */
	char *title;       /* owned; NULL or "" for none */
	char *note;        /* owned; a message in the middle, or NULL */
	double x0, x1;     /* the time window, seconds */
	size_t ncols;      /* decimation columns: the width, then the plot's */
	struct chart_series *series;
	size_t nseries;
	struct chart_mark *marks;
	size_t nmarks;
	struct chart_layout lay;
};

/* Prepares an empty chart of width x height for times [x0, x1] (x0 < x1).
 * Returns 0 or -EINVAL/-ENOMEM; chart_free() it in any case. */
int chart_init(struct chart *c, int width, int height, double x0, double x1);
void chart_free(struct chart *c);

/* Replaces the title or the note with a copy of s (NULL clears).
 * Returns 0 or -ENOMEM. */
int chart_set_title(struct chart *c, const char *s);
int chart_set_note(struct chart *c, const char *s);

/* Adds a series whose samples will lie within [xa, xb] seconds (a hint for
 * the decimation's allocation), labelled with a copy of label (NULL: none).
 * Returns its index (>= 0) or -ENOMEM.  The series array may move: take
 * &c->series[i] only after the last chart_add_series(). */
long chart_add_series(struct chart *c, const char *label, int colour,
		      enum chart_weight weight, double xa, double xb);

/* Adds a horizontal mark at bytes.  Returns 0 or -ENOMEM. */
int chart_add_mark(struct chart *c, enum chart_mark_kind kind, double bytes,
		   int colour);

/* Lays the chart out once all samples are in: re-buckets each series to
 * one column per unit of plot width, picks units, ticks and margins, places
 * the legend where it hides the least data and the mark labels where they
 * collide with nothing, and shortens texts that would not fit.  Call once.
 * Returns 0 or -ENOMEM. */
int chart_layout(struct chart *c, chart_measure_fn measure, void *ctx);

/* Canvas x of a time (seconds) and canvas y of a memory size (bytes); valid
 * after chart_layout(). */
double chart_x(const struct chart *c, double seconds);
double chart_y(const struct chart *c, double bytes);

/* Line width (canvas units) of a series of weight w. */
double chart_line_width(const struct chart *c, enum chart_weight w);

#endif
