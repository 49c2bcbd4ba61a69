/* totals.c - a run's figures from its rows (see include/memtide/totals.h). */
#include "memtide/totals.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

enum totals_metric totals_metric_of(const char *backend)
{
	if (backend && strcmp(backend, "pss") == 0)
		return TOTALS_PSS;
	if (backend && strcmp(backend, "uss") == 0)
		return TOTALS_USS;
	return TOTALS_RSS;
}

const char *totals_metric_name(enum totals_metric m)
{
	return m == TOTALS_PSS ? "PSS" : m == TOTALS_USS ? "USS" : "RSS";
}

/* The rows of run's processes in tick order: proc, tick, bytes, the
 * seconds a value stands, run.interval, the process's last tick. */
static const char *const held_sql[] = {
	[TOTALS_RSS] =
		"SELECT s.proc, s.tick, s.rss * r.page_size,"
		" max(coalesce(p.interval, r.interval), r.interval), r.interval,"
		" p.last_tick FROM sample s JOIN proc p ON p.id = s.proc"
		" JOIN run r ON r.id = p.run LEFT JOIN proc pp ON pp.id = p.parent"
		" WHERE p.run = ?1 AND coalesce(pp.includes_children, 0) = 0"
		" ORDER BY s.tick",
	[TOTALS_PSS] =
		"SELECT m.proc, m.tick, m.pss * 1024,"
		" max(coalesce(p.interval, r.interval), r.interval), r.interval,"
		" (SELECT max(tick) FROM sample_mem WHERE proc = p.id)"
		" FROM sample_mem m JOIN proc p ON p.id = m.proc"
		" JOIN run r ON r.id = p.run LEFT JOIN proc pp ON pp.id = p.parent"
		" WHERE p.run = ?1 AND coalesce(pp.includes_children, 0) = 0"
		" AND m.pss IS NOT NULL ORDER BY m.tick",
	[TOTALS_USS] =
		"SELECT m.proc, m.tick, m.uss * 1024,"
		" max(coalesce(p.interval, r.interval), r.interval), r.interval,"
		" (SELECT max(tick) FROM sample_mem WHERE proc = p.id)"
		" FROM sample_mem m JOIN proc p ON p.id = m.proc"
		" JOIN run r ON r.id = p.run LEFT JOIN proc pp ON pp.id = p.parent"
		" WHERE p.run = ?1 AND coalesce(pp.includes_children, 0) = 0"
		" AND m.uss IS NOT NULL ORDER BY m.tick",
};

struct totals_held_row {
	int64_t series, v, until;
};

int totals_held_add(struct totals_held *t, int64_t series, int64_t tick, int64_t v,
		    int64_t until)
{
	size_t i;

	if (tick != t->key) {
		/* The sum stands once every row of a tick is in. */
		if (t->sum > t->best)
			t->best = t->sum;
		t->key = tick;
		for (i = 0; i < t->n; i++)
			if (t->h[i].until <= tick) {
				t->sum -= t->h[i].v;
				t->h[i].v = 0;
				t->h[i].until = INT64_MAX;
			}
	}
	for (i = 0; i < t->n && t->h[i].series != series; i++)
		;
	if (i == t->n) {
		if (t->n == t->cap) {
			size_t c = t->cap ? t->cap * 2 : 16;
			struct totals_held_row *nh = realloc(t->h, c * sizeof *nh);

			if (!nh)
				return -ENOMEM;
			t->h = nh;
			t->cap = c;
		}
		t->h[t->n++] = (struct totals_held_row){series, 0, INT64_MAX};
	}
	t->sum += v - t->h[i].v;
	t->h[i].v = v;
	t->h[i].until = until;
	return 0;
}

int64_t totals_held_end(struct totals_held *t)
{
	if (t->sum > t->best)
		t->best = t->sum;
	free(t->h);
	t->h = NULL;
	t->n = t->cap = 0;
	return t->best;
}

int64_t totals_held_until(int64_t tick, double hold_s, double interval_s)
{
	double x = hold_s / interval_s;
	int64_t c = (int64_t)x;

	return tick + c + ((double)c < x);
}

