/* test_totals.c - a run's figures: the held total (as the chart draws it),
 * never counting a child its parent already counts; the recorder's life. */
#include "harness.h"

#include "memtide/store.h"
#include "memtide/totals.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct store *fresh(char *path, size_t len)
{
	struct store *s = NULL;
	char dir[] = "/tmp/memtide-totals-XXXXXX";

	if (!mkdtemp(dir))
		return NULL;
	snprintf(path, len, "%s/t.db", dir);
	if (store_open(path, STORE_WRITE, &s)) {
		store_close(s);
		return NULL;
	}
	return s;
}

/* An import-like run (page_size 1, 1 s ticks): proc 1 (MEM) and its child
 * proc 2, each value standing for its proc.interval (2 s) after its last. */
static const char setup[] =
	"INSERT INTO run(id, kind, command, started, interval, page_size, backend)"
	" VALUES (1, 'import', 'x', 0, 1, 1, 'rss');"
	"INSERT INTO proc(id, run, pid, parent, start_ticks, started, first_tick,"
	" last_tick, interval) VALUES (1, 1, 0, NULL, 0, 0, 0, 4, 2),"
	" (2, 1, 7, 1, 1, 0, 1, 2, 2);"
	"INSERT INTO sample(proc, tick, rss, cpu, threads) VALUES"
	" (1, 0, 10, 0, 0), (1, 2, 12, 0, 0), (1, 4, 11, 0, 0),"
	" (2, 1, 100, 0, 0), (2, 2, 90, 0, 0);";

TEST(held_total_adds_each_last_value)
{
	char path[128];
	struct store *s = fresh(path, sizeof path);
	int64_t peak = -1;

	CHECK(s != NULL);
	CHECK_EQ_INT(sqlite3_exec(store_db(s), setup, NULL, NULL, NULL), SQLITE_OK);
	/* tick 1: 10 (held) + 100 = 110; tick 2: 12 + 90 = 102; the child's
	 * 90 stands until tick 4 (2 s after its last), where it leaves. */
	CHECK_EQ_INT(totals_held_peak(store_db(s), 1, TOTALS_RSS, &peak), 0);
	CHECK_EQ_INT(peak, 110);
	store_close(s);
}

/* The same rows fed from memory, as memtide import does, in another order
 * within a tick: the same peak.  A value ends where `until` says: with a
 * hold of 1 s instead of 2, the child's 90 leaves at tick 3 and the last
 * sum is the parent's alone. */
TEST(held_total_from_memory_is_the_store_s)
{
	struct totals_held t = TOTALS_HELD_INIT;
	int64_t last_child = totals_held_until(2, 2.0, 1.0);

	CHECK_EQ_INT(last_child, 4);
	CHECK_EQ_INT(totals_held_until(2, 1.5, 1.0), 4); /* rounded up */
	CHECK_EQ_INT(totals_held_add(&t, 1, 0, 10, INT64_MAX), 0);
	CHECK_EQ_INT(totals_held_add(&t, 2, 1, 100, INT64_MAX), 0);
	CHECK_EQ_INT(totals_held_add(&t, 2, 2, 90, last_child), 0);
	CHECK_EQ_INT(totals_held_add(&t, 1, 2, 12, INT64_MAX), 0);
	CHECK_EQ_INT(totals_held_add(&t, 1, 4, 11, totals_held_until(4, 2.0, 1.0)), 0);
	CHECK_EQ_INT(totals_held_end(&t), 110);
	CHECK(t.h == NULL);

	t = (struct totals_held)TOTALS_HELD_INIT;
	CHECK_EQ_INT(totals_held_add(&t, 2, 2, 200, totals_held_until(2, 1.0, 1.0)), 0);
	CHECK_EQ_INT(totals_held_add(&t, 1, 2, 5, INT64_MAX), 0);
	CHECK_EQ_INT(totals_held_add(&t, 1, 3, 6, INT64_MAX), 0);
	CHECK_EQ_INT(t.sum, 6); /* 200 left at tick 3 */
	CHECK_EQ_INT(totals_held_end(&t), 205);
}

TEST(held_total_counts_a_child_once)
{
	char path[128];
	struct store *s = fresh(path, sizeof path);
	struct totals_run t;
	int64_t peak = -1;

	CHECK(s != NULL);
	CHECK_EQ_INT(sqlite3_exec(store_db(s), setup, NULL, NULL, NULL), SQLITE_OK);
	CHECK_EQ_INT(sqlite3_exec(store_db(s), "UPDATE proc SET includes_children = 1"
				  " WHERE id = 1; UPDATE run SET peak_rss = 12",
				  NULL, NULL, NULL), SQLITE_OK);
	CHECK_EQ_INT(totals_held_peak(store_db(s), 1, TOTALS_RSS, &peak), 0);
	CHECK_EQ_INT(peak, 12);
	CHECK_EQ_INT(totals_run_read(store_db(s), 1, &t), 0);
	CHECK_EQ_INT(t.peak, 12);
	CHECK_EQ_INT(t.nprocs, 2);
	CHECK_EQ_INT(t.top_peak, -1); /* proc.peak_rss unset */
	CHECK_EQ_INT(t.kernel_peak, -1);
	CHECK_EQ_INT(totals_run_read(store_db(s), 2, &t), -ENOENT);
	store_close(s);
}

TEST(a_run_is_recording_while_its_recorder_lives)
{
	char path[128];
	struct store *s = fresh(path, sizeof path);
	struct store_run r = {.kind = "run", .command = "x", .started = 1,
			      .interval = 0.1, .page_size = 4096, .backend = "rss"};
	int64_t id = 0;

	CHECK(s != NULL);
	CHECK_EQ_INT(store_run_begin(s, &r, &id), 0);
	CHECK_EQ_INT(store_run_recording(s, id), 1); /* this very process */
	/* Another process, or this pid started at another time: gone. */
	CHECK_EQ_INT(sqlite3_exec(store_db(s), "UPDATE run SET recorder_start ="
				  " recorder_start + 1", NULL, NULL, NULL), SQLITE_OK);
	CHECK_EQ_INT(store_run_recording(s, id), 0);
	CHECK_EQ_INT(sqlite3_exec(store_db(s), "UPDATE run SET recorder_start ="
				  " recorder_start - 1", NULL, NULL, NULL), SQLITE_OK);
	CHECK_EQ_INT(store_run_end(s, id, 2, 0, -1), 0);
	CHECK_EQ_INT(store_run_recording(s, id), 0); /* ended */
	store_close(s);
}
