/* test_ticker.c - absolute-deadline tick math and duration parsing. */
#include "harness.h"

#include "memtide/ticker.h"
#include "memtide/units.h"

#include <errno.h>
#include <string.h>

#define MS 1000000LL

TEST(deadlines_do_not_drift)
{
	struct ticker t;

	ticker_init(&t, 1000 * MS, 10 * MS);
	CHECK_EQ_INT(ticker_deadline(&t, 0), 1000 * MS);
	CHECK_EQ_INT(ticker_deadline(&t, 1000), 1000 * MS + 10000 * MS);
	/* Waking late by 3 ms each time takes every tick, and the next
	 * deadline stays on the grid. */
	for (int64_t k = 0; k < 100; k++) {
		int64_t due = ticker_due(&t, ticker_deadline(&t, t.tick) + 3 * MS);

		CHECK_EQ_INT(due, k);
		ticker_advance(&t, due);
	}
	CHECK_EQ_INT(t.skipped, 0);
	CHECK_EQ_INT(ticker_deadline(&t, t.tick), 1000 * MS + 100 * 10 * MS);
}

TEST(late_by_more_than_an_interval_skips)
{
	struct ticker t;

	ticker_init(&t, 0, 10 * MS);
	ticker_advance(&t, ticker_due(&t, 0));
	/* Tick 1 was due at 10 ms; we wake at 45 ms: ticks 1-3 are gone,
	 * tick 4 (due 40 ms) is taken. */
	CHECK_EQ_INT(ticker_due(&t, 45 * MS), 4);
	CHECK_EQ_INT(t.skipped, 3);
	ticker_advance(&t, 4);
	CHECK_EQ_INT(ticker_deadline(&t, t.tick), 50 * MS);
	/* Late by just under one interval: no skip. */
	CHECK_EQ_INT(ticker_due(&t, 59 * MS), 5);
	CHECK_EQ_INT(t.skipped, 3);
}

TEST(sleep_reaches_deadline)
{
	struct ticker t;
	int64_t now = ticker_now_mono();

	ticker_init(&t, now + 5 * MS, 5 * MS);
	CHECK_EQ_INT(ticker_sleep(&t), 0);
	CHECK(ticker_now_mono() >= now + 5 * MS);
}

TEST(durations)
{
	int64_t ns = 0;

	CHECK_EQ_INT(units_parse_duration("0.01", &ns), 0);
	CHECK_EQ_INT(ns, 10 * MS);
	CHECK_EQ_INT(units_parse_duration("10ms", &ns), 0);
	CHECK_EQ_INT(ns, 10 * MS);
	CHECK_EQ_INT(units_parse_duration("1.5s", &ns), 0);
	CHECK_EQ_INT(ns, 1500 * MS);
	CHECK_EQ_INT(units_parse_duration("2m", &ns), 0);
	CHECK_EQ_INT(ns, 120000 * MS);
	CHECK_EQ_INT(units_parse_duration("14d", &ns), 0);
	CHECK_EQ_INT(ns, 14LL * 86400 * 1000 * MS);
	const char *bad[] = {"", "0", "-1", "abc", "1x", "1 s", " 1", "nan", "inf",
			     "1e9", "0.0000001"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		CHECK_EQ_INT(units_parse_duration(bad[i], &ns), -EINVAL);
	CHECK_EQ_INT(units_parse_duration(NULL, &ns), -EINVAL);
}

TEST(formats)
{
	char b[32];

	CHECK_EQ_STR(units_format_bytes(512, b, sizeof b), "512 B");
	CHECK_EQ_STR(units_format_bytes(300LL << 20, b, sizeof b), "300.0 MiB");
	CHECK_EQ_STR(units_format_bytes(3LL << 30, b, sizeof b), "3.0 GiB");
	CHECK_EQ_STR(units_format_duration(12.34, b, sizeof b), "12.3 s");
	CHECK_EQ_STR(units_format_duration(245, b, sizeof b), "4 min 05 s");
	CHECK_EQ_STR(units_format_duration(7380, b, sizeof b), "2 h 03 min");
}
