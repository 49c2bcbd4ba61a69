/* test_rollup.c - raw samples into per-minute rollups: the numbers, a
 * minute split across batches, and what stays raw. */
#include "harness.h"

#include "memtide/rollup.h"
#include "memtide/store.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int64_t one(struct store *s, const char *sql)
{
	sqlite3_stmt *st;
	int64_t v = -1;

	if (sqlite3_prepare_v2(store_db(s), sql, -1, &st, NULL) != SQLITE_OK)
		return -2;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_type(st, 0) == SQLITE_NULL ? -3 : sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* A daemon run starting at a whole minute T0 with one process sampled
 * every second for 150 s: rss = 100 + (i % 60), cpu = 10 * (i % 60),
 * threads 1 + i / 60; every tenth second also PSS = i. */
static struct store *fixture(char *path, const char *kind, int64_t *proc)
{
	struct store *s;
	struct store_run r = {.kind = kind, .command = "memtided", .started = 1700000040.0,
			      .interval = 0.01, .page_size = 4096, .backend = "rss"};
	struct store_proc p = {.pid = 42, .start_ticks = 1, .started = 1700000000.0,
			       .uid = -1};
	struct store_sample v[150];
	int64_t run;

	unlink(path);
	if (store_open(path, STORE_WRITE, &s))
		return NULL;
	store_run_begin(s, &r, &run);
	p.run = run;
	store_proc_add(s, &p, proc);
	for (int i = 0; i < 150; i++)
		v[i] = (struct store_sample){.proc = *proc, .tick = i * 100,
					     .rss_pages = 100 + i % 60, .cpu_pm = 10 * (i % 60),
					     .threads = 1 + i / 60,
					     .pss_kib = i % 10 ? -1 : i, .uss_kib = i % 10 ? -1 : 2 * i,
					     .swap_kib = i % 10 ? -1 : 0};
	store_append(s, run, v, 150);
	return s;
}

TEST(rollup_minutes_math)
{
	char path[] = "/tmp/memtide-rollup-test.db";
	int64_t proc;
	struct store *s = fixture(path, "daemon", &proc);
	size_t moved;

	CHECK(s != NULL);
	/* Cut at T0 + 150 s: rounded down to T0 + 120, two whole minutes. */
	CHECK_EQ_INT(rollup_samples(s, 1700000040.0 + 150, 1000, &moved), 0);
	CHECK_EQ_INT(moved, 120);
	CHECK_EQ_INT(one(s, "SELECT count(*) FROM sample"), 30);
	CHECK_EQ_INT(one(s, "SELECT min(tick) FROM sample"), 12000);
	CHECK_EQ_INT(one(s, "SELECT count(*) FROM sample_mem"), 3);
	CHECK_EQ_INT(one(s, "SELECT count(*) FROM rollup"), 2);
	CHECK_EQ_INT(one(s, "SELECT min(minute) FROM rollup"), 1700000040 / 60);
	CHECK_EQ_INT(one(s, "SELECT n FROM rollup WHERE minute = 28333334"), 60);
	CHECK_EQ_INT(one(s, "SELECT rss_min FROM rollup WHERE minute = 28333334"), 100);
	CHECK_EQ_INT(one(s, "SELECT rss_max FROM rollup WHERE minute = 28333334"), 159);
	/* mean of 100..159 = 129.5, rounded */
	CHECK_EQ_INT(one(s, "SELECT rss_mean FROM rollup WHERE minute = 28333334"), 130);
	CHECK_EQ_INT(one(s, "SELECT cpu_mean FROM rollup WHERE minute = 28333334"), 295);
	CHECK_EQ_INT(one(s, "SELECT cpu_max FROM rollup WHERE minute = 28333334"), 590);
	CHECK_EQ_INT(one(s, "SELECT threads_max FROM rollup WHERE minute = 28333335"), 2);
	/* PSS at i = 60, 70, ..., 110 in the second minute */
	CHECK_EQ_INT(one(s, "SELECT pss_min FROM rollup WHERE minute = 28333335"), 60);
	CHECK_EQ_INT(one(s, "SELECT pss_max FROM rollup WHERE minute = 28333335"), 110);
	CHECK_EQ_INT(one(s, "SELECT pss_mean FROM rollup WHERE minute = 28333335"), 85);
	CHECK_EQ_INT(one(s, "SELECT uss_mean FROM rollup WHERE minute = 28333335"), 170);
	/* The view in bytes and percent. */
	CHECK_EQ_INT(one(s, "SELECT rss_max FROM samples_minute WHERE minute = 28333334"),
		     159 * 4096);
	CHECK_EQ_INT(one(s, "SELECT t FROM samples_minute ORDER BY t LIMIT 1"), 1700000040);
	/* Nothing older is left. */
	CHECK_EQ_INT(rollup_samples(s, 1700000040.0 + 150, 1000, &moved), 0);
	CHECK_EQ_INT(moved, 0);
	store_close(s);
	unlink(path);
}

/* Batches end on whole minutes: the numbers are those of one pass. */
static void rollup_in_batches(int *failed_, size_t rows, int exact)
{
	char path[] = "/tmp/memtide-rollup-test2.db";
	int64_t proc;
	struct store *s = fixture(path, "daemon", &proc);
	size_t moved, total = 0, calls = 0;

	CHECK(s != NULL);
	do {
		CHECK_EQ_INT(rollup_samples(s, 1700000040.0 + 150, rows, &moved), 0);
		total += moved;
		calls++;
	} while (moved && calls < 100);
	CHECK_EQ_INT(total, 120);
	CHECK_EQ_INT(one(s, "SELECT count(*) FROM sample"), 30);
	CHECK_EQ_INT(one(s, "SELECT n FROM rollup WHERE minute = 28333334"), 60);
	CHECK_EQ_INT(one(s, "SELECT rss_min FROM rollup WHERE minute = 28333334"), 100);
	CHECK_EQ_INT(one(s, "SELECT rss_max FROM rollup WHERE minute = 28333334"), 159);
	CHECK_EQ_INT(one(s, "SELECT cpu_max FROM rollup WHERE minute = 28333335"), 590);
	CHECK_EQ_INT(one(s, "SELECT pss_min FROM rollup WHERE minute = 28333335"), 60);
	CHECK_EQ_INT(one(s, "SELECT pss_max FROM rollup WHERE minute = 28333335"), 110);
	if (exact) {
		CHECK_EQ_INT(one(s, "SELECT rss_mean FROM rollup WHERE minute = 28333334"), 130);
		CHECK_EQ_INT(one(s, "SELECT pss_mean FROM rollup WHERE minute = 28333335"), 85);
	} else {
		/* Split minutes: means merged by count, within rounding. */
		int64_t m = one(s, "SELECT rss_mean FROM rollup WHERE minute = 28333334");

		CHECK(m >= 129 && m <= 131);
	}
	/* Expiry: rollups before T0 + 60 go; the process stays (not ended). */
	CHECK_EQ_INT(rollup_expire(s, 1700000040.0 + 60, 1000, &moved), 0);
	CHECK_EQ_INT(moved, 1);
	CHECK_EQ_INT(one(s, "SELECT count(*) FROM rollup"), 1);
	CHECK_EQ_INT(one(s, "SELECT count(*) FROM proc"), 1);
	store_close(s);
	unlink(path);
}

TEST(rollup_in_batches_of_whole_minutes)
{
	rollup_in_batches(failed_, 70, 1);
}

TEST(rollup_splits_a_minute_bigger_than_a_batch)
{
	rollup_in_batches(failed_, 7, 0);
}

TEST(rollup_leaves_recorded_runs_alone)
{
	char path[] = "/tmp/memtide-rollup-test3.db";
	int64_t proc;
	struct store *s = fixture(path, "run", &proc);
	size_t moved;

	CHECK(s != NULL);
	CHECK_EQ_INT(rollup_samples(s, 1700000040.0 + 3600, 1000, &moved), 0);
	CHECK_EQ_INT(moved, 0);
	CHECK_EQ_INT(one(s, "SELECT count(*) FROM sample"), 150);
	store_close(s);
	unlink(path);
}
