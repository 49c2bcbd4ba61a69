/* budget.h - what one sender may cost: a token bucket of messages and one
 * of bytes, refilled with time.
 *
 * memtided gives each process that sends it markers such a budget, so one
 * sender's flood costs it only what the budget allows; what goes over is
 * dropped by the caller (and counted there).  Time comes from the caller
 * (CLOCK_MONOTONIC ns), so tests drive it.
 */
#ifndef MEMTIDE_BUDGET_H
#define MEMTIDE_BUDGET_H

#include <stddef.h>
#include <stdint.h>

/* The allowance: msgs_per_s messages and bytes_per_s bytes a second on
 * average, with bursts of up to burst_msgs / burst_bytes. */
struct budget_rate {
	double msgs_per_s, burst_msgs;
	double bytes_per_s, burst_bytes;
};

/* One sender's state; zero it, and the first budget_take() fills it to
 * the burst. */
struct budget {
	double msgs, bytes; /* left */
	int64_t last_ns;    /* 0: not started */
};

/* Takes one message of len bytes from b at monotonic time now_ns: 1 when
 * it fits in both budgets (and is taken), 0 when it does not (nothing is
 * taken). */
int budget_take(struct budget *b, const struct budget_rate *r, int64_t now_ns, size_t len);

#endif
