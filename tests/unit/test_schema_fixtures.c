/* test_schema_fixtures.c - every schema version ever released, kept in
 * tests/fixtures/db/vN.db as the memtide of that version wrote it, opens and
 * migrates to the current one without losing a sample. */
#include "harness.h"

#include "memtide/store.h"

#include <glob.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static long long count(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	long long v = -1;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		return -2;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			v = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	sqlite3_close(db);
	return v;
}

static int copy_file(const char *from, const char *to)
{
	char cmd[1024];

	snprintf(cmd, sizeof cmd, "cp '%s' '%s'", from, to);
	return system(cmd);
}

TEST(fixture_databases_migrate)
{
	glob_t g;
	char tmp[] = "/tmp/memtide-fixture-XXXXXX";

	CHECK(glob("tests/fixtures/db/v*.db", 0, NULL, &g) == 0);
	CHECK(g.gl_pathc >= (size_t)MEMTIDE_SCHEMA_VERSION - 1);
	CHECK(mkdtemp(tmp) != NULL);
	for (size_t i = 0; i < g.gl_pathc; i++) {
		char path[256];
		struct store *s = NULL;
		long long samples, procs, runs, marks;

		snprintf(path, sizeof path, "%s/%zu.db", tmp, i);
		CHECK(copy_file(g.gl_pathv[i], path) == 0);
		samples = count(path, "SELECT count(*) FROM sample");
		procs = count(path, "SELECT count(*) FROM proc");
		runs = count(path, "SELECT count(*) FROM run");
		/* Tables a version introduced are empty in older files. */
		marks = count(path, "SELECT count(*) FROM sqlite_schema WHERE"
				    " name = 'mark'") ? count(path, "SELECT count(*)"
							      " FROM mark") : 0;
		CHECK(samples > 0);
		/* Reading is enough to upgrade a file its owner opens. */
		CHECK(store_open(path, STORE_READ, &s) == 0);
		store_close(s);
		CHECK_EQ_INT(count(path, "PRAGMA user_version"),
			     MEMTIDE_SCHEMA_VERSION);
		CHECK_EQ_INT(count(path, "SELECT count(*) FROM samples"), samples);
		CHECK_EQ_INT(count(path, "SELECT count(*) FROM processes"), procs);
		CHECK_EQ_INT(count(path, "SELECT count(*) FROM runs"), runs);
		CHECK_EQ_INT(count(path, "SELECT count(*) FROM marks"), marks);
		CHECK_EQ_INT(count(path, "SELECT count(*) FROM pragma_integrity_check"
				     " WHERE integrity_check != 'ok'"), 0);
		/* And it takes the current version's writes. */
		CHECK(store_open(path, STORE_WRITE, &s) == 0);
		if (s) {
			struct store_mark m = {.run = 1, .label = "after",
					       .start = 1.0, .end = -1,
					       .mem_start = -1, .mem_end = -1};
			CHECK(store_mark_add(s, &m, NULL) == 0);
		}
		store_close(s);
		CHECK_EQ_INT(count(path, "SELECT count(*) FROM marks"), marks + 1);
		unlink(path);
	}
	rmdir(tmp);
	globfree(&g);
}

/* Opens path for reading as user nobody (when root) or as ourselves;
 * returns the store_open() code, or 1 when the message is not the one
 * expected. */
static int open_as_nobody(const char *path)
{
	pid_t pid = fork();
	int status;

	if (pid == 0) {
		struct store *s = NULL;
		int err;

		if (geteuid() == 0 && (setgid(65534) < 0 || setuid(65534) < 0))
			_exit(100);
		err = store_open(path, STORE_READ, &s);
		if (err == -MEMTIDE_EOLDER &&
		    !strstr(store_errmsg(s), "older memtide"))
			_exit(101);
		_exit(err == -MEMTIDE_EOLDER ? 0 : 102);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

TEST(older_file_not_writable_is_refused_clearly)
{
	char dir[] = "/tmp/memtide-fixture-ro-XXXXXX", path[128];

	CHECK(mkdtemp(dir) != NULL);
	CHECK(chmod(dir, 0755) == 0);
	snprintf(path, sizeof path, "%s/v1.db", dir);
	CHECK(copy_file("tests/fixtures/db/v1.db", path) == 0);
	CHECK(chmod(path, 0444) == 0);
	CHECK_EQ_INT(open_as_nobody(path), 0);
	CHECK_EQ_INT(count(path, "PRAGMA user_version"), 1);
	unlink(path);
	rmdir(dir);
}
