/* ticker.c - absolute-deadline tick math (see include/memtide/ticker.h). */
#include "memtide/ticker.h"

#include <errno.h>
#include <time.h>

void ticker_init(struct ticker *t, int64_t t0_ns, int64_t interval_ns)
{
	t->t0_ns = t0_ns;
	t->interval_ns = interval_ns > 0 ? interval_ns : 1;
	t->tick = 0;
	t->skipped = 0;
}

int64_t ticker_deadline(const struct ticker *t, int64_t k)
{
	return t->t0_ns + k * t->interval_ns;
}

int64_t ticker_next_on_grid(int64_t t0_ns, int64_t now_ns, int64_t period_ns)
{
	return t0_ns + ((now_ns - t0_ns) / period_ns + 1) * period_ns;
}

int64_t ticker_due(struct ticker *t, int64_t now_ns)
{
	int64_t latest;

	if (now_ns < ticker_deadline(t, t->tick + 1))
		return t->tick;
	latest = (now_ns - t->t0_ns) / t->interval_ns;
	t->skipped += latest - t->tick;
	return latest;
}

void ticker_advance(struct ticker *t, int64_t k)
{
	t->tick = k + 1;
}

static int64_t now(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t ticker_now_mono(void)
{
	return now(CLOCK_MONOTONIC);
}

int64_t ticker_now_real(void)
{
	return now(CLOCK_REALTIME);
}

double ticker_now_real_s(void)
{
	return (double)ticker_now_real() / 1e9;
}

int ticker_sleep(const struct ticker *t)
{
	int64_t d = ticker_deadline(t, t->tick);
	struct timespec ts = {.tv_sec = d / 1000000000, .tv_nsec = d % 1000000000};
	int rc = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);

	return rc == 0 ? 0 : -rc;
}
