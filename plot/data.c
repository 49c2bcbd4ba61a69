/* data.c - runs, history and samples out of the database (see data.h). */
#include "data.h"

#include "memtide/store.h"

#include <errno.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
	const char *name;
	const char *raw;    /* SELECT tick, value ... ?1 proc, ?2..?3 ticks */
	const char *rollup; /* SELECT minute, n, min, max, mean ... */
	int mem;            /* from sample_mem */
	const char *agg;    /* SELECT bucket, n, min, max, mean; or NULL */
} metrics[] = {
	[DATA_RSS] = {"rss",
		      "SELECT tick, rss FROM sample WHERE proc = ?1"
		      " AND tick BETWEEN ?2 AND ?3 ORDER BY tick",
		      "SELECT minute, n, rss_min, rss_max, rss_mean FROM rollup"
		      " WHERE proc = ?1 AND minute BETWEEN ?2 AND ?3"
		      " ORDER BY minute",
		      0,
		      "SELECT bucket, n, rss_min, rss_max, rss_mean, rss_first,"
		      " rss_last FROM sample_agg WHERE proc = ?1"
		      " AND bucket BETWEEN ?2 AND ?3 ORDER BY bucket"},
	[DATA_PSS] = {"pss",
		      "SELECT tick, pss FROM sample_mem WHERE proc = ?1"
		      " AND tick BETWEEN ?2 AND ?3 AND pss IS NOT NULL"
		      " ORDER BY tick",
		      "SELECT minute, n, pss_min, pss_max, pss_mean FROM rollup"
		      " WHERE proc = ?1 AND minute BETWEEN ?2 AND ?3"
		      " AND pss_mean IS NOT NULL ORDER BY minute",
		      1, NULL},
	[DATA_USS] = {"uss",
		      "SELECT tick, uss FROM sample_mem WHERE proc = ?1"
		      " AND tick BETWEEN ?2 AND ?3 AND uss IS NOT NULL"
		      " ORDER BY tick",
		      "SELECT minute, n, uss_mean, uss_mean, uss_mean FROM rollup"
		      " WHERE proc = ?1 AND minute BETWEEN ?2 AND ?3"
		      " AND uss_mean IS NOT NULL ORDER BY minute",
		      1, NULL},
	[DATA_SWAP] = {"swap",
		       "SELECT tick, swap FROM sample_mem WHERE proc = ?1"
		       " AND tick BETWEEN ?2 AND ?3 AND swap IS NOT NULL"
		       " ORDER BY tick",
		       "SELECT minute, n, swap_max, swap_max, swap_max FROM"
		       " rollup WHERE proc = ?1 AND minute BETWEEN ?2 AND ?3"
		       " AND swap_max IS NOT NULL ORDER BY minute",
		       1, NULL},
	[DATA_CPU] = {"cpu",
		      "SELECT tick, cpu FROM sample WHERE proc = ?1"
		      " AND tick BETWEEN ?2 AND ?3 ORDER BY tick",
		      "SELECT minute, n, cpu_mean, cpu_max, cpu_mean FROM rollup"
		      " WHERE proc = ?1 AND minute BETWEEN ?2 AND ?3"
		      " ORDER BY minute",
		      0,
		      "SELECT bucket, n, cpu_mean, cpu_max, cpu_mean FROM"
		      " sample_agg WHERE proc = ?1 AND bucket BETWEEN ?2 AND ?3"
		      " ORDER BY bucket"},
	[DATA_THREADS] = {"threads",
			  "SELECT tick, threads FROM sample WHERE proc = ?1"
			  " AND tick BETWEEN ?2 AND ?3 ORDER BY tick",
			  "SELECT minute, n, threads_max, threads_max,"
			  " threads_max FROM rollup WHERE proc = ?1"
			  " AND minute BETWEEN ?2 AND ?3 ORDER BY minute",
			  0,
			  "SELECT bucket, n, threads_max, threads_max,"
			  " threads_max FROM sample_agg WHERE proc = ?1"
			  " AND bucket BETWEEN ?2 AND ?3 ORDER BY bucket"},
};

