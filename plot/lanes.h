/* lanes.h - stacking labels so they never collide: each item (a label and
 * what it labels, as a horizontal extent) goes in the first lane, from the
 * top, whose last item ends before it starts.  Pure arithmetic. */
#ifndef MEMTIDE_PLOT_LANES_H
#define MEMTIDE_PLOT_LANES_H

#include <stddef.h>

/* Items i = 0..n-1 cover [a[i], b[i]] (a[i] <= b[i]); gap is the least
 * room between two items of one lane.  Items are taken by increasing a;
 * lane[i] receives 0..max_lanes-1, or -1 when every lane is taken there.
 * Returns the number of lanes used.  Needs n * sizeof(size_t) of scratch:
 * returns 0 with every lane -1 when it cannot be had. */
size_t lanes_assign(const double *a, const double *b, size_t n, double gap,
		    size_t max_lanes, int *lane);

/* The same for the norder items order[] lists, taken in that order
 * (order[0] first: the one that matters most), each in the first lane
 * from the top where it overlaps no item placed before it; items not
 * listed get -1.  A crowd of items then loses its least ones, not its
 * latest.  Returns the number of lanes used, 0 with every lane -1 when
 * out of memory. */
size_t lanes_assign_ranked(const double *a, const double *b, size_t n,
			   double gap, size_t max_lanes, const size_t *order,
			   size_t norder, int *lane);

#endif
