/* polyline.h - streaming simplification of a polyline: a point goes only
 * when the straight segment that replaces it, and every point dropped
 * before it, passes within a tolerance of all of them.  Straight and
 * gently curving stretches of a decimated series shrink to a few points (an
 * SVG stays small) while a spike, which lies far from any shortcut, stays.
 * Constant memory: the dropped points are summed up as the cone of
 * directions from the last point kept that passes near all of them.  Pure
 * geometry: no cairo. */
#ifndef MEMTIDE_PLOT_POLYLINE_H
#define MEMTIDE_PLOT_POLYLINE_H

/* Receives each point kept, in order; first is set for the first one. */
typedef void (*polyline_emit_fn)(void *ctx, double x, double y, int first);

struct polyline {
	double tol; /* canvas units */
	polyline_emit_fn emit;
	void *ctx;
	long kept;     /* points emitted so far */
	double ax, ay; /* the last point kept */
	int pending;   /* bx, by holds a point not yet decided */
	double bx, by;
	double lo, hi; /* directions (radians) from a that pass near every
			  * point dropped since it */
	double reach;  /* distance from a of the farthest of them */
};

/* Starts an empty polyline that emits to emit(ctx, ...) with tolerance tol
 * (canvas units, >= 0; 0 drops only points exactly on a segment). */
void polyline_start(struct polyline *p, double tol, polyline_emit_fn emit,
		    void *ctx);

/* Adds a point; may emit the point before it.  x never decreases (a
 * chart's time axis), so directions never wrap around. */
void polyline_add(struct polyline *p, double x, double y);

/* Emits the last point, if undecided.  Returns the number of points kept. */
long polyline_end(struct polyline *p);

#endif
