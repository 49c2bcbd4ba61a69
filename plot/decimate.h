/* decimate.h - min/max decimation of one time series into pixel columns.
 *
 * The window [x0, x1] (seconds) is cut into ncols equal columns; each keeps
 * the first, last, smallest and largest value (bytes) that fell in it.  That
 * is all a renderer needs: a vertical span from the smallest to the largest
 * value, drawn the way the data went (first to last), joined column to
 * column.  A one-sample spike survives; a million samples become at most
 * two points a column.  Samples must be added in increasing x.  The last
 * sample before the window and the first after it are kept too, so a line
 * can enter and leave the plot at its edges.
 *
 * Only the columns a series touches are allocated, so a short-lived process
 * in a long run costs a few columns, not a whole row.
 */
#ifndef MEMTIDE_PLOT_DECIMATE_H
#define MEMTIDE_PLOT_DECIMATE_H

#include <stddef.h>
#include <stdint.h>

struct decimate_col {
	double first, last, min, max; /* bytes */
	double sum;                   /* of the values, for the mean */
	uint32_t n;                   /* samples in the column; 0: empty */
	uint8_t brk; /* the line does not come from the column before it:
		      * nothing was there in between (decimate_break) */
};

struct decimate {
	double x0, x1;            /* the window, seconds */
	size_t ncols;             /* columns across the window */
	double scale;             /* columns per second */
	size_t lo, hi;            /* allocated columns [lo, hi) */
	struct decimate_col *col; /* col[i - lo] is column i; owned */
	size_t n;                 /* samples inside the window */
	double vmin, vmax; /* bytes, over the samples inside; 0 when n == 0 */
	int has_pre, has_post;
	double pre_x, pre_v;   /* the last sample before x0 */
	double post_x, post_v; /* the first sample after x1 */
	int err; /* -ENOMEM once a column could not be allocated */
	int gap;       /* decimate_break() since the last sample */
	size_t last_i; /* the column of the last sample inside, when n > 0 */
	int post_brk;  /* the line does not go on to post_x */
};

/* Prepares d for the window [x0, x1] (x0 < x1) in ncols (>= 1) columns and
 * allocates the columns [xa, xb] (seconds) will fall in; xa > xb allocates
 * none yet.  Columns outside are allocated when a sample needs them.
 * Returns 0 or -ENOMEM/-EINVAL; free with decimate_free() in any case. */
int decimate_init(struct decimate *d, double x0, double x1, size_t ncols,
		  double xa, double xb);
void decimate_free(struct decimate *d);

/* Adds one sample: x seconds, v bytes; x never smaller than the previous x.
 * Never fails; an allocation failure drops the sample and sets d->err. */
void decimate_add(struct decimate *d, double x, double v);

/* Adds a span of n samples summarised elsewhere (a per-minute rollup): at
 * x, from vmin to vmax with mean mean.  The column sees it as n samples
 * going from vmin up to vmax. */
void decimate_add_span(struct decimate *d, double x, double vmin, double vmax,
		       double mean, uint32_t n);
/* The same, knowing the first and last of the n samples (a sample_agg
 * bucket): the column's line enters and leaves where the samples did. */
void decimate_add_bucket(struct decimate *d, double x, double first,
			 double vmin, double vmax, double last, double mean,
			 uint32_t n);

/* Adds one sample v at x that stands for values from vmin to vmax: the
 * line goes through v, the extremes (d->vmin, d->vmax) include the range.
 * For rollups sparser than the columns, whose spans would zigzag. */
void decimate_add_ranged(struct decimate *d, double x, double v, double vmin,
			 double vmax);

/* Says that the line breaks before the next sample: nothing existed
 * between the last one and it (a gap in a daemon's history).  The column
 * of the next sample gets brk, unless it is the column of the last one,
 * whose span then covers the gap (the first sample's column gets it too,
 * for a decimate merged after another). */
void decimate_break(struct decimate *d);

/* The column a time x (seconds) falls in, clamped to [0, ncols - 1]. */
size_t decimate_col_of(const struct decimate *d, double x);

/* The centre of column i, seconds. */
double decimate_col_x(const struct decimate *d, size_t i);

/* Column i (any i < ncols), or NULL when no sample fell in it. */
const struct decimate_col *decimate_get(const struct decimate *d, size_t i);

/* Folds src into dst, two decimates over the same window and columns, as
 * if src's samples had been added to dst after its own: every one of src's
 * samples must come after every one of dst's (including the ones before and
 * after the window).  src is unchanged.  Returns 0 or -ENOMEM (dst->err,
 * which also takes src->err); dst must be freed in any case. */
int decimate_merge(struct decimate *dst, const struct decimate *src);

/* Re-buckets src into dst, a fresh decimate over the same window with
 * ncols columns (usually fewer): each column of src goes whole into the dst
 * column holding its centre.  Returns 0 or -ENOMEM; dst must be freed. */
int decimate_resample(const struct decimate *src, struct decimate *dst,
		      size_t ncols);

#endif
