/* lanes.c - greedy interval lanes (see lanes.h). */
#include "lanes.h"

#include <math.h>
#include <stdlib.h>

static int by_start(const void *x, const void *y, void *arg)
{
	const double *a = arg;
	size_t i = *(const size_t *)x, j = *(const size_t *)y;

	if (a[i] != a[j])
		return a[i] < a[j] ? -1 : 1;
	return i < j ? -1 : i > j;
}

size_t lanes_assign(const double *a, const double *b, size_t n, double gap,
		    size_t max_lanes, int *lane)
{
	size_t *order = malloc((n ? n : 1) * sizeof *order);
	double *end = malloc((max_lanes ? max_lanes : 1) * sizeof *end);
	size_t used = 0;

	for (size_t i = 0; i < n; i++)
		lane[i] = -1;
	if (!order || !end) {
		free(order);
		free(end);
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		order[i] = i;
	qsort_r(order, n, sizeof *order, by_start, (void *)a);
	for (size_t k = 0; k < n; k++) {
		size_t i = order[k], l;

		for (l = 0; l < used; l++)
			if (end[l] + gap <= a[i])
				break;
		if (l == used) {
			if (used == max_lanes)
				continue;
			used++;
		}
		end[l] = b[i];
		lane[i] = (int)l;
	}
	free(order);
	free(end);
	return used;
}

size_t lanes_assign_ranked(const double *a, const double *b, size_t n,
			   double gap, size_t max_lanes, const size_t *order,
			   size_t norder, int *lane)
{
	/* The items of each lane, as indices, in the order placed. */
	size_t *in = malloc((n ? n : 1) * sizeof *in);
	size_t used = 0, placed = 0;

	for (size_t i = 0; i < n; i++)
		lane[i] = -1;
	if (!in)
		return 0;
	for (size_t k = 0; k < norder; k++) {
		size_t i = order[k];

		for (size_t l = 0; l < max_lanes && lane[i] < 0; l++) {
			int clear = 1;

			for (size_t j = 0; j < placed && clear; j++)
				clear = lane[in[j]] != (int)l ||
					b[in[j]] + gap <= a[i] ||
					b[i] + gap <= a[in[j]];
			if (clear) {
				lane[i] = (int)l;
				in[placed++] = i;
				used = l + 1 > used ? l + 1 : used;
			}
		}
	}
	free(in);
	return used;
}