int data_metric_of(const char *name)
{
	for (size_t i = 0; i < sizeof metrics / sizeof metrics[0]; i++)
		if (strcmp(name, metrics[i].name) == 0)
			return (int)i;
	return -1;
}

const char *data_metric_name(enum data_metric m)
{
	return metrics[m].name;
}

int data_metric_is_bytes(enum data_metric m)
{
	return m != DATA_CPU && m != DATA_THREADS;
}

double data_metric_unit(const struct data_proc *p, enum data_metric m)
{
	switch (m) {
	case DATA_RSS: return (double)p->page_size;
	case DATA_CPU: return 0.1; /* permille */
	case DATA_THREADS: return 1;
	default: return 1024; /* KiB */
	}
}

static char *column_strdup(sqlite3_stmt *st, int i)
{
	const unsigned char *s = sqlite3_column_text(st, i);

	return s ? strdup((const char *)s) : NULL;
}

static int64_t column_int_or(sqlite3_stmt *st, int i, int64_t dflt)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL
		       ? dflt
		       : sqlite3_column_int64(st, i);
}

const char *data_metric_sql(enum data_metric m, enum data_source src)
{
	return src == DATA_SRC_MINUTE ? metrics[m].rollup
	       : src == DATA_SRC_AGG  ? metrics[m].agg
				      : metrics[m].raw;
}

int data_metric_from_mem(enum data_metric m)
{
	return metrics[m].mem;
}

static int prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st)
{
	int rc = sqlite3_prepare_v2(db, sql, -1, st, NULL);

	return rc == SQLITE_NOMEM ? -ENOMEM : rc != SQLITE_OK ? -EIO : 0;
}

/* Whether the database has the tables of schema v2 (a v1 file opened
 * read-only is read as it is). */
static int has_v2(sqlite3 *db)
{
	return sqlite3_table_column_metadata(db, NULL, "rollup", "minute", NULL,
					     NULL, NULL, NULL, NULL) == SQLITE_OK;
}

/* min() and max() in separate subqueries, so that each is one seek on a
 * (proc, key) primary key instead of a scan. */
static int extent(sqlite3_stmt *st, int64_t proc, int64_t *lo, int64_t *hi)
{
	int rc;

	*lo = 0;
	*hi = -1;
	if (!st)
		return 0;
	sqlite3_bind_int64(st, 1, proc);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
		*lo = sqlite3_column_int64(st, 0);
		*hi = sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : -EIO;
}

/* The statements that fill a data_proc from a row of proc_sql(). */
struct proc_reader {
	sqlite3_stmt *st, *ext, *mem, *roll, *agg;
	int v2, v5;
};

#define PROC_COLUMNS                                                      \
	"p.id, p.run, p.pid, p.cmdline, p.exe, r.started, r.interval,"      \
	" r.page_size, p.hwm"
#define PROC_COLUMNS_V2 PROC_COLUMNS ", p.name, p.interval"
#define PROC_COLUMNS_V5 PROC_COLUMNS_V2 ", (SELECT q.includes_children FROM" \
	" proc q WHERE q.id = p.parent)"

static int proc_reader_open(sqlite3 *db, const char *where,
			    struct proc_reader *pr)
{
	char sql[1024];
	int err;

