/* limits.c - the memory limit line of a chart (see limits.h). */
#include "limits.h"

#include "memtide/units.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>

/* Each limit holds from its row's time to the next row's, the last to the
 * process's end (or the chart's). */
static int add_proc(struct chart *c, sqlite3_stmt *st, const struct data_proc *p,
		    double offset, long *series)
{
	double prev_v = -1;
	int rc;

	sqlite3_bind_int64(st, 1, p->id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		double t = sqlite3_column_double(st, 0) - offset;
		double v = sqlite3_column_type(st, 1) == SQLITE_NULL
				   ? -1 : sqlite3_column_double(st, 1);
		double end = sqlite3_column_type(st, 2) == SQLITE_NULL
				     ? c->x1 : sqlite3_column_double(st, 2) - offset;
		struct decimate *d;

		if (*series < 0 && v > 0) {
			char label[64], b[32];

			units_format_bytes((int64_t)v, b, sizeof b);
			snprintf(label, sizeof label, "memory limit (%s)", b);
			*series = chart_add_series(c, label, CHART_MUTED, CHART_NORMAL,
						   c->x0, c->x1);
			if (*series < 0)
				return (int)*series;
			c->series[*series].legend_order = 1 << 20;
		}
		if (*series < 0)
			continue;
		d = &c->series[*series].dec;
		if (t < c->x0)
			t = c->x0;
		if (end > c->x1)
			end = c->x1;
		if (prev_v > 0)
			decimate_add(d, t, prev_v);
		if (v > 0)
			decimate_add(d, t, v);
		if (sqlite3_column_int(st, 3) && v > 0 && end > t)
			decimate_add(d, end, v);
		prev_v = v;
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

int limits_add(struct chart *c, struct sqlite3 *db, const struct data_run *r,
	       int absolute)
{
	/* last: whether the row is the process's last, whose limit is drawn
	 * on to its end. */
	static const char sql[] =
		"SELECT l.t, l.memory_limit, p.ended,"
		" l.t = (SELECT max(t) FROM proc_limit WHERE proc = l.proc)"
		" FROM proc_limit l JOIN proc p ON p.id = l.proc"
		" WHERE l.proc = ?1 ORDER BY l.t";
	sqlite3_stmt *st;
	long series = -1;
	int err = 0;

	/* Files older than v5 have no limits to draw. */
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return 0;
	for (size_t i = 0; i < r->nprocs && !err; i++)
		err = add_proc(c, st, &r->procs[i], absolute ? 0 : r->started,
			       &series);
	sqlite3_finalize(st);
	if (!err && series >= 0 && c->series[series].dec.err)
		err = c->series[series].dec.err;
	return err;
}
