/* rollup.c - raw samples into per-minute rollups, and their expiry (see
 * include/memtide/rollup.h). */
#include "memtide/rollup.h"

#include <errno.h>
#include <math.h>
#include <sqlite3.h>
#include <stdlib.h>

/* Combining a new partial minute with one already rolled up: counts add,
 * means are weighted by count, and a NULL (PSS not recorded) never hides a
 * value (SQLite's scalar min(NULL, x) is NULL). */
#define LO(c) "min(coalesce(" c ", excluded." c "), coalesce(excluded." c ", " c "))"
#define HI(c) "max(coalesce(" c ", excluded." c "), coalesce(excluded." c ", " c "))"
#define MEAN(c)                                                                       \
	"CASE WHEN " c " IS NULL THEN excluded." c " WHEN excluded." c " IS NULL THEN " c \
	" ELSE CAST(round((" c " * n + excluded." c " * excluded.n) * 1.0 /"            \
	" (n + excluded.n)) AS INTEGER) END"

static const char insert_sql[] =
	"INSERT INTO rollup(proc, minute, n, rss_min, rss_max, rss_mean, cpu_mean,"
	" cpu_max, threads_max, pss_min, pss_max, pss_mean, uss_mean, swap_max)"
	" SELECT s.proc, CAST((?2 + s.tick * ?3 + 1e-6) / 60 AS INTEGER) AS mi,"
	" count(*), min(s.rss), max(s.rss), CAST(round(avg(s.rss)) AS INTEGER),"
	" CAST(round(avg(s.cpu)) AS INTEGER), max(s.cpu), max(s.threads),"
	" min(m.pss), max(m.pss), CAST(round(avg(m.pss)) AS INTEGER),"
	" CAST(round(avg(m.uss)) AS INTEGER), max(m.swap)"
	" FROM sample s LEFT JOIN sample_mem m ON m.proc = s.proc AND m.tick = s.tick"
	" WHERE s.proc = ?1 AND s.tick < ?4 GROUP BY mi"
	" ON CONFLICT(proc, minute) DO UPDATE SET n = n + excluded.n,"
	" rss_min = " LO("rss_min") ", rss_max = " HI("rss_max") ","
	" rss_mean = " MEAN("rss_mean") ", cpu_mean = " MEAN("cpu_mean") ","
	" cpu_max = " HI("cpu_max") ", threads_max = " HI("threads_max") ","
	" pss_min = " LO("pss_min") ", pss_max = " HI("pss_max") ","
	" pss_mean = " MEAN("pss_mean") ", uss_mean = " MEAN("uss_mean") ","
	" swap_max = " HI("swap_max");

enum { Q_PROCS, Q_EDGE, Q_FIRST, Q_INSERT, Q_DEL_MEM, Q_DEL_SAMPLE, Q_N };

static const char *const move_sql[Q_N] = {
	[Q_PROCS] = "SELECT p.id, r.started, r.interval FROM proc p JOIN run r ON r.id = p.run"
		    " WHERE r.kind = 'daemon' AND p.started < ?1 ORDER BY p.id",
	/* The tick of the n-th oldest sample: a batch ends at or after it. */
	[Q_EDGE] = "SELECT tick FROM sample WHERE proc = ?1 AND tick < ?2 ORDER BY tick"
		   " LIMIT 1 OFFSET ?3",
	[Q_FIRST] = "SELECT min(tick) FROM sample WHERE proc = ?1 AND tick < ?2",
	[Q_INSERT] = insert_sql,
	[Q_DEL_MEM] = "DELETE FROM sample_mem WHERE proc = ?1 AND tick < ?2",
	[Q_DEL_SAMPLE] = "DELETE FROM sample WHERE proc = ?1 AND tick < ?2",
};

static int code(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_ROW:
	case SQLITE_DONE:
		return 0;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_NOMEM:
		return -ENOMEM;
	default:
		return -EIO;
	}
}

static int run_step(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	return code(rc);
}

static void finalize_all(sqlite3_stmt **v, int n)
{
	for (int i = 0; i < n; i++)
		sqlite3_finalize(v[i]);
}

static int finish(sqlite3 *db, int err)
{
	if (err) {
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		return err;
	}
	return code(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL));
}