	memset(pr, 0, sizeof *pr);
	pr->v2 = has_v2(db);
	pr->v5 = sqlite3_table_column_metadata(db, NULL, "proc", "includes_children",
					       NULL, NULL, NULL, NULL, NULL) == SQLITE_OK;
	snprintf(sql, sizeof sql,
		 "SELECT %s FROM proc p JOIN run r ON r.id = p.run %s",
		 pr->v5 ? PROC_COLUMNS_V5 : pr->v2 ? PROC_COLUMNS_V2 : PROC_COLUMNS, where);
	if ((err = prepare(db, sql, &pr->st)) ||
	    (err = prepare(db,
			   "SELECT (SELECT min(tick) FROM sample WHERE proc ="
			   " ?1), (SELECT max(tick) FROM sample WHERE proc ="
			   " ?1)",
			   &pr->ext)) ||
	    (err = prepare(db,
			   "SELECT (SELECT min(tick) FROM sample_mem WHERE"
			   " proc = ?1), (SELECT max(tick) FROM sample_mem"
			   " WHERE proc = ?1)",
			   &pr->mem)))
		return err;
	if (pr->v2)
		err = prepare(db,
			      "SELECT (SELECT min(minute) FROM rollup WHERE"
			      " proc = ?1), (SELECT max(minute) FROM rollup"
			      " WHERE proc = ?1)",
			      &pr->roll);
	if (!err && sqlite3_table_column_metadata(db, NULL, "sample_agg", "bucket",
						  NULL, NULL, NULL, NULL,
						  NULL) == SQLITE_OK)
		err = prepare(db,
			      "SELECT (SELECT min(bucket) FROM sample_agg WHERE"
			      " proc = ?1), (SELECT max(bucket) FROM sample_agg"
			      " WHERE proc = ?1)",
			      &pr->agg);
	return err;
}

static void proc_reader_close(struct proc_reader *pr)
{
	sqlite3_finalize(pr->st);
	sqlite3_finalize(pr->ext);
	sqlite3_finalize(pr->mem);
	sqlite3_finalize(pr->roll);
	sqlite3_finalize(pr->agg);
}

/* Fills p from the current row of pr->st and its extents. */
static int proc_fill(struct proc_reader *pr, struct data_proc *p)
{
	sqlite3_stmt *st = pr->st;
	int err;

	memset(p, 0, sizeof *p);
	p->id = sqlite3_column_int64(st, 0);
	p->run = sqlite3_column_int64(st, 1);
	p->pid = sqlite3_column_int(st, 2);
	p->cmdline = column_strdup(st, 3);
	p->exe = column_strdup(st, 4);
	p->t0 = sqlite3_column_double(st, 5);
	p->interval = sqlite3_column_double(st, 6);
	p->page_size = sqlite3_column_int64(st, 7);
	p->hwm = column_int_or(st, 8, -1);
	/* A corrupt interval would make every time infinite. */
	if (!(p->interval > 0) || !isfinite(p->interval))
		p->interval = 1;
	p->every = p->interval;
	if (pr->v2) {
		double every = sqlite3_column_double(st, 10);

		p->name = column_strdup(st, 9);
		if (every > 0 && isfinite(every))
			p->every = fmax(every, p->interval);
	}
	p->in_parent = pr->v5 && sqlite3_column_int(st, 11) == 1;
	if ((err = extent(pr->ext, p->id, &p->tick_min, &p->tick_max)) ||
	    (err = extent(pr->mem, p->id, &p->mem_tick_min,
			  &p->mem_tick_max)) ||
	    (err = extent(pr->roll, p->id, &p->minute_min, &p->minute_max)) ||
	    (err = extent(pr->agg, p->id, &p->agg_min, &p->agg_max)))
		return err;
	p->agg_ticks = store_agg_ticks(p->interval);
	return 0;
}

static int push_proc(struct data_run *r, size_t *cap, struct data_proc **out)
{
	if (r->nprocs == *cap) {
		size_t n = *cap ? 2 * *cap : 8;
		struct data_proc *p = realloc(r->procs, n * sizeof *p);

		if (!p)
			return -ENOMEM;
		r->procs = p;
		*cap = n;
	}
	*out = &r->procs[r->nprocs++];
	memset(*out, 0, sizeof **out);
	return 0;
}

