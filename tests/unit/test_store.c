/* test_store.c - the schema, its views, peaks, and refusing foreign files. */
#include "harness.h"

#include "memtide/store.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *temp_db(void)
{
	static char dir[64];
	static int n;
	char *path;

	if (!dir[0]) {
		strcpy(dir, "/tmp/memtide-unit-XXXXXX");
		if (!mkdtemp(dir))
			return NULL;
	}
	if (asprintf(&path, "%s/t%d.db", dir, n++) < 0)
		return NULL;
	return path;
}

static long long one_int(sqlite3 *db, const char *sql)
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

/* Whether view has every column of the comma-separated list. */
static int has_columns(sqlite3 *db, const char *view, const char *cols)
{
	char sql[256], list[256], *save, *c;

	strcpy(list, cols);
	for (c = strtok_r(list, ",", &save); c; c = strtok_r(NULL, ",", &save)) {
		snprintf(sql, sizeof sql,
			 "SELECT count(*) FROM pragma_table_info('%s') WHERE name = '%s'",
			 view, c);
		if (one_int(db, sql) != 1)
			return 0;
	}
	return 1;
}

TEST(schema_version_and_views)
{
	char *path = temp_db();
	struct store *s;

	CHECK_EQ_INT(store_open(path, STORE_WRITE, &s), 0);
	CHECK_EQ_INT(one_int(store_db(s), "PRAGMA user_version"), MEMTIDE_SCHEMA_VERSION);
	CHECK(has_columns(store_db(s), "runs", "run,started,ended,command,peak_rss"));
	CHECK(has_columns(store_db(s), "processes", "run,pid,ppid,command,started,ended"));
	CHECK(has_columns(store_db(s), "samples", "run,pid,t,rss,cpu,threads"));
	store_close(s);
	/* Reopening does not migrate twice. */
	CHECK_EQ_INT(store_open(path, STORE_WRITE, &s), 0);
	store_close(s);
	CHECK_EQ_INT(store_open(path, STORE_READ, &s), 0);
	store_close(s);
	free(path);
}

/* run.skipped: 0 from the start for run and attach, the last count
 * written once the samples it accounts for commit with it, NULL for a
 * recorder that does not count (memtided). */
TEST(skipped_ticks_are_kept_with_their_samples)
{
	char *path = temp_db();
	struct store *s;
	int64_t run, daemon, p;
	struct store_run r = {.kind = "attach", .command = "x", .started = 1.0,
			      .interval = 0.01, .page_size = 4096, .backend = "rss"};
	struct store_proc sp = {.pid = 10, .start_ticks = 5};
	struct store_sample v[] = {
		{.tick = 0, .rss_pages = 1, .threads = 1, .pss_kib = -1},
		{.tick = 3, .rss_pages = 1, .threads = 1, .pss_kib = -1},
	};

	CHECK_EQ_INT(store_open(path, STORE_WRITE, &s), 0);
	CHECK_EQ_INT(store_run_begin(s, &r, &run), 0);
	CHECK_EQ_INT(one_int(store_db(s), "SELECT skipped FROM runs"), 0);
	sp.run = run;
	CHECK_EQ_INT(store_proc_add(s, &sp, &p), 0);
	v[0].proc = v[1].proc = p;
	CHECK_EQ_INT(store_begin(s), 0);
	CHECK_EQ_INT(store_append(s, run, v, 2), 0);
	CHECK_EQ_INT(store_run_skipped(s, run, 2), 0);
	store_rollback(s);
	CHECK_EQ_INT(one_int(store_db(s), "SELECT samples + skipped FROM runs"), 0);
	CHECK_EQ_INT(store_begin(s), 0);
	CHECK_EQ_INT(store_append(s, run, v, 2), 0);
	CHECK_EQ_INT(store_run_skipped(s, run, 2), 0);
	CHECK_EQ_INT(store_commit(s), 0);
	CHECK_EQ_INT(one_int(store_db(s), "SELECT samples + skipped - (SELECT"
				  " max(tick) + 1 FROM samples) FROM runs"), 0);
	r.kind = "daemon";
	CHECK_EQ_INT(store_run_begin(s, &r, &daemon), 0);
	CHECK_EQ_INT(one_int(store_db(s), "SELECT count(*) FROM runs WHERE"
				  " kind = 'daemon' AND skipped IS NULL"), 1);
	store_close(s);
	free(path);
}

