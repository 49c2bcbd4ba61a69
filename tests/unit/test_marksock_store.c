/* test_marksock_store.c - markers in a real database: who sent them (the
 * kernel's uid), ends by label only of one's own, expiry by start time. */
#include "harness.h"

#include "memtide/marksock.h"
#include "memtide/store.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static long long count(struct store *s, const char *sql)
{
	sqlite3_stmt *st;
	long long v = -1;

	if (sqlite3_prepare_v2(store_db(s), sql, -1, &st, NULL) != SQLITE_OK)
		return -2;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* A marksock only to remember spans with (bound in the abstract namespace
 * under a name no one else uses). */
static struct marksock *scratch(void)
{
	char name[64];
	struct marksock *m = NULL;

	snprintf(name, sizeof name, "@memtide-unit-%d-%ld", (int)getpid(), random());
	return marksock_open(name, &m) ? NULL : m;
}

/* An event labelled "job" as the kernel would describe its sender. */
static struct marksock_event event(enum marksock_kind kind, double t, uint64_t id, pid_t pid,
				   uid_t uid)
{
	return (struct marksock_event){.kind = kind, .t = t, .id = id, .level = -1, .pid = pid,
				       .uid = uid, .label = "job", .rss = -1, .peak = -1,
				       .hwm = -1};
}

TEST(marksock_ends_only_own_markers_and_expires)
{
	char dir[] = "/tmp/memtide-unit-XXXXXX", path[64];
	struct store *s = NULL;
	struct marksock *m = scratch();
	int64_t run;
	size_t deleted = 9;
	struct store_run r = {.kind = "daemon", .command = "x", .started = 1.0,
			      .interval = 0.01, .page_size = 4096, .backend = "rss"};
	struct marksock_event root_b = event(MARKSOCK_BEGIN, 250.0, 7, 50, 0);
	struct marksock_event nobody_b = event(MARKSOCK_BEGIN, 100.0, 1, 60, 65534);
	struct marksock_event nobody_e = event(MARKSOCK_END, 300.0, 0, 61, 65534);
	struct marksock_event again_e = event(MARKSOCK_END, 400.0, 0, 61, 65534);

	CHECK(m != NULL);
	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof path, "%s/m.db", dir);
	CHECK_EQ_INT(store_open(path, STORE_WRITE, &s), 0);
	CHECK_EQ_INT(store_run_begin(s, &r, &run), 0);
	/* root's span is the latest with the label. */
	CHECK_EQ_INT(marksock_store(m, s, run, &nobody_b), 0);
	CHECK_EQ_INT(marksock_store(m, s, run, &root_b), 0);
	CHECK_EQ_INT(count(s, "SELECT count(*) FROM marks WHERE uid = 0 AND pid = 50"), 1);
	CHECK_EQ_INT(count(s, "SELECT count(*) FROM marks WHERE uid = 65534 AND pid = 60"), 1);
	/* nobody's end by label, from another of its processes: its own
	 * span, not root's later one; once that is ended, nothing is left
	 * for it to end. */
	CHECK_EQ_INT(marksock_store(m, s, run, &nobody_e), 0);
	CHECK_EQ_INT(count(s, "SELECT count(*) FROM marks WHERE uid = 65534 AND end = 300"), 1);
	CHECK_EQ_INT(marksock_store(m, s, run, &again_e), -ENOENT);
	CHECK_EQ_INT(count(s, "SELECT count(*) FROM marks WHERE uid = 0 AND end IS NULL"), 1);
	/* Expiry: by start, at most max_rows a call. */
	CHECK_EQ_INT(store_mark_expire(s, 150.0, 10, &deleted), 0);
	CHECK_EQ_INT(deleted, 1);
	CHECK_EQ_INT(count(s, "SELECT count(*) FROM marks"), 1);
	CHECK_EQ_INT(store_mark_expire(s, 1000.0, 0, &deleted), 0);
	CHECK_EQ_INT(deleted, 0);
	CHECK_EQ_INT(store_mark_expire(s, 1000.0, 10, &deleted), 0);
	CHECK_EQ_INT(count(s, "SELECT count(*) FROM marks"), 0);
	store_close(s);
	marksock_close(m);
	unlink(path);
	rmdir(dir);
}