static int load_procs(sqlite3 *db, struct data_run *r)
{
	struct proc_reader pr;
	size_t cap = 0;
	int rc, err;

	if ((err = proc_reader_open(db, "WHERE p.run = ?1 ORDER BY p.id",
				    &pr)))
		goto out;
	sqlite3_bind_int64(pr.st, 1, r->id);
	while ((rc = sqlite3_step(pr.st)) == SQLITE_ROW) {
		struct data_proc *p;

		if ((err = push_proc(r, &cap, &p)) ||
		    (err = proc_fill(&pr, p)))
			goto out;
		if (p->tick_max > r->tick_max)
			r->tick_max = p->tick_max;
		if (p->mem_tick_max > r->tick_max)
			r->tick_max = p->mem_tick_max;
	}
	if (rc != SQLITE_DONE)
		err = -EIO;
out:
	proc_reader_close(&pr);
	return err;
}

int data_run_load(sqlite3 *db, int64_t id, struct data_run *r)
{
	static const char sql[] = "SELECT command, label, started, interval,"
				  " page_size, kernel_peak_rss, kind FROM run"
				  " WHERE id = ?";
	sqlite3_stmt *st = NULL;
	int rc, err;

	memset(r, 0, sizeof *r);
	r->id = id;
	r->tick_max = -1;
	if ((err = prepare(db, sql, &st)))
		return err;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		err = rc == SQLITE_DONE ? -ENOENT : -EIO;
		goto out;
	}
	r->command = column_strdup(st, 0);
	r->label = column_strdup(st, 1);
	r->started = sqlite3_column_double(st, 2);
	r->interval = sqlite3_column_double(st, 3);
	r->page_size = sqlite3_column_int64(st, 4);
	r->kernel_peak_rss = column_int_or(st, 5, -1);
	r->kind = column_strdup(st, 6);
	if (!r->command || !r->kind) {
		err = -ENOMEM;
		goto out;
	}
	if (!(r->interval > 0) || !isfinite(r->interval))
		r->interval = 1;
	err = load_procs(db, r);
out:
	sqlite3_finalize(st);
	return err;
}

void data_proc_span(const struct data_proc *p, double *a, double *b)
{
	*a = HUGE_VAL;
	*b = -HUGE_VAL;
	if (p->tick_min <= p->tick_max) {
		*a = p->t0 + (double)p->tick_min * p->interval;
		*b = p->t0 + (double)p->tick_max * p->interval;
	}
	if (p->mem_tick_min <= p->mem_tick_max) {
		*a = fmin(*a, p->t0 + (double)p->mem_tick_min * p->interval);
		*b = fmax(*b, p->t0 + (double)p->mem_tick_max * p->interval);
	}
	if (p->minute_min <= p->minute_max) {
		*a = fmin(*a, (double)p->minute_min * 60);
		*b = fmax(*b, (double)p->minute_max * 60 + 60);
	}
}

void data_run_span(const struct data_run *r, double *a, double *b)
{
	*a = HUGE_VAL;
	*b = -HUGE_VAL;
	for (size_t i = 0; i < r->nprocs; i++) {
		double pa, pb;

		data_proc_span(&r->procs[i], &pa, &pb);
		*a = fmin(*a, pa);
		*b = fmax(*b, pb);
	}
}

