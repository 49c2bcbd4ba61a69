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
 * Coordinates are canvas units with y down: pixels for PNG (at 96 dpi),
 * points for SVG and PDF.  Times are seconds since the start of a run, or
 * Unix seconds on a wall-clock axis; values are bytes, percent or counts.
 *
 * Several charts can share one canvas as panels stacked on one time axis
 * (chart_layout_panels): each owns a horizontal band, only the lowest
 * shows the time labels, and their plots are aligned.  A panel is a series
 * panel (lines, areas, marks) or a flame panel (nested spans by level).
 */
#ifndef MEMTIDE_PLOT_CHART_H
#define MEMTIDE_PLOT_CHART_H

#include <stddef.h>

#include "decimate.h"
#include "ticks.h"
#include "timeaxis.h"

/* Colours: 0 .. CHART_PALETTE_N - 1 are the Okabe-Ito colours (safe for
 * the common colour-vision deficiencies), in the order lines get them;
 * its yellow is left out, too faint for a line on white. */
#define CHART_PALETTE_N 6
enum {
	CHART_INK = -1,   /* near black: the total line, text */
	CHART_GREY = -2,  /* processes beyond the palette */
	CHART_MUTED = -3, /* frame, secondary text */
	CHART_BG = -4,    /* the canvas */
	CHART_GRID = -5,  /* grid lines */
	CHART_PANEL = -6, /* behind legends and labels (drawn translucent) */
};

/* The colour's red, green, blue in [0, 1] on the light theme. */
void chart_colour_rgb(int colour, double rgb[3]);
/* The same on the light (dark = 0) or dark theme: the ink, greys and
 * background change, and the palette starts from its lighter colours. */
void chart_theme_rgb(int dark, int colour, double rgb[3]);

enum chart_weight { CHART_THIN, CHART_NORMAL, CHART_THICK };

