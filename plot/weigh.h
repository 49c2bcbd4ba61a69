/* weigh.h - how much each marker of a chart matters, from what the line
 * did in it, so that a crowd of labels keeps the ones worth reading (see
 * chart_marker.weight).  Pure arithmetic over a decimated line. */
#ifndef MEMTIDE_PLOT_WEIGH_H
#define MEMTIDE_PLOT_WEIGH_H

#include "chart.h"
#include "decimate.h"

/* Sets the weight of each marker of c from d, a line over the same axis
 * (the total, or the only process), in bytes: a span by how far d rose
 * in it above its value before the span (its peak), or grew by its end,
 * whichever is more: the test that peaked, or grew, most.  A span is read
 * on the columns wholly inside it (the one of its middle when none is),
 * so a neighbour's spike in a shared column is not its.  Moments, when
 * twenty or fewer, weigh more than any span (the run's milestones); more
 * weigh nothing. */
void markers_weigh(struct chart *c, const struct decimate *d);

#endif