int data_history_load(sqlite3 *db, const struct data_select *sel,
		      const char *describe, struct data_run *r)
{
	/* A process that started after the window, or ended before it (with
	 * a minute's grace for its last rollup), cannot be in it. */
	static const char where[] =
		"WHERE (?1 = 0 OR p.pid = ?1)"
		" AND (p.started IS NULL OR p.started <= ?3)"
		" AND (p.ended IS NULL OR p.ended >= ?2 - 60)"
		" ORDER BY p.started, p.id";
	struct proc_reader pr;
	size_t cap = 0;
	int rc, err;

	memset(r, 0, sizeof *r);
	r->tick_max = -1;
	r->kernel_peak_rss = -1;
	r->interval = 1;
	r->started = sel->t0;
	r->command = strdup(describe);
	r->kind = strdup("history");
	if (!r->command || !r->kind)
		return -ENOMEM;
	if ((err = proc_reader_open(db, where, &pr)))
		goto out;
	sqlite3_bind_int(pr.st, 1, sel->pid);
	sqlite3_bind_double(pr.st, 2, sel->t0);
	sqlite3_bind_double(pr.st, 3, sel->t1);
	while ((rc = sqlite3_step(pr.st)) == SQLITE_ROW) {
		struct data_proc *p;
		const unsigned char *name = sqlite3_column_text(pr.st, 3);
		double a, b;

		if (sel->re) {
			const unsigned char *n2 =
				pr.v2 ? sqlite3_column_text(pr.st, 9) : NULL;

			if (!(name && !regexec(sel->re, (const char *)name, 0,
					       NULL, 0)) &&
			    !(n2 && !regexec(sel->re, (const char *)n2, 0,
					     NULL, 0)))
				continue;
		}
		if ((err = push_proc(r, &cap, &p)) ||
		    (err = proc_fill(&pr, p)))
			goto out;
		data_proc_span(p, &a, &b);
		if (a > sel->t1 || b < sel->t0) {
			free(p->cmdline);
			free(p->exe);
			free(p->name);
			r->nprocs--;
		}
	}
	if (rc != SQLITE_DONE)
		err = -EIO;
out:
	proc_reader_close(&pr);
	return err;
}

void data_run_free(struct data_run *r)
{
	for (size_t i = 0; i < r->nprocs; i++) {
		free(r->procs[i].cmdline);
		free(r->procs[i].exe);
		free(r->procs[i].name);
	}
	free(r->procs);
	free(r->command);
	free(r->label);
	free(r->kind);
	memset(r, 0, sizeof *r);
}

double data_run_duration(const struct data_run *r)
{
	return r->tick_max > 0 ? (double)r->tick_max * r->interval : 0;
}

int data_run_has(const struct data_run *r, enum data_metric m)
{
	for (size_t i = 0; i < r->nprocs; i++) {
		const struct data_proc *p = &r->procs[i];

		if (p->minute_min <= p->minute_max && m != DATA_USS &&
		    m != DATA_SWAP && m != DATA_PSS)
			return 1;
		if (metrics[m].mem ? p->mem_tick_min <= p->mem_tick_max
				   : p->tick_min <= p->tick_max)
			return 1;
	}
	/* pss/uss/swap rollups: whether a column is set is a query away;
	 * the caller finds out from what data_read() brings back. */
	for (size_t i = 0; i < r->nprocs; i++)
		if (r->procs[i].minute_min <= r->procs[i].minute_max)
			return 1;
	return 0;
}

int data_marks_read(sqlite3 *db, int64_t run, double t0, double t1,
		    int (*fn)(void *ctx, const char *label, double start,
			      double end, int level, int pid),
		    void *ctx)
{
	static const char sql[] =
		"SELECT label, start, end, level, pid FROM mark WHERE run = ?1"
		" AND start <= ?3 AND coalesce(end, start) >= ?2"
		" ORDER BY start, level";
	sqlite3_stmt *st = NULL;
	int rc, err;

	if (!has_v2(db))
		return 0;
	if ((err = prepare(db, sql, &st)))
		return err;
	sqlite3_bind_int64(st, 1, run);
	sqlite3_bind_double(st, 2, t0);
	sqlite3_bind_double(st, 3, t1);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const unsigned char *label = sqlite3_column_text(st, 0);
		double a = sqlite3_column_double(st, 1);
		double b = sqlite3_column_type(st, 2) == SQLITE_NULL
				   ? a - 1
				   : sqlite3_column_double(st, 2);

		if ((err = fn(ctx, label ? (const char *)label : "", a, b,
			      sqlite3_column_int(st, 3),
			      sqlite3_column_int(st, 4))))
			break;
	}
	if (!err && rc != SQLITE_DONE)
		err = -EIO;
	sqlite3_finalize(st);
	return err;
}
