/* test_stackwatch.c - the stack sampler's thread with nothing to read:
 * it sleeps until a process is added, rather than waking every 2 ms. */
#include "harness.h"

#include "memtide/stackwatch.h"
#include "memtide/ticker.h"

#include <errno.h>
#include <time.h>
#include <unistd.h>

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

TEST(stackwatch_no_sweeps_without_a_process_to_read)
{
	struct stackwatch *w = NULL;
	struct stackwatch_stats s;
	char why[160];

	CHECK_EQ_INT(stackwatch_new(ticker_now_mono(), 100000000LL, 0, &w), 0);
	if (!w)
		return;
	sleep_ms(60);
	stackwatch_stats(w, &s);
	CHECK_EQ_INT(s.sweeps, 0);
	/* This test program is no Python: added, unreadable, still no sweep. */
	CHECK_EQ_INT(stackwatch_add(w, (int)getpid(), 1, 1, why, sizeof why), -ENOTSUP);
	sleep_ms(30);
	stackwatch_stats(w, &s);
	CHECK_EQ_INT(s.sweeps, 0);
	CHECK_EQ_INT(s.samples, 0);
	stackwatch_stop(w);
	stackwatch_free(w);
}
