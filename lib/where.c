/* where.c - see where.h. */
#include "memtide/where.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The charges selected by a where_query: ?1 run, ?2 pid (0 all), ?3 since,
 * ?4 until (0: no bound).  A charge covers the tick before its own. */
#define FROM_CHARGES \
	" FROM charge c JOIN proc p ON p.id = c.proc JOIN run r ON r.id = p.run"
#define WHERE_SELECTED \
	" WHERE p.run = ?1 AND (?2 = 0 OR p.pid = ?2)" \
	" AND (?3 = 0 OR r.started + c.tick * r.interval > ?3)" \
	" AND (?4 = 0 OR r.started + (c.tick - 1) * r.interval < ?4)"
#define SELECTED FROM_CHARGES WHERE_SELECTED

static void bind_query(sqlite3_stmt *st, const struct where_query *q)
{
	sqlite3_bind_int64(st, 1, q->run);
	sqlite3_bind_int(st, 2, q->pid);
	sqlite3_bind_double(st, 3, q->since);
	sqlite3_bind_double(st, 4, q->until);
}

static char *dup_col(sqlite3_stmt *st, int i)
{
	const unsigned char *s = sqlite3_column_text(st, i);

	return strdup(s ? (const char *)s : "");
}

static int totals(sqlite3 *db, const struct where_query *q, struct where_rows *out)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(db, "SELECT coalesce(sum(c.grown), 0),"
				    " coalesce(sum(c.released), 0)" SELECTED, -1, &st, NULL);

	if (rc != SQLITE_OK)
		return rc;
	bind_query(st, q);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		out->total_grown = sqlite3_column_int64(st, 0);
		out->total_released = sqlite3_column_int64(st, 1);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return rc;
}

int where_rank(sqlite3 *db, const struct where_query *q, struct where_rows *out)
{
	const char *line = q->functions ? "-1" : "f.line";
	char sql[2048];
	sqlite3_stmt *st;
	size_t cap = 0;
	int rc;

	memset(out, 0, sizeof *out);
	if ((rc = totals(db, q, out)))
		return rc;
	if (!q->inclusive)
		snprintf(sql, sizeof sql,
			 "SELECT f.function, f.file, %s, sum(c.grown) AS g,"
			 " sum(c.released) AS rl" FROM_CHARGES
			 " JOIN stack s ON s.id = c.stack JOIN frame f ON f.id = s.frame"
			 WHERE_SELECTED " GROUP BY f.function, f.file, 3 HAVING g > 0 OR rl > 0"
			 " ORDER BY g DESC, rl DESC LIMIT ?5",
			 line);
	else
		snprintf(sql, sizeof sql,
			 "WITH sel AS (SELECT c.stack AS stack, sum(c.grown) AS g,"
			 " sum(c.released) AS rl" SELECTED " GROUP BY c.stack),"
			 " walk(stack, node) AS (SELECT stack, stack FROM sel UNION ALL"
			 " SELECT w.stack, s.parent FROM walk w JOIN stack s ON s.id = w.node"
			 " WHERE s.parent != 0),"
			 " x AS (SELECT DISTINCT w.stack AS stack, f.function AS function,"
			 " f.file AS file, %s AS line FROM walk w JOIN stack s ON s.id = w.node"
			 " JOIN frame f ON f.id = s.frame)"
			 " SELECT x.function, x.file, x.line, sum(sel.g) AS tg,"
			 " sum(sel.rl) AS trl FROM x JOIN sel ON sel.stack = x.stack"
			 " GROUP BY 1, 2, 3 HAVING tg > 0 OR trl > 0"
			 " ORDER BY tg DESC, trl DESC LIMIT ?5",
			 line);
	if ((rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL)) != SQLITE_OK)
		return rc;
	bind_query(st, q);
	sqlite3_bind_int(st, 5, q->top > 0 ? q->top : -1);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct where_row *r;

		if (out->n == cap) {
			cap = cap ? cap * 2 : 32;
			if (!(r = realloc(out->row, cap * sizeof *r))) {
				rc = SQLITE_NOMEM;
				break;
			}
			out->row = r;
		}
		r = &out->row[out->n++];
		r->function = dup_col(st, 0);
		r->file = dup_col(st, 1);
		r->line = sqlite3_column_int(st, 2);
		r->grown = sqlite3_column_int64(st, 3);
		r->released = sqlite3_column_int64(st, 4);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

