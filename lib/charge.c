/* charge.c - see charge.h. */
#include "memtide/charge.h"

#include <errno.h>
#include <stdlib.h>

void charger_free(struct charger *c)
{
	free(c->row);
	c->row = NULL;
	c->nrow = c->cap = 0;
}

void charger_clear(struct charger *c)
{
	c->nrow = 0;
}

/* The row of (tick, stack), added when missing.  Rows come in tick order
 * but for the ticks of a charge delayed by one sample, so the search from
 * the end stops at the first older tick; a row appended out of order after
 * a clear is only a second row of the same key, which the store adds up. */
static struct charge_row *row_of(struct charger *c, int64_t tick, uint32_t stack)
{
	struct charge_row *r;

	for (size_t i = c->nrow; i-- > 0;) {
		if (c->row[i].tick < tick)
			break;
		if (c->row[i].tick == tick && c->row[i].stack == stack)
			return &c->row[i];
	}
	if (c->nrow == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;

		if (!(r = realloc(c->row, cap * sizeof *r)))
			return NULL;
		c->row = r;
		c->cap = cap;
	}
	r = &c->row[c->nrow++];
	*r = (struct charge_row){.tick = tick, .stack = stack};
	return r;
}

static int charge(struct charger *c, int64_t tick, uint32_t stack, int64_t d)
{
	struct charge_row *r;

	if (d == 0)
		return 0;
	if (!(r = row_of(c, tick, stack)))
		return -ENOMEM;
	if (d > 0)
		r->grown += d;
	else
		r->released -= d;
	return 0;
}

/* The part of an adjacent interval's change e that went the way of d. */
static int64_t same_way(int64_t e, int64_t d)
{
	if (d > 0)
		return e > 0 ? e : 0;
	return e < 0 ? -e : 0;
}

/* Splits the waiting change between its two stacks by their evidence (see
 * charge.h); a side with no interval of its own to judge by (ev < 0) is
 * weighed as if it moved memory at the rate of the change itself, so a
 * stack seen quiet loses to a stack seen too briefly to tell. */
static int resolve(struct charger *c, int64_t ev_to)
{
	int64_t d = c->pending.delta, ev_from = c->pending.ev_from, to_part;
	int64_t mag = d < 0 ? -d : d;
	double a, b;
	int err;

	c->have_pending = 0;
	a = (double)(ev_from < 0 ? mag : ev_from);
	b = (double)(ev_to < 0 ? mag : ev_to);
	if (a + b == 0)
		to_part = d / 2;
	else
		to_part = (int64_t)((double)d * b / (a + b));
	if ((err = charge(c, c->pending.tick, c->pending.to, to_part)))
		return err;
	return charge(c, c->pending.tick, c->pending.from, d - to_part);
}

void charger_late(struct charger *c)
{
	c->late = 1;
}

int charger_sample(struct charger *c, int64_t tick, int64_t rss_bytes,
		   uint32_t stack, uint32_t site)
{
	struct charge_row *r = row_of(c, tick, stack);
	int64_t d;
	int same, late = c->late, err;

	if (!r)
		return -ENOMEM;
	r->n++;
	c->late = 0;
	if (!c->have_prev) {
		c->have_prev = 1;
		c->prev_rss = rss_bytes;
		c->prev_stack = stack;
		c->prev_site = site;
		return 0;
	}
	d = rss_bytes - c->prev_rss;
	same = site == c->prev_site;
	if (c->have_pending &&
	    (err = resolve(c, same ? same_way(d, c->pending.delta) : -1)))
		return err;
	if (stack == c->prev_stack) {
		if ((err = charge(c, tick, stack, d)))
			return err;
	} else if (late && !same && c->unsampled_stack) {
		/* Whatever ran between the two ends is unknown: neither
		 * end's, and no evidence for the next interval's split. */
		if ((err = charge(c, tick, c->unsampled_stack, d)))
			return err;
	} else if (d != 0) {
		c->have_pending = 1;
		c->pending.from = c->prev_stack;
		c->pending.to = stack;
		c->pending.delta = d;
		c->pending.tick = tick;
		c->pending.ev_from = c->prev_same ? same_way(c->prev_delta, d) : -1;
	}
	c->prev_same = same;
	c->prev_delta = d;
	c->prev_rss = rss_bytes;
	c->prev_stack = stack;
	c->prev_site = site;
	return 0;
}

int charger_finish(struct charger *c)
{
	return c->have_pending ? resolve(c, -1) : 0;
}