int rollup_samples(struct store *s, double cutoff, size_t max_rows, size_t *moved)
{
	sqlite3 *db = store_db(s);
	sqlite3_stmt *q[Q_N] = {0};
	double c = floor(cutoff / 60) * 60;
	int err, rc = SQLITE_DONE;

	*moved = 0;
	if ((err = code(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL))))
		return err;
	for (int i = 0; i < Q_N; i++)
		if ((err = code(sqlite3_prepare_v2(db, move_sql[i], -1, &q[i], NULL))))
			goto out;
	sqlite3_bind_double(q[Q_PROCS], 1, c);
	while (*moved < max_rows && sqlite3_step(q[Q_PROCS]) == SQLITE_ROW) {
		int64_t proc = sqlite3_column_int64(q[Q_PROCS], 0), hi, lo;
		double started = sqlite3_column_double(q[Q_PROCS], 1);
		double interval = sqlite3_column_double(q[Q_PROCS], 2);
		/* Samples at started + tick * interval < c. */
		int64_t lim = (int64_t)ceil((c - started) / interval - 1e-9);

		if (lim <= 0 || interval <= 0)
			continue;
		hi = lim;
		sqlite3_bind_int64(q[Q_FIRST], 1, proc);
		sqlite3_bind_int64(q[Q_FIRST], 2, lim);
		rc = sqlite3_step(q[Q_FIRST]);
		if (rc != SQLITE_ROW || sqlite3_column_type(q[Q_FIRST], 0) == SQLITE_NULL) {
			sqlite3_reset(q[Q_FIRST]);
			continue;
		}
		lo = sqlite3_column_int64(q[Q_FIRST], 0);
		sqlite3_reset(q[Q_FIRST]);
		sqlite3_bind_int64(q[Q_EDGE], 1, proc);
		sqlite3_bind_int64(q[Q_EDGE], 2, lim);
		sqlite3_bind_int64(q[Q_EDGE], 3, (sqlite3_int64)(max_rows - *moved));
		if (sqlite3_step(q[Q_EDGE]) == SQLITE_ROW) {
			/* More than fits: stop at the start of the minute of the
			 * first sample left out, so that minutes are rolled up
			 * whole (a split minute's PSS mean is only approximate);
			 * a minute bigger than a batch is split all the same. */
			int64_t e = sqlite3_column_int64(q[Q_EDGE], 0);
			double m = floor((started + (double)e * interval + 1e-6) / 60) * 60;
			int64_t edge = (int64_t)ceil((m - started) / interval - 1e-9);

			hi = edge > lo ? edge : e;
		}
		sqlite3_reset(q[Q_EDGE]);
		sqlite3_bind_int64(q[Q_INSERT], 1, proc);
		sqlite3_bind_double(q[Q_INSERT], 2, started);
		sqlite3_bind_double(q[Q_INSERT], 3, interval);
		sqlite3_bind_int64(q[Q_INSERT], 4, hi);
		if ((err = run_step(q[Q_INSERT])))
			goto out;
		for (int i = Q_DEL_MEM; i <= Q_DEL_SAMPLE; i++) {
			sqlite3_bind_int64(q[i], 1, proc);
			sqlite3_bind_int64(q[i], 2, hi);
			if ((err = run_step(q[i])))
				goto out;
		}
		*moved += (size_t)sqlite3_changes(db);
	}
out:
	finalize_all(q, Q_N);
	return finish(db, err);
}

enum { E_PROCS, E_DEL, E_LEFT, E_DEL_PROC, E_N };

static const char *const expire_sql[E_N] = {
	[E_PROCS] = "SELECT p.id, p.ended FROM proc p JOIN run r ON r.id = p.run"
		    " WHERE r.kind = 'daemon' AND p.started < ?1 ORDER BY p.id",
	[E_DEL] = "DELETE FROM rollup WHERE (proc, minute) IN (SELECT proc, minute"
		  " FROM rollup WHERE proc = ?1 AND minute < ?2 ORDER BY minute LIMIT ?3)",
	[E_LEFT] = "SELECT EXISTS (SELECT 1 FROM rollup WHERE proc = ?1)"
		   " OR EXISTS (SELECT 1 FROM sample WHERE proc = ?1)",
	[E_DEL_PROC] = "DELETE FROM proc WHERE id = ?1",
};

int rollup_expire(struct store *s, double cutoff, size_t max_rows, size_t *deleted)
{
	sqlite3 *db = store_db(s);
	sqlite3_stmt *q[E_N] = {0};
	int64_t minute = (int64_t)floor(cutoff / 60);
	int err, rc = SQLITE_DONE;

	*deleted = 0;
	if ((err = code(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL))))
		return err;
	for (int i = 0; i < E_N; i++)
		if ((err = code(sqlite3_prepare_v2(db, expire_sql[i], -1, &q[i], NULL))))
			goto out;
	sqlite3_bind_double(q[E_PROCS], 1, cutoff);
	while (*deleted < max_rows && (rc = sqlite3_step(q[E_PROCS])) == SQLITE_ROW) {
		int64_t proc = sqlite3_column_int64(q[E_PROCS], 0);
		int ended = sqlite3_column_type(q[E_PROCS], 1) != SQLITE_NULL &&
			    sqlite3_column_double(q[E_PROCS], 1) < cutoff;
		int left = 1;

		sqlite3_bind_int64(q[E_DEL], 1, proc);
		sqlite3_bind_int64(q[E_DEL], 2, minute);
		sqlite3_bind_int64(q[E_DEL], 3, (sqlite3_int64)(max_rows - *deleted));
		if ((err = run_step(q[E_DEL])))
			goto out;
		*deleted += (size_t)sqlite3_changes(db);
		if (!ended)
			continue;
		/* A process that ended before the cutoff and has no data left
		 * is history no longer. */
		sqlite3_bind_int64(q[E_LEFT], 1, proc);
		if (sqlite3_step(q[E_LEFT]) == SQLITE_ROW)
			left = sqlite3_column_int(q[E_LEFT], 0);
		sqlite3_reset(q[E_LEFT]);
		if (!left) {
			sqlite3_bind_int64(q[E_DEL_PROC], 1, proc);
			if ((err = run_step(q[E_DEL_PROC])))
				goto out;
		}
	}
	if (*deleted < max_rows && rc != SQLITE_DONE)
		err = code(rc);
out:
	finalize_all(q, E_N);
	return finish(db, err);
}
