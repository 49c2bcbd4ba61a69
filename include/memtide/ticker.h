/* ticker.h - absolute deadlines: tick k is due at t0 + k * interval.
 *
 * Sleeping until an absolute deadline (clock_nanosleep TIMER_ABSTIME) never
 * accumulates the wake-up latency that "sleep(interval)" loops add on every
 * turn (mprof drifts 5-9 % at 10 ms).  All times are CLOCK_MONOTONIC ns.
 */
#ifndef MEMTIDE_TICKER_H
#define MEMTIDE_TICKER_H

#include <stdint.h>

struct ticker {
	int64_t t0_ns;       /* monotonic time of tick 0 */
	int64_t interval_ns; /* > 0 */
	int64_t tick;        /* the tick to take next */
	int64_t skipped;     /* ticks given up because the sampler was late */
};

void ticker_init(struct ticker *t, int64_t t0_ns, int64_t interval_ns);
/* The monotonic deadline of tick k. */
int64_t ticker_deadline(const struct ticker *t, int64_t k);
/* Called on waking at now_ns for t->tick: a wake-up late by less than one
 * interval still takes that tick; later than that, the ticks missed are
 * skipped (counted in t->skipped) and the latest due tick is taken.
 * Returns the tick to sample. */
int64_t ticker_due(struct ticker *t, int64_t now_ns);
/* The first point of the grid t0_ns + k * period_ns after now_ns. */
int64_t ticker_next_on_grid(int64_t t0_ns, int64_t now_ns, int64_t period_ns);
/* Moves on after tick k was taken. */
void ticker_advance(struct ticker *t, int64_t k);
/* Sleeps until the deadline of t->tick or until a signal arrives.  Returns 0
 * on reaching it, -EINTR on a signal. */
int ticker_sleep(const struct ticker *t);

/* CLOCK_MONOTONIC and CLOCK_REALTIME now, ns. */
int64_t ticker_now_mono(void);
int64_t ticker_now_real(void);
/* CLOCK_REALTIME now, Unix seconds: the times the store keeps. */
double ticker_now_real_s(void);

#endif
