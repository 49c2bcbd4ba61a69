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
 *     interval (the interval before, where both ends were in the first
 *     stack's function; the interval after, in the second's).  A function
 *     that allocates shows growth on its own; the CPU-only function beside
 *     it shows none, and gets none of the boundary's change.  A stack seen
 *     at one sample only (a call shorter than the grid: a free(), a quick
 *     allocation) has no interval of its own: it is weighed as if it moved
 *     memory at the rate of the change itself, so it wins against a
 *     neighbour seen quiet, and two such stacks get half each.
 * So the change of an ambiguous interval is charged one sample later, to the
 * tick it happened in.
 *
 * All this holds for an interval as long as the grid.  A longer one (the
 * sampler was starved on a busy machine, or reads failed) may hide whole
 * calls that neither end saw: a 50 ms gap from cpu() to cpu() called from
 * the next line of a loop hides the allocating call between them.  So the
 * change of a late interval (charger_late()) whose ends are in different
 * sites is nobody's: it goes to c->unsampled_stack, "not sampled", never to
 * a line that may not have made it.  Ends in the same site (the same
 * function called from the same place) are taken to have run all along,
 * and are charged as above: a loop that came back to that place within the
 * gap (a gap longer than the loop's turn) still hides what it did between.
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
	/* Set by the caller: the stack charged with the change of a late
	 * interval whose ends differ (0: none set, charged as any other). */
	uint32_t unsampled_stack;
	int late; /* the interval the next sample closes is late */
	int have_prev, prev_same, have_pending;
	int64_t prev_rss, prev_delta; /* bytes */
	uint32_t prev_stack, prev_site;
	struct {
		uint32_t from, to;
		int64_t delta, tick;
		int64_t ev_from; /* bytes; -1: no interval of its own */
	} pending;
	struct charge_row *row; /* in tick order, mostly (see charge.c) */
	size_t nrow, cap;
};

/* A zeroed struct charger is ready; charger_free() releases its rows. */
void charger_free(struct charger *c);

/* One stack sample: the RSS (bytes) and the stack (a stacktab id) read
 * together, in the -T tick tick.  site identifies the stack without the
 * innermost line (the same function called from the same place): a loop
 * alternates between its lines at every sample, and its intervals are
 * still its own evidence.  Returns 0 or -ENOMEM. */
int charger_sample(struct charger *c, int64_t tick, int64_t rss_bytes,
		   uint32_t stack, uint32_t site);

/* The interval that the next charger_sample() closes is late: so long
 * (the caller says how long is: stackwatch.h) that code that ran in it may
 * show at neither end.  Its change, when the two ends are in different
 * sites, goes to c->unsampled_stack; it is no evidence for either end. */
void charger_late(struct charger *c);

/* The process ended or is no longer read: charges the interval still
 * waiting for its next one. */
int charger_finish(struct charger *c);

/* The rows summed so far; the caller writes them (adding to rows of the
 * same tick and stack already written) and then calls charger_clear(). */
void charger_clear(struct charger *c);

#endif
