/* stackstore.c - see stackstore.h. */
#include "memtide/stackstore.h"

#include "memtide/store.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdlib.h>

enum {
	SS_FRAME_ADD,
	SS_FRAME_GET,
	SS_STACK_ADD,
	SS_STACK_GET,
	SS_CHARGE,
	SS_PROC_STACKS,
	SS_PEAK_STACK,
	SS_COUNT,
};

static const char *const sql[SS_COUNT] = {
	[SS_FRAME_ADD] = "INSERT OR IGNORE INTO frame(function, file, line) VALUES (?1, ?2, ?3)",
	[SS_FRAME_GET] = "SELECT id FROM frame WHERE function = ?1 AND file = ?2 AND line = ?3",
	[SS_STACK_ADD] = "INSERT OR IGNORE INTO stack(parent, frame, depth) VALUES (?1, ?2, ?3)",
	[SS_STACK_GET] = "SELECT id FROM stack WHERE parent = ?1 AND frame = ?2",
	[SS_CHARGE] = "INSERT INTO charge(proc, tick, stack, n, grown, released)"
		      " VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(proc, tick, stack)"
		      " DO UPDATE SET n = n + excluded.n, grown = grown + excluded.grown,"
		      " released = released + excluded.released",
	[SS_PROC_STACKS] = "UPDATE proc SET stacks = ?2 WHERE id = ?1",
	[SS_PEAK_STACK] = "UPDATE proc SET peak_stack = ?2 WHERE id = ?1",
};

struct stackstore {
	sqlite3 *db;
	sqlite3_stmt *st[SS_COUNT];
};

static int code(int rc)
{
	return store_sql_code(rc);
}

int stackstore_open(struct store *s, struct stackstore **out)
{
	struct stackstore *w = calloc(1, sizeof *w);
	int rc = SQLITE_OK;

	if (!w)
		return -ENOMEM;
	w->db = store_db(s);
	for (int i = 0; i < SS_COUNT && rc == SQLITE_OK; i++)
		rc = sqlite3_prepare_v3(w->db, sql[i], -1, SQLITE_PREPARE_PERSISTENT,
					&w->st[i], NULL);
	if (rc != SQLITE_OK) {
		stackstore_close(w);
		return code(rc) ? code(rc) : -EIO;
	}
	*out = w;
	return 0;
}

void stackstore_close(struct stackstore *w)
{
	if (!w)
		return;
	for (int i = 0; i < SS_COUNT; i++)
		sqlite3_finalize(w->st[i]);
	free(w);
}

static int run(sqlite3_stmt *st, int64_t *id)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_ROW && id)
		*id = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc == SQLITE_ROW)
		return 0;
	if (rc == SQLITE_DONE)
		return id ? -ENOENT : 0;
	return code(rc) ? code(rc) : -EIO;
}

int stackstore_frame(struct stackstore *w, const char *function,
		     const char *file, int line, int64_t *id)
{
	for (int i = SS_FRAME_ADD; i <= SS_FRAME_GET; i++) {
		sqlite3_stmt *st = w->st[i];
		int err;

		sqlite3_bind_text(st, 1, function, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, file, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 3, line);
		if ((err = run(st, i == SS_FRAME_GET ? id : NULL)))
			return err;
	}
	return 0;
}

int stackstore_stack(struct stackstore *w, int64_t parent, int64_t frame,
		     int depth, int64_t *id)
{
	sqlite3_stmt *add = w->st[SS_STACK_ADD], *get = w->st[SS_STACK_GET];
	int err;

	sqlite3_bind_int64(add, 1, parent);
	sqlite3_bind_int64(add, 2, frame);
	sqlite3_bind_int(add, 3, depth);
	if ((err = run(add, NULL)))
		return err;
	sqlite3_bind_int64(get, 1, parent);
	sqlite3_bind_int64(get, 2, frame);
	return run(get, id);
}

int stackstore_charge(struct stackstore *w, int64_t proc, int64_t tick,
		      int64_t stack, int64_t n, int64_t grown, int64_t released)
{
	sqlite3_stmt *st = w->st[SS_CHARGE];

	sqlite3_bind_int64(st, 1, proc);
	sqlite3_bind_int64(st, 2, tick);
	sqlite3_bind_int64(st, 3, stack);
	sqlite3_bind_int64(st, 4, n);
	sqlite3_bind_int64(st, 5, grown);
	sqlite3_bind_int64(st, 6, released);
	return run(st, NULL);
}

int stackstore_proc_stacks(struct stackstore *w, int64_t proc, const char *text)
{
	sqlite3_stmt *st = w->st[SS_PROC_STACKS];

	sqlite3_bind_int64(st, 1, proc);
	sqlite3_bind_text(st, 2, text, -1, SQLITE_STATIC);
	return run(st, NULL);
}

int stackstore_peak_stack(struct stackstore *w, int64_t proc, int64_t stack)
{
	sqlite3_stmt *st = w->st[SS_PEAK_STACK];

	sqlite3_bind_int64(st, 1, proc);
	sqlite3_bind_int64(st, 2, stack);
	return run(st, NULL);
}

int stackstore_expire(struct store *s, double cutoff, size_t max_rows,
		      size_t *deleted)
{
	sqlite3 *db = store_db(s);
	sqlite3_stmt *st;
	int rc;

	*deleted = 0;
	rc = sqlite3_prepare_v2(db,
				"DELETE FROM charge WHERE (proc, tick, stack) IN"
				" (SELECT c.proc, c.tick, c.stack FROM charge c"
				" JOIN proc p ON p.id = c.proc JOIN run r ON r.id = p.run"
				" WHERE r.started + c.tick * r.interval < ?1 LIMIT ?2)",
				-1, &st, NULL);
	if (rc != SQLITE_OK)
		return code(rc) ? code(rc) : -EIO;
	sqlite3_bind_double(st, 1, cutoff);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)max_rows);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return code(rc) ? code(rc) : -EIO;
	*deleted = (size_t)sqlite3_changes(db);
	return 0;
}
