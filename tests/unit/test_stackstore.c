/* test_stackstore.c - frames, stacks and charges in a real database:
 * stored once each, charges added up, old charges expired. */
#include "harness.h"

#include "memtide/stackstore.h"
#include "memtide/store.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static long long count(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	long long v = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -2;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

TEST(stackstore_once_each_summed_and_expired)
{
	char dir[] = "/tmp/memtide-unit-stk-XXXXXX", path[96];
	struct store *s = NULL;
	struct stackstore *w = NULL;
	struct store_run r = {.kind = "run", .command = "x", .started = 1000.0,
			      .interval = 0.1, .page_size = 4096, .backend = "rss"};
	struct store_proc p = {.pid = 7, .start_ticks = 1, .started = 1000.0, .uid = -1};
	int64_t run, proc, f1, f2, f1b, outer, inner, inner_b;
	size_t gone = 0;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof path, "%s/t.db", dir);
	CHECK_EQ_INT(store_open(path, STORE_WRITE, &s), 0);
	CHECK_EQ_INT(store_run_begin(s, &r, &run), 0);
	p.run = run;
	CHECK_EQ_INT(store_proc_add(s, &p, &proc), 0);
	CHECK_EQ_INT(stackstore_open(s, &w), 0);
	CHECK_EQ_INT(stackstore_frame(w, "<module>", "a.py", 9, &f1), 0);
	CHECK_EQ_INT(stackstore_frame(w, "grow", "a.py", 3, &f2), 0);
	CHECK_EQ_INT(stackstore_frame(w, "<module>", "a.py", 9, &f1b), 0);
	CHECK_EQ_INT(f1, f1b);
	CHECK_EQ_INT(stackstore_stack(w, 0, f1, 1, &outer), 0);
	CHECK_EQ_INT(stackstore_stack(w, outer, f2, 2, &inner), 0);
	CHECK_EQ_INT(stackstore_stack(w, outer, f2, 2, &inner_b), 0);
	CHECK_EQ_INT(inner, inner_b);
	/* Tick 1 at t = 1000.1, tick 20 at t = 1002. */
	CHECK_EQ_INT(stackstore_charge(w, proc, 1, inner, 3, 4096, 0), 0);
	CHECK_EQ_INT(stackstore_charge(w, proc, 1, inner, 2, 8192, 100), 0);
	CHECK_EQ_INT(stackstore_charge(w, proc, 20, outer, 1, 0, 50), 0);
	CHECK_EQ_INT(stackstore_proc_stacks(w, proc, "CPython 3.11.2"), 0);
	CHECK_EQ_INT(stackstore_peak_stack(w, proc, inner), 0);
	CHECK_EQ_INT(count(store_db(s), "SELECT count(*) FROM frame"), 2);
	CHECK_EQ_INT(count(store_db(s), "SELECT count(*) FROM stack"), 2);
	CHECK_EQ_INT(count(store_db(s), "SELECT grown FROM charge WHERE tick = 1"), 12288);
	CHECK_EQ_INT(count(store_db(s), "SELECT n FROM charge WHERE tick = 1"), 5);
	CHECK_EQ_INT(count(store_db(s), "SELECT released FROM charge WHERE tick = 1"), 100);
	CHECK_EQ_INT(count(store_db(s), "SELECT count(*) FROM peak_stacks"), 2);
	CHECK_EQ_INT(count(store_db(s), "SELECT grown FROM growth_by_function_inclusive"
				       " WHERE function = '<module>'"), 12288);
	/* Charges before t = 1001 go; the one at 1002 stays. */
	CHECK_EQ_INT(stackstore_expire(s, 1001.0, 100, &gone), 0);
	CHECK_EQ_INT(gone, 1);
	CHECK_EQ_INT(count(store_db(s), "SELECT count(*) FROM charge"), 1);
	stackstore_close(w);
	store_close(s);
	unlink(path);
	snprintf(path, sizeof path, "%s/t.db-wal", dir);
	unlink(path);
	snprintf(path, sizeof path, "%s/t.db-shm", dir);
	unlink(path);
	rmdir(dir);
}
