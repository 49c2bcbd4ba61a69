/* charge.h - charging each change of a process's RSS to the Python stacks
 * running around it.
 *
 * The stack sampler reads, every few milliseconds, the stack of the thread
 * holding the GIL and the RSS (statm) together.  The change between two
 * such samples happened while the code went from the first stack to the
 * second:
 *   - both samples saw the same stack: the change is that stack's;
 *   - they differ: the change is split between the two, in proportion to
 *     how much each moved the RSS the same way in its own neighbouring
 *     interval (the interval before, where both ends saw the first stack;
 *     the interval after, where both ends saw the second).  A function
 *     that allocates shows growth on its own; the CPU-only function beside
 *     it shows none, and gets none of the boundary's change.  With no such
 *     evidence on either side, each gets half.
 * So the change of an ambiguous interval is charged one sample later, to the
 * tick it happened in.
 *
 * Charges are summed per (tick, stack): tick is the -T tick whose sample
 * closes the interval; n counts the stack samples of that stack in the
 * tick, so a stack that ran without moving memory still shows (n > 0,
 * grown = released = 0).  Pure arithmetic, no I/O: unit-tested on made-up
 * sequences.
 */
#ifndef MEMTIDE_CHARGE_H
#define MEMTIDE_CHARGE_H

#include <stddef.h>
#include <stdint.h>

struct charge_row {
	int64_t tick;
	uint32_t stack;
	int64_t n;
	int64_t grown, released; /* bytes, each >= 0 */
};

struct charger {
	int have_prev, prev_same, have_pending;
	int64_t prev_rss, prev_delta; /* bytes */
	uint32_t prev_stack;
	struct {
		uint32_t from, to;
		int64_t delta, tick, ev_from;
	} pending;
	struct charge_row *row; /* in tick order, mostly (see charge.c) */
	size_t nrow, cap;
};

/* A zeroed struct charger is ready; charger_free() releases its rows. */
void charger_free(struct charger *c);

/* One stack sample: the RSS (bytes) and the stack (a stacktab id) read
 * together, in the -T tick tick.  Returns 0 or -ENOMEM. */
int charger_sample(struct charger *c, int64_t tick, int64_t rss_bytes,
		   uint32_t stack);

/* The process ended or is no longer read: charges the interval still
 * waiting for its next one. */
int charger_finish(struct charger *c);

/* The rows summed so far; the caller writes them (adding to rows of the
 * same tick and stack already written) and then calls charger_clear(). */
void charger_clear(struct charger *c);

#endif