int totals_held_peak(sqlite3 *db, int64_t run, enum totals_metric m, int64_t *peak)
{
	struct totals_held t = TOTALS_HELD_INIT;
	sqlite3_stmt *st;
	int rc, err = 0;

	*peak = 0;
	if (sqlite3_prepare_v2(db, held_sql[m], -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_int64(st, 1, run);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t tick = sqlite3_column_int64(st, 1);
		int64_t until = tick == sqlite3_column_int64(st, 5)
					? totals_held_until(tick, sqlite3_column_double(st, 3),
							    sqlite3_column_double(st, 4))
					: INT64_MAX;

		if ((err = totals_held_add(&t, sqlite3_column_int64(st, 0), tick,
					   sqlite3_column_int64(st, 2), until)))
			break;
	}
	sqlite3_finalize(st);
	*peak = totals_held_end(&t);
	if (err)
		return err;
	return rc == SQLITE_DONE ? 0 : -EIO;
}

/* The largest value of one column over run's processes, with its pid. */
static int largest(sqlite3 *db, const char *sql, int64_t run, int64_t *v, int *pid)
{
	sqlite3_stmt *st;
	int rc;

	*v = -1;
	*pid = 0;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_int64(st, 1, run);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
		*v = sqlite3_column_int64(st, 0);
		*pid = sqlite3_column_int(st, 1);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -EIO;
}

static const char *const top_sql[] = {
	[TOTALS_RSS] = "SELECT p.peak_rss * r.page_size, p.pid FROM proc p"
		       " JOIN run r ON r.id = p.run WHERE p.run = ?1"
		       " AND p.peak_rss IS NOT NULL ORDER BY p.peak_rss DESC, p.id LIMIT 1",
	[TOTALS_PSS] = "SELECT max(m.pss) * 1024 AS v, p.pid FROM sample_mem m"
		       " JOIN proc p ON p.id = m.proc WHERE p.run = ?1"
		       " GROUP BY p.id ORDER BY v DESC, p.id LIMIT 1",
	[TOTALS_USS] = "SELECT max(m.uss) * 1024 AS v, p.pid FROM sample_mem m"
		       " JOIN proc p ON p.id = m.proc WHERE p.run = ?1"
		       " GROUP BY p.id ORDER BY v DESC, p.id LIMIT 1",
};

int totals_run_read(sqlite3 *db, int64_t run, struct totals_run *out)
{
	sqlite3_stmt *st;
	int rc;
	int64_t rss_peak;

	memset(out, 0, sizeof *out);
	if (sqlite3_prepare_v2(db, "SELECT backend, kind, peak_rss * page_size,"
			       " (SELECT count(*) FROM proc WHERE run = ?1)"
			       " FROM run WHERE id = ?1", -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_int64(st, 1, run);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_finalize(st);
		return rc == SQLITE_DONE ? -ENOENT : -EIO;
	}
	out->metric = totals_metric_of((const char *)sqlite3_column_text(st, 0));
	out->daemon = sqlite3_column_text(st, 1) &&
		      strcmp((const char *)sqlite3_column_text(st, 1), "daemon") == 0;
	rss_peak = sqlite3_column_int64(st, 2);
	out->nprocs = sqlite3_column_int64(st, 3);
	sqlite3_finalize(st);
	/* A run's RSS total is summed per tick as it is written (all its
	 * processes are sampled on the same ticks); an import's is stored
	 * as the chart's; PSS and USS are read at each process's own pace,
	 * so their total holds each one's last reading. */
	out->peak = rss_peak;
	/* A memtided session's total means nothing, and would read every
	 * smaps reading of the day. */
	if (out->metric != TOTALS_RSS && !out->daemon &&
	    totals_held_peak(db, run, out->metric, &out->peak))
		return -EIO;
	if (largest(db, top_sql[out->metric], run, &out->top_peak, &out->top_pid) ||
	    largest(db, "SELECT hwm, pid FROM proc WHERE run = ?1 AND hwm IS NOT NULL"
		    " ORDER BY hwm DESC, id LIMIT 1", run, &out->kernel_peak,
		    &out->kernel_pid))
		return -EIO;
	return 0;
}
