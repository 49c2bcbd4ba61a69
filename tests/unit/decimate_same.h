/* decimate_same.h - for unit tests: whether two decimators hold the same
 * picture of the data. */
#ifndef MEMTIDE_TEST_DECIMATE_SAME_H
#define MEMTIDE_TEST_DECIMATE_SAME_H

#include "../../plot/decimate.h"

/* Every observable field of a and b agree: columns, totals, neighbours. */
static inline int decimate_same(const struct decimate *a, const struct decimate *b)
{
	if (a->n != b->n || a->vmin != b->vmin || a->vmax != b->vmax ||
	    a->has_pre != b->has_pre || a->has_post != b->has_post ||
	    a->err != b->err)
		return 0;
	if (a->has_pre && (a->pre_x != b->pre_x || a->pre_v != b->pre_v))
		return 0;
	if (a->has_post && (a->post_x != b->post_x || a->post_v != b->post_v))
		return 0;
	for (size_t i = 0; i < a->ncols; i++) {
		const struct decimate_col *p = decimate_get(a, i);
		const struct decimate_col *q = decimate_get(b, i);

		if (!p != !q)
			return 0;
		if (p && (p->n != q->n || p->first != q->first ||
			  p->last != q->last || p->min != q->min ||
			  p->max != q->max))
			return 0;
	}
	return 1;
}

#endif