struct chart_series {
	char *label;      /* legend text, owned; NULL: not in the legend */
	int legend_order; /* the legend lists series by this, ascending */
	int colour;
	enum chart_weight weight;
	int hidden; /* read (for the total, top N, the slope) but not drawn */
	int stack;  /* an area of the stacked chart (chart.stacked) */
	struct decimate dec; /* x: seconds (see chart.h), v: value */
	/* The process's life on the x axis, from its first sample to one
	 * sample interval after its last (life_a > life_b: not known).  A
	 * column it lived in part of counts it for that part: see
	 * chart_series_columns(). */
	double life_a, life_b;
	int stack_sum; /* drawn as the top of the stacked areas (the total
			* of a stacked chart), so that they add up */
	/* Set by chart_layout() for stack series: the area's bottom and top
	 * in each of lay.plot.w columns (values). */
	double *stack_lo, *stack_hi;
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

/* A marker of the database: a moment (t1 < t0) or a span, drawn as a
 * line or a bracket with its label in a lane at the top of the panel that
 * labels them, or as a bar at its level in a flame panel. */
struct chart_marker {
	char *label; /* owned */
	double t0, t1;
	int level;
	/* How much it matters (0 by default): for a span, how far memory
	 * rose in it above where it started (bytes).  When not every label
	 * finds room, the heaviest get it and the rest are drawn as ticks. */
	double weight;
	/* Set by chart_layout(): */
	int lane; /* -1: no room for its label */
	int text; /* index in texts, or -1 */
};

/* The -s trend line: value = intercept + per_s * (x - x_ref), drawn over
 * [xa, xb] and labelled per second or per hour (ticks_format_rate()). */
struct chart_trend {
	int on;
	double per_s, intercept, x_ref, xa, xb;
	int colour;
	int text; /* set by chart_layout(), or -1 */
};

enum chart_kind { CHART_SERIES, CHART_FLAME };
enum { CHART_MOMENTS = 1, CHART_SPANS = 2 };
enum chart_value { CHART_BYTES, CHART_PERCENT, CHART_COUNT };

enum chart_align { CHART_LEFT, CHART_CENTRE, CHART_RIGHT };

enum chart_role {
	CHART_TITLE,
	CHART_TICK,
	CHART_AXIS,
	CHART_LEGEND,
	CHART_MARK_LABEL,
	CHART_NOTE,
	CHART_MARKER_LABEL, /* a database marker's, in a lane or a flame bar */
	CHART_TREND_LABEL,
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
	struct ticks xt; /* seconds, of a relative axis */
	struct timeaxis wt; /* of a wall-clock axis */
	int nx;          /* x ticks */
	double xv[TIMEAXIS_MAX]; /* their times */
	struct ticks yt; /* in unit */
	struct chart_rect lanes; /* marker labels (h == 0: none) */
	double lane_h;
	size_t nlanes;
	double flame_row; /* height of a level in a flame panel */
	struct chart_rect legend; /* w == 0: no legend */
	double legend_row;        /* height of one legend row */
	double legend_swatch;     /* length of the line sample */
	double legend_pad;
	size_t legend_n;     /* entries */
	long *legend_series; /* per entry: series index, or -1 for "... more" */
	size_t legend_cols;  /* entries a row, left to right (0 or 1: one) */
	double legend_col_w; /* width of a column of entries */
	struct chart_text *texts;
	size_t ntexts;
};

struct chart {
	int width, height; /* canvas */
	enum chart_kind kind;
	enum chart_value value;
	char *y_title;  /* owned: "resident memory", "CPU", "threads"; the
			 * unit follows in brackets */
	int wall;       /* x is Unix seconds, on a wall-clock axis */
	int dark;       /* the dark theme */
	double band_y, band_h; /* the canvas rows this panel owns; h 0: all */
	int x_labels;   /* time labels and title under it (default 1) */
	double force_x, force_w; /* > 0: the plot's x and width, as agreed
				  * by chart_layout_panels() */
	int stacked;    /* stack series are drawn as stacked areas */
	struct chart_marker *markers;
	size_t nmarkers;
	int marker_labels; /* which markers get lanes here: CHART_MOMENTS |
			    * CHART_SPANS (the default), or 0 */
	struct chart_trend trend;
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

/* Adds a marker (a copy of label) over [t0, t1], or a moment at t0 when
 * t1 < t0.  Returns 0 or -ENOMEM. */
int chart_add_marker(struct chart *c, const char *label, double t0, double t1,
		     int level);

/* Replaces the y axis title with a copy of s.  Returns 0 or -ENOMEM. */
int chart_set_y_title(struct chart *c, const char *s);

/* Formats a value of the chart's kind: "301.2 MiB", "87.5 %", "12". */
char *chart_format_value(const struct chart *c, double v, char *buf,
			 size_t len);

/* Adds a horizontal mark at bytes.  Returns 0 or -ENOMEM. */
int chart_add_mark(struct chart *c, enum chart_mark_kind kind, double bytes,
		   int colour);

/* What series e stands for in each of the ncols columns of its decimate,
 * into v (values) and alive (1 where it lived, may be NULL): the mean of
 * its samples in the column, else the last one held, times the part of
 * the column within its life.  Stacked areas, the "others" line and the
 * ranking by memory x time count a process so: a 0.3-second worker adds
 * a thirtieth of its size to a 9-second column, not all of it. */
void chart_series_columns(const struct chart_series *e, double *v,
			  char *alive);

/* Lays the chart out once all samples are in: re-buckets each series to
 * one column per unit of plot width, picks units, ticks and margins, places
 * the legend where it hides the least data and the mark labels where they
 * collide with nothing, and shortens texts that would not fit.  Call once.
 * Returns 0 or -ENOMEM. */
int chart_layout(struct chart *c, chart_measure_fn measure, void *ctx);

/* The base font size (canvas units) of a width x height canvas. */
double chart_font(int width, int height);

/* Lays out n panels sharing one canvas and one time window, top to
 * bottom as their bands say: each with chart_layout(), then again with
 * their plots' left and right edges made the same.  Returns 0 or
 * -ENOMEM. */
int chart_layout_panels(struct chart *p, size_t n, chart_measure_fn measure,
			void *ctx);

/* Canvas x of a time (seconds) and canvas y of a memory size (bytes); valid
 * after chart_layout(). */
double chart_x(const struct chart *c, double seconds);
double chart_y(const struct chart *c, double bytes);

/* Whether marker m is labelled beside a line at its start rather than
 * over a bracket: a moment, or a span under 3 units wide, whose bracket
 * would be a stray glyph.  Valid after chart_layout(). */
int chart_marker_pinned(const struct chart *c, const struct chart_marker *m);

/* Line width (canvas units) of a series of weight w. */
double chart_line_width(const struct chart *c, enum chart_weight w);

#endif