void where_rows_free(struct where_rows *w)
{
	for (size_t i = 0; i < w->n; i++) {
		free(w->row[i].function);
		free(w->row[i].file);
	}
	free(w->row);
	memset(w, 0, sizeof *w);
}

int where_stack_frames(sqlite3 *db, int64_t stack, struct where_frame **frames,
		       size_t *n)
{
	sqlite3_stmt *st;
	size_t cap = 0;
	int rc = sqlite3_prepare_v2(
		db,
		"WITH RECURSIVE w(node, level) AS (SELECT ?1, 0 UNION ALL"
		" SELECT s.parent, w.level + 1 FROM w JOIN stack s ON s.id = w.node"
		" WHERE s.parent != 0)"
		" SELECT f.function, f.file, f.line FROM w JOIN stack s ON s.id = w.node"
		" JOIN frame f ON f.id = s.frame ORDER BY w.level",
		-1, &st, NULL);

	*frames = NULL;
	*n = 0;
	if (rc != SQLITE_OK)
		return rc;
	sqlite3_bind_int64(st, 1, stack);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct where_frame *f;

		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			if (!(f = realloc(*frames, cap * sizeof *f))) {
				rc = SQLITE_NOMEM;
				break;
			}
			*frames = f;
		}
		f = &(*frames)[(*n)++];
		f->function = dup_col(st, 0);
		f->file = dup_col(st, 1);
		f->line = sqlite3_column_int(st, 2);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

void where_frames_free(struct where_frame *f, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(f[i].function);
		free(f[i].file);
	}
	free(f);
}

int where_peak_stack(sqlite3 *db, const struct where_query *q, struct where_peak *out)
{
	sqlite3_stmt *st;
	int64_t stack = 0;
	int rc = sqlite3_prepare_v2(
		db,
		"SELECT p.pid, coalesce(p.peak_rss, 0) * r.page_size, p.peak_stack"
		" FROM proc p JOIN run r ON r.id = p.run WHERE p.run = ?1"
		" AND (?2 = 0 OR p.pid = ?2) AND p.peak_stack IS NOT NULL"
		" ORDER BY p.peak_rss DESC LIMIT 1",
		-1, &st, NULL);

	memset(out, 0, sizeof *out);
	if (rc != SQLITE_OK)
		return rc;
	sqlite3_bind_int64(st, 1, q->run);
	sqlite3_bind_int(st, 2, q->pid);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		out->pid = sqlite3_column_int(st, 0);
		out->rss = sqlite3_column_int64(st, 1);
		stack = sqlite3_column_int64(st, 2);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return rc == SQLITE_DONE ? SQLITE_OK : rc;
	return where_stack_frames(db, stack, &out->frame, &out->n);
}

void where_peak_free(struct where_peak *p)
{
	where_frames_free(p->frame, p->n);
	memset(p, 0, sizeof *p);
}

int where_stacks(sqlite3 *db, const struct where_query *q, where_stack_fn fn, void *ctx)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(db, "SELECT c.stack, sum(c.grown) AS g,"
				    " sum(c.released) AS rl" SELECTED
				    " GROUP BY c.stack HAVING g > 0 OR rl > 0"
				    " ORDER BY c.stack", -1, &st, NULL);

	if (rc != SQLITE_OK)
		return rc;
	bind_query(st, q);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct where_frame *f, t;
		size_t n;
		int err;

		if ((err = where_stack_frames(db, sqlite3_column_int64(st, 0), &f, &n))) {
			rc = err;
			break;
		}
		for (size_t i = 0; i < n / 2; i++) {
			t = f[i];
			f[i] = f[n - 1 - i];
			f[n - 1 - i] = t;
		}
		err = fn(ctx, f, n, sqlite3_column_int64(st, 1), sqlite3_column_int64(st, 2));
		where_frames_free(f, n);
		if (err) {
			rc = SQLITE_ABORT;
			break;
		}
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}