TEST(samples_peaks_and_units)
{
	char *path = temp_db();
	struct store *s;
	int64_t run, a, b, id;
	struct store_run r = {.kind = "run", .command = "python3 x.py", .started = 1000.0,
			      .interval = 0.5, .page_size = 4096, .backend = "rss"};
	struct store_proc pa = {.pid = 10, .start_ticks = 5, .argv = "python3\0x.py",
				.argv_len = 13};
	struct store_proc pb = {.pid = 11, .start_ticks = 6,
				.argv = "a) b\nc\0\xff\0", .argv_len = 10};
	/* Two processes on ticks 0..2; the total peaks at tick 1 (300 pages)
	 * although neither process peaks there alone. */
	struct store_sample v[] = {
		{.proc = 0, .tick = 0, .rss_pages = 100, .cpu_pm = 1000, .threads = 1, .pss_kib = -1},
		{.proc = 1, .tick = 0, .rss_pages = 50, .cpu_pm = 0, .threads = 1, .pss_kib = -1},
		{.proc = 0, .tick = 1, .rss_pages = 150, .cpu_pm = 1500, .threads = 4, .pss_kib = -1},
		{.proc = 1, .tick = 1, .rss_pages = 150, .cpu_pm = 0, .threads = 1, .pss_kib = -1},
		{.proc = 0, .tick = 2, .rss_pages = 200, .cpu_pm = 0, .threads = 1, .pss_kib = -1},
		{.proc = 1, .tick = 2, .rss_pages = 10, .cpu_pm = 0, .threads = 1, .pss_kib = -1},
	};

	CHECK_EQ_INT(store_open(path, STORE_WRITE, &s), 0);
	CHECK_EQ_INT(store_run_begin(s, &r, &run), 0);
	pa.run = pb.run = run;
	CHECK_EQ_INT(store_proc_add(s, &pa, &a), 0);
	pb.parent = a;
	CHECK_EQ_INT(store_proc_add(s, &pb, &b), 0);
	for (size_t i = 0; i < 6; i++)
		v[i].proc = v[i].proc ? b : a;
	CHECK_EQ_INT(store_append(s, run, v, 4), 0);
	CHECK_EQ_INT(store_append(s, run, v + 4, 2), 0);
	CHECK_EQ_INT(store_run_end(s, run, 1001.5, 0, 999 * 4096), 0);
	CHECK_EQ_INT(one_int(store_db(s), "SELECT peak_rss FROM runs"), 300 * 4096);
	CHECK_EQ_INT(one_int(store_db(s), "SELECT kernel_peak_rss FROM runs"), 999 * 4096);
	CHECK_EQ_INT(one_int(store_db(s), "SELECT samples FROM runs"), 6);
	CHECK_EQ_INT(one_int(store_db(s), "SELECT peak_rss FROM processes WHERE pid = 10"),
		     200 * 4096);
	CHECK_EQ_INT(one_int(store_db(s), "SELECT rss FROM samples WHERE pid = 11 AND "
					  "t = 1000.5"), 150 * 4096);
	CHECK_EQ_INT(one_int(store_db(s), "SELECT cpu * 10 FROM samples WHERE pid = 10 "
					  "AND tick = 1"), 1500);
	CHECK_EQ_INT(one_int(store_db(s), "SELECT count(*) FROM processes WHERE command ="
					  " 'a) b\\nc \\xff'"), 1);
	CHECK_EQ_INT(one_int(store_db(s), "SELECT length(argv) FROM proc WHERE pid = 11"), 10);
	CHECK_EQ_INT(store_run_resolve(s, NULL, &id), 0);
	CHECK_EQ_INT(id, run);
	CHECK_EQ_INT(store_run_resolve(s, "99", &id), -ENOENT);
	CHECK_EQ_INT(store_run_resolve(s, "abc", &id), -EINVAL);
	CHECK_EQ_INT(store_run_delete(s, run), 0);
	CHECK_EQ_INT(one_int(store_db(s), "SELECT count(*) FROM sample"), 0);
	CHECK_EQ_INT(one_int(store_db(s), "SELECT count(*) FROM proc"), 0);
	store_close(s);
	free(path);
}

/* mprof's relative indices: -1 the newest run, -N the Nth newest, "~N"
 * the same (what memtide's commands rewrite "-N" to before getopt). */
TEST(run_resolve_counts_back_from_the_newest)
{
	char *path = temp_db();
	struct store *s;
	int64_t ids[3], id;
	struct store_run r = {.kind = "run", .command = "x", .started = 1000.0,
			      .interval = 0.1, .page_size = 4096, .backend = "rss"};

	CHECK_EQ_INT(store_open(path, STORE_WRITE, &s), 0);
	for (int i = 0; i < 3; i++)
		CHECK_EQ_INT(store_run_begin(s, &r, &ids[i]), 0);
	CHECK_EQ_INT(store_run_delete(s, ids[1]), 0); /* ids need not be dense */
	CHECK_EQ_INT(store_run_resolve(s, "-1", &id), 0);
	CHECK_EQ_INT(id, ids[2]);
	CHECK_EQ_INT(store_run_resolve(s, "~2", &id), 0);
	CHECK_EQ_INT(id, ids[0]);
	CHECK_EQ_INT(store_run_resolve(s, "-3", &id), -ENOENT);
	CHECK(strstr(store_errmsg(s), "fewer than 3 runs") != NULL);
	CHECK_EQ_INT(store_run_resolve(s, "~", &id), -EINVAL);
	CHECK_EQ_INT(store_run_resolve(s, "-0", &id), -EINVAL);
	store_close(s);
	free(path);
}

/* Buckets of a run at 10 ms: 100 ticks each, built across batches (a
 * bucket split by a flush is merged), a duplicate sample not counted,
 * equal to the GROUP BY of the samples; none for a daemon run. */
TEST(aggregates_follow_the_samples)
{
	char *path = temp_db();
	struct store *s;
	int64_t run, a, drun, d;
	struct store_run r = {.kind = "run", .command = "python3 x.py", .started = 1000.0,
			      .interval = 0.01, .page_size = 4096, .backend = "rss"};
	struct store_proc pa = {.pid = 10, .start_ticks = 5};
	struct store_sample v[250];

	CHECK_EQ_INT(store_agg_ticks(0.01), 100);
	CHECK_EQ_INT(store_agg_ticks(1e-5), 100000);
	CHECK_EQ_INT(store_agg_ticks(0.5), 0);
	CHECK_EQ_INT(store_open(path, STORE_WRITE, &s), 0);
	CHECK_EQ_INT(store_run_begin(s, &r, &run), 0);
	pa.run = run;
	CHECK_EQ_INT(store_proc_add(s, &pa, &a), 0);
	for (int i = 0; i < 250; i++)
		v[i] = (struct store_sample){.proc = a, .tick = i,
					     .rss_pages = 1000 + (i * 37) % 101,
					     .cpu_pm = i % 7, .threads = 1 + i / 100,
					     .pss_kib = -1};
	/* Ticks 0-129, then 130-249 with tick 129 again (ignored). */
	CHECK_EQ_INT(store_append(s, run, v, 130), 0);
	v[129].rss_pages = 1;
	CHECK_EQ_INT(store_append(s, run, v + 129, 121), 0);
	CHECK_EQ_INT(one_int(store_db(s), "SELECT count(*) FROM sample_agg"), 3);
	CHECK_EQ_INT(one_int(store_db(s), "SELECT sum(n) FROM sample_agg"), 250);
	CHECK_EQ_INT(one_int(store_db(s),
			     "SELECT count(*) FROM sample_agg a JOIN (SELECT proc, tick / 100 AS b,"
			     " count(*) AS n, min(rss) AS lo, max(rss) AS hi,"
			     " CAST(round(avg(rss)) AS INTEGER) AS mean, max(cpu) AS cpu,"
			     " max(threads) AS thr FROM sample GROUP BY 1, 2) s"
			     " ON s.proc = a.proc AND s.b = a.bucket WHERE a.n = s.n"
			     " AND a.rss_min = s.lo AND a.rss_max = s.hi"
			     " AND abs(a.rss_mean - s.mean) <= 1 AND a.cpu_max = s.cpu"
			     " AND a.threads_max = s.thr"),
		     3);
	CHECK_EQ_INT(one_int(store_db(s), "SELECT rss_first FROM sample_agg WHERE bucket = 1"),
		     1000 + (100 * 37) % 101);
	CHECK_EQ_INT(one_int(store_db(s), "SELECT rss_last FROM sample_agg WHERE bucket = 1"),
		     1000 + (199 * 37) % 101);
	/* memtided's history has rollups instead. */
	r.kind = "daemon";
	CHECK_EQ_INT(store_run_begin(s, &r, &drun), 0);
	pa.run = drun;
	CHECK_EQ_INT(store_proc_add(s, &pa, &d), 0);
	for (int i = 0; i < 250; i++)
		v[i].proc = d;
	CHECK_EQ_INT(store_append(s, drun, v, 250), 0);
	CHECK_EQ_INT(one_int(store_db(s), "SELECT count(*) FROM sample_agg"), 3);
	CHECK_EQ_INT(store_run_delete(s, run), 0);
	CHECK_EQ_INT(one_int(store_db(s), "SELECT count(*) FROM sample_agg"), 0);
	store_close(s);
	free(path);
}

static int same_file(const char *path, const char *bytes, size_t len)
{
	char buf[8192];
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f)
		return 0;
	n = fread(buf, 1, sizeof buf, f);
	fclose(f);
	return n == len && memcmp(buf, bytes, len) == 0;
}

TEST(garbage_file_refused_and_untouched)
{
	char *path = temp_db(), junk[4096];
	struct store *s = NULL;
	FILE *f = fopen(path, "wb");

	for (size_t i = 0; i < sizeof junk; i++)
		junk[i] = (char)(i * 7 + 3);
	fwrite(junk, 1, sizeof junk, f);
	fclose(f);
	CHECK(store_open(path, STORE_WRITE, &s) < 0);
	CHECK(strstr(store_errmsg(s), "not a") != NULL);
	store_close(s);
	CHECK(store_open(path, STORE_READ, &s) < 0);
	store_close(s);
	CHECK(same_file(path, junk, sizeof junk));
	free(path);
}

TEST(foreign_and_newer_databases_refused)
{
	char *path = temp_db();
	struct store *s = NULL;
	sqlite3 *db;

	sqlite3_open(path, &db);
	sqlite3_exec(db, "CREATE TABLE accounts(x)", NULL, NULL, NULL);
	sqlite3_close(db);
	CHECK_EQ_INT(store_open(path, STORE_WRITE, &s), -MEMTIDE_ECORRUPT);
	store_close(s);
	sqlite3_open(path, &db);
	CHECK_EQ_INT(one_int(db, "SELECT count(*) FROM sqlite_schema"), 1);
	sqlite3_exec(db, "DROP TABLE accounts; PRAGMA user_version = 999", NULL, NULL, NULL);
	sqlite3_close(db);
	CHECK_EQ_INT(store_open(path, STORE_WRITE, &s), -MEMTIDE_ENEWER);
	CHECK(strstr(store_errmsg(s), "newer") != NULL);
	store_close(s);
	free(path);
}

TEST(default_path)
{
	char *p;

	setenv("MEMTIDE_DB", "/x/env.db", 1);
	p = store_default_path("/x/arg.db");
	CHECK_EQ_STR(p, "/x/arg.db");
	free(p);
	p = store_default_path(NULL);
	CHECK_EQ_STR(p, "/x/env.db");
	free(p);
	unsetenv("MEMTIDE_DB");
	setenv("XDG_DATA_HOME", "/x/data", 1);
	p = store_default_path(NULL);
	CHECK_EQ_STR(p, "/x/data/memtide/memtide.db");
	free(p);
	unsetenv("XDG_DATA_HOME");
	setenv("HOME", "/home/u", 1);
	p = store_default_path(NULL);
	CHECK_EQ_STR(p, "/home/u/.local/share/memtide/memtide.db");
	free(p);
}

/* VmHWM is stored every second while memtide run records: a steady
 * process's unchanged peak writes nothing (no row update, no commit of its
 * own), a higher one is written, and a rolled-back one is written again. */
TEST(unchanged_hwm_writes_nothing)
{
	char *path = temp_db();
	struct store *s;
	int64_t run, a;
	struct store_run r = {.kind = "attach", .command = "python3", .started = 1000.0,
			      .interval = 0.1, .page_size = 4096, .backend = "rss"};
	struct store_proc pa = {.pid = 10, .start_ticks = 5};
	sqlite3 *db;
	int before;

	CHECK_EQ_INT(store_open(path, STORE_WRITE, &s), 0);
	CHECK_EQ_INT(store_run_begin(s, &r, &run), 0);
	pa.run = run;
	CHECK_EQ_INT(store_proc_add(s, &pa, &a), 0);
	db = store_db(s);
	CHECK_EQ_INT(store_proc_hwm(s, a, 8 << 20), 0);
	before = sqlite3_total_changes(db);
	for (int i = 0; i < 5; i++)
		CHECK_EQ_INT(store_proc_hwm(s, a, 8 << 20), 0);
	CHECK_EQ_INT(store_proc_hwm(s, a, 4 << 20), 0);
	CHECK_EQ_INT(sqlite3_total_changes(db), before);
	CHECK_EQ_INT(store_proc_hwm(s, a, 9 << 20), 0);
	CHECK_EQ_INT(sqlite3_total_changes(db), before + 1);
	CHECK_EQ_INT(one_int(db, "SELECT hwm FROM proc"), 9 << 20);
	CHECK_EQ_INT(store_begin(s), 0);
	CHECK_EQ_INT(store_proc_hwm(s, a, 10 << 20), 0);
	store_rollback(s);
	CHECK_EQ_INT(one_int(db, "SELECT hwm FROM proc"), 9 << 20);
	CHECK_EQ_INT(store_proc_hwm(s, a, 10 << 20), 0);
	CHECK_EQ_INT(one_int(db, "SELECT hwm FROM proc"), 10 << 20);
	store_close(s);
	free(path);
}
