/* data.c - runs, history and samples out of the database (see data.h). */
#include "data.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Samples (process ticks) in a window worth reading on two connections. */
#define DATA_SPLIT_MIN 50000

static const struct {
	const char *name;
	const char *raw;    /* SELECT tick, value ... ?1 proc, ?2..?3 ticks */
	const char *rollup; /* SELECT minute, n, min, max, mean ... */
	int mem;            /* from sample_mem */
} metrics[] = {
	[DATA_RSS] = {"rss",
		      "SELECT tick, rss FROM sample WHERE proc = ?1"
		      " AND tick BETWEEN ?2 AND ?3 ORDER BY tick",
		      "SELECT minute, n, rss_min, rss_max, rss_mean FROM rollup"
		      " WHERE proc = ?1 AND minute BETWEEN ?2 AND ?3"
		      " ORDER BY minute",
		      0},
	[DATA_PSS] = {"pss",
		      "SELECT tick, pss FROM sample_mem WHERE proc = ?1"
		      " AND tick BETWEEN ?2 AND ?3 AND pss IS NOT NULL"
		      " ORDER BY tick",
		      "SELECT minute, n, pss_min, pss_max, pss_mean FROM rollup"
		      " WHERE proc = ?1 AND minute BETWEEN ?2 AND ?3"
		      " AND pss_mean IS NOT NULL ORDER BY minute",
		      1},
	[DATA_USS] = {"uss",
		      "SELECT tick, uss FROM sample_mem WHERE proc = ?1"
		      " AND tick BETWEEN ?2 AND ?3 AND uss IS NOT NULL"
		      " ORDER BY tick",
		      "SELECT minute, n, uss_mean, uss_mean, uss_mean FROM rollup"
		      " WHERE proc = ?1 AND minute BETWEEN ?2 AND ?3"
		      " AND uss_mean IS NOT NULL ORDER BY minute",
		      1},
	[DATA_SWAP] = {"swap",
		       "SELECT tick, swap FROM sample_mem WHERE proc = ?1"
		       " AND tick BETWEEN ?2 AND ?3 AND swap IS NOT NULL"
		       " ORDER BY tick",
		       "SELECT minute, n, swap_max, swap_max, swap_max FROM"
		       " rollup WHERE proc = ?1 AND minute BETWEEN ?2 AND ?3"
		       " AND swap_max IS NOT NULL ORDER BY minute",
		       1},
	[DATA_CPU] = {"cpu",
		      "SELECT tick, cpu FROM sample WHERE proc = ?1"
		      " AND tick BETWEEN ?2 AND ?3 ORDER BY tick",
		      "SELECT minute, n, cpu_mean, cpu_max, cpu_mean FROM rollup"
		      " WHERE proc = ?1 AND minute BETWEEN ?2 AND ?3"
		      " ORDER BY minute",
		      0},
	[DATA_THREADS] = {"threads",
			  "SELECT tick, threads FROM sample WHERE proc = ?1"
			  " AND tick BETWEEN ?2 AND ?3 ORDER BY tick",
			  "SELECT minute, n, threads_max, threads_max,"
			  " threads_max FROM rollup WHERE proc = ?1"
			  " AND minute BETWEEN ?2 AND ?3 ORDER BY minute",
			  0},
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

/* What one stored unit of metric m is worth for process p. */
static double unit_of(const struct data_proc *p, enum data_metric m)
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
	sqlite3_stmt *st, *ext, *mem, *roll;
	int v2;
};

#define PROC_COLUMNS                                                      \
	"p.id, p.run, p.pid, p.cmdline, p.exe, r.started, r.interval,"      \
	" r.page_size, p.hwm"
#define PROC_COLUMNS_V2 PROC_COLUMNS ", p.name, p.interval"

static int proc_reader_open(sqlite3 *db, const char *where,
			    struct proc_reader *pr)
{
	char sql[512];
	int err;

	memset(pr, 0, sizeof *pr);
	pr->v2 = has_v2(db);
	snprintf(sql, sizeof sql,
		 "SELECT %s FROM proc p JOIN run r ON r.id = p.run %s",
		 pr->v2 ? PROC_COLUMNS_V2 : PROC_COLUMNS, where);
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
	return err;
}

static void proc_reader_close(struct proc_reader *pr)
{
	sqlite3_finalize(pr->st);
	sqlite3_finalize(pr->ext);
	sqlite3_finalize(pr->mem);
	sqlite3_finalize(pr->roll);
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
	if ((err = extent(pr->ext, p->id, &p->tick_min, &p->tick_max)) ||
	    (err = extent(pr->mem, p->id, &p->mem_tick_min,
			  &p->mem_tick_max)) ||
	    (err = extent(pr->roll, p->id, &p->minute_min, &p->minute_max)))
		return err;
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

/* Unix seconds of the first and last row of p, over every table. */
static void proc_span(const struct data_proc *p, double *a, double *b)
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

		proc_span(&r->procs[i], &pa, &pb);
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
		proc_span(p, &a, &b);
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
			      double end, int level),
		    void *ctx)
{
	static const char sql[] =
		"SELECT label, start, end, level FROM mark WHERE run = ?1"
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
			      sqlite3_column_int(st, 3))))
			break;
	}
	if (!err && rc != SQLITE_DONE)
		err = -EIO;
	sqlite3_finalize(st);
	return err;
}

/* ------------------------------------------------------------- the read */

/* A read in progress: keys are ticks of r (relative) or microseconds
 * (absolute); key k is x = k * kscale. */
struct plan {
	const struct data_run *r;
	const struct data_read *o;
	int hold;
	double kscale;
	int64_t klo, khi; /* the whole read, margins included */
};

/* Process p's key of its tick 0 and its key per tick. */
static void proc_keys(const struct plan *pl, const struct data_proc *p,
		      int64_t *base, int64_t *mult)
{
	if (!pl->o->absolute) {
		*base = 0;
		*mult = 1;
		return;
	}
	*base = llround(p->t0 * 1e6);
	*mult = llround(p->interval * 1e6);
	if (*mult < 1)
		*mult = 1;
}

/* One process in the merge: its next row, and its cursor once opened. */
struct cursor {
	int64_t key;
	double v, vmin, vmax; /* in the metric's units */
	uint32_t n;           /* samples behind the row (rollups) */
	sqlite3_stmt *st;     /* NULL until the merge reaches it */
	size_t proc;
	int phase;            /* 0: rollups next/now, 1: raw, 2: done */
	int64_t last;         /* the last tick or minute read */
	int64_t base, mult;   /* its process's keys (proc_keys()) */
	double unit;          /* what a stored unit is worth */
	/* The rows of each phase this half reads; lo > hi for none. */
	int64_t mlo, mhi, tlo, thi;
};

/* Min-heap on (key, opened): a process not yet opened sorts before an
 * opened one at the same key, so every process sampled at a key is opened
 * before that key's total is summed. */
static int before(const struct cursor *a, const struct cursor *b)
{
	if (a->key != b->key)
		return a->key < b->key;
	return !a->st && b->st;
}

static void heap_down(struct cursor *h, size_t n, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, m = i;
		struct cursor t;

		if (l < n && before(&h[l], &h[m]))
			m = l;
		if (l + 1 < n && before(&h[l + 1], &h[m]))
			m = l + 1;
		if (m == i)
			return;
		t = h[i];
		h[i] = h[m];
		h[m] = t;
		i = m;
	}
}

static void heap_up(struct cursor *h, size_t i)
{
	while (i > 0 && before(&h[i], &h[(i - 1) / 2])) {
		struct cursor t = h[i];

		h[i] = h[(i - 1) / 2];
		h[(i - 1) / 2] = t;
		i = (i - 1) / 2;
	}
}

/* The statements of one connection, pooled by kind: a run of thousands of
 * short-lived processes prepares two, not thousands. */
struct pool {
	sqlite3 *db;
	const char *sql[2]; /* rollup, raw */
	sqlite3_stmt **free[2];
	size_t nfree[2], cap;
};

static int pool_get(struct pool *p, int kind, sqlite3_stmt **st)
{
	if (p->nfree[kind]) {
		*st = p->free[kind][--p->nfree[kind]];
		return 0;
	}
	return prepare(p->db, p->sql[kind], st);
}

static void pool_put(struct pool *p, int kind, sqlite3_stmt *st)
{
	sqlite3_reset(st);
	if (p->nfree[kind] < p->cap)
		p->free[kind][p->nfree[kind]++] = st;
	else
		sqlite3_finalize(st);
}

static void pool_release(struct pool *p)
{
	for (int k = 0; k < 2; k++) {
		for (size_t i = 0; i < p->nfree[k]; i++)
			sqlite3_finalize(p->free[k][i]);
		free(p->free[k]);
	}
}

/* Key range [a, b] -> the ticks of p within it and its extent. */
static void raw_range(const struct plan *pl, const struct data_proc *p,
		      int64_t a, int64_t b, int64_t *lo, int64_t *hi)
{
	int64_t base, mult, tmin, tmax;
	double l, h;

	proc_keys(pl, p, &base, &mult);
	tmin = metrics[pl->o->metric].mem ? p->mem_tick_min : p->tick_min;
	tmax = metrics[pl->o->metric].mem ? p->mem_tick_max : p->tick_max;
	l = ceil((double)(a - base) / (double)mult);
	h = floor((double)(b - base) / (double)mult);
	*lo = l > (double)tmin ? (int64_t)l : tmin;
	*hi = h < (double)tmax ? (int64_t)h : tmax;
}

/* Key range [a, b] -> the rollup minutes of p to read in it, by policy. */
static void rollup_range(const struct plan *pl, const struct data_proc *p,
			 int64_t a, int64_t b, int64_t *lo, int64_t *hi)
{
	double l = ceil(((double)a / 1e6 - 30) / 60);
	double h = floor(((double)b / 1e6 - 30) / 60);
	int64_t tmin = metrics[pl->o->metric].mem ? p->mem_tick_min
						  : p->tick_min;
	int64_t tmax = metrics[pl->o->metric].mem ? p->mem_tick_max
						  : p->tick_max;

	*lo = 0;
	*hi = -1;
	if (!pl->o->absolute || pl->o->rollups == DATA_ROLLUP_NONE ||
	    p->minute_min > p->minute_max)
		return;
	/* Only the minutes wholly before the first raw sample: raw samples
	 * are better wherever they still are. */
	if (pl->o->rollups == DATA_ROLLUP_GAPS && tmin <= tmax)
		h = fmin(h, floor((p->t0 + (double)tmin * p->interval) / 60) -
				    1);
	*lo = l > (double)p->minute_min ? (int64_t)l : p->minute_min;
	*hi = h < (double)p->minute_max ? (int64_t)h : p->minute_max;
}

static int64_t rollup_key(int64_t minute)
{
	return (minute * 60 + 30) * 1000000;
}

/* Opens c's next phase with rows, or marks it done.  Returns 0 or <0. */
static int open_phase(struct cursor *c, struct pool *pool,
		      const struct data_proc *p)
{
	if (c->st) {
		pool_put(pool, c->phase, c->st);
		c->st = NULL;
		c->phase++;
	}
	for (; c->phase < 2; c->phase++) {
		int64_t lo = c->phase ? c->tlo : c->mlo;
		int64_t hi = c->phase ? c->thi : c->mhi;
		int err;

		if (lo > hi)
			continue;
		if ((err = pool_get(pool, c->phase, &c->st)))
			return err;
		sqlite3_bind_int64(c->st, 1, p->id);
		sqlite3_bind_int64(c->st, 2, lo);
		sqlite3_bind_int64(c->st, 3, hi);
		return 0;
	}
	return 0;
}

/* Steps c: 1 with its row set, 0 when it has no more, or <0.  Once a
 * row: the raw case first and short. */
static int advance(const struct plan *pl, struct cursor *c, struct pool *pool)
{
	for (;;) {
		int err;

		if (c->st) {
			int rc = sqlite3_step(c->st);

			if (rc == SQLITE_ROW) {
				c->last = sqlite3_column_int64(c->st, 0);
				if (c->phase) {
					c->key = c->base + c->last * c->mult;
					c->v = (double)sqlite3_column_int64(
						       c->st, 1) *
					       c->unit;
					return 1;
				}
				c->key = rollup_key(c->last);
				c->n = (uint32_t)sqlite3_column_int(c->st, 1);
				c->vmin = sqlite3_column_double(c->st, 2) *
					  c->unit;
				c->vmax = sqlite3_column_double(c->st, 3) *
					  c->unit;
				c->v = sqlite3_column_double(c->st, 4) * c->unit;
				return 1;
			}
			if (rc != SQLITE_DONE)
				return -EIO;
		} else if (c->phase >= 2) {
			return 0;
		}
		if ((err = open_phase(c, pool, &pl->r->procs[c->proc])))
			return err;
		if (!c->st) {
			c->phase = 2;
			return 0;
		}
	}
}

/* Whether c's last row was its process's very last one: only then does
 * the process leave a held sum (a half's range may end before it does). */
static int at_end(const struct plan *pl, const struct cursor *c)
{
	const struct data_proc *p = &pl->r->procs[c->proc];
	int64_t tmax = metrics[pl->o->metric].mem ? p->mem_tick_max
						  : p->tick_max;
	int64_t tmin = metrics[pl->o->metric].mem ? p->mem_tick_min
						  : p->tick_min;

	if (tmin <= tmax && c->tlo <= c->thi)
		return c->phase == 2 && c->last == tmax && c->thi >= tmax;
	if (tmin <= tmax && pl->o->rollups != DATA_ROLLUP_ONLY)
		return 0;
	return c->last == p->minute_max && c->mlo <= c->mhi;
}

/* The merge over keys [lo, hi]; with hold, rows from lo - prime on only
 * set the held values, so a later half starts with every process's last
 * value.  Rows before emit_from go nowhere else. */
static int read_range(sqlite3 *db, const struct plan *pl, int64_t lo,
		      int64_t hi, int64_t emit_from,
		      struct decimate *const *per_proc, struct decimate *total)
{
	const struct data_run *r = pl->r;
	enum data_metric m = pl->o->metric;
	struct pool pool = {.db = db,
			    .sql = {metrics[m].rollup, metrics[m].raw},
			    .cap = r->nprocs};
	struct cursor *heap = NULL;
	double *held = NULL, held_sum = 0;
	size_t *gone = NULL, ngone = 0, n = 0;
	int64_t *due = NULL; /* per gone process: the key it leaves at */
	int err = 0;

	heap = calloc(r->nprocs, sizeof *heap);
	held = calloc(r->nprocs, sizeof *held);
	gone = calloc(r->nprocs, sizeof *gone);
	due = calloc(r->nprocs, sizeof *due);
	pool.free[0] = calloc(r->nprocs, sizeof *pool.free[0]);
	pool.free[1] = calloc(r->nprocs, sizeof *pool.free[1]);
	if (!heap || !held || !gone || !due || !pool.free[0] ||
	    !pool.free[1]) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < r->nprocs; i++) {
		const struct data_proc *p = &r->procs[i];
		struct cursor c = {.proc = i};
		int64_t base, mult;

		rollup_range(pl, p, lo, hi, &c.mlo, &c.mhi);
		if (pl->o->rollups == DATA_ROLLUP_ONLY && pl->o->absolute &&
		    p->minute_min <= p->minute_max)
			c.tlo = 0, c.thi = -1;
		else
			raw_range(pl, p, lo, hi, &c.tlo, &c.thi);
		if (c.mlo > c.mhi && c.tlo > c.thi)
			continue;
		proc_keys(pl, p, &base, &mult);
		c.base = base;
		c.mult = mult;
		c.unit = unit_of(p, pl->o->metric);
		c.key = c.mlo <= c.mhi ? rollup_key(c.mlo) : base + c.tlo * mult;
		c.phase = c.mlo <= c.mhi ? 0 : 1;
		heap[n] = c;
		heap_up(heap, n++);
	}
	while (n > 0) {
		int64_t key = heap[0].key;
		double sum = 0, x = (double)key * pl->kscale;

		if (!heap[0].st && heap[0].phase < 2) {
			int rc = advance(pl, &heap[0], &pool);

			if (rc < 0) {
				err = rc;
				goto out;
			}
			if (rc == 0)
				heap[0] = heap[--n];
			heap_down(heap, n, 0);
			continue;
		}
		/* A process that ended leaves the sum one of its intervals
		 * after its last row: until then its last value stands, as
		 * for the others between two of their samples. */
		for (size_t i = 0; i < ngone;) {
			if (due[i] > key) {
				i++;
				continue;
			}
			held_sum -= held[gone[i]];
			held[gone[i]] = 0;
			gone[i] = gone[--ngone];
			due[i] = due[ngone];
		}
		while (n > 0 && heap[0].st && heap[0].key == key) {
			struct cursor *c = &heap[0];
			struct decimate *d =
				per_proc ? per_proc[c->proc] : NULL;
			int rc;

			if (d && key >= emit_from) {
				/* A minute wider than a column and a half
				 * is a point of a line, not a span. */
				if (c->phase == 0 && 60 * d->scale >= 1.5)
					decimate_add_ranged(d, x, c->v, c->vmin,
							    c->vmax);
				else if (c->phase == 0)
					decimate_add_span(d, x, c->vmin,
							  c->vmax, c->v, c->n);
				else
					decimate_add(d, x, c->v);
			}
			sum += c->v;
			if (pl->hold) {
				held_sum += c->v - held[c->proc];
				held[c->proc] = c->v;
			}
			if ((rc = advance(pl, c, &pool)) < 0) {
				err = rc;
				goto out;
			}
			if (rc == 0) {
				if (pl->hold && at_end(pl, c)) {
					const struct data_proc *p =
						&r->procs[c->proc];
					int64_t base, mult;

					proc_keys(pl, p, &base, &mult);
					gone[ngone] = c->proc;
					due[ngone++] =
						key + (int64_t)ceil(p->every /
								    p->interval) *
							      mult;
				}
				heap[0] = heap[--n];
			}
			heap_down(heap, n, 0);
		}
		if (total && key >= emit_from)
			decimate_add(total, x, pl->hold ? held_sum : sum);
	}
out:
	for (size_t i = 0; i < n; i++)
		if (heap[i].st)
			sqlite3_finalize(heap[i].st);
	pool_release(&pool);
	free(heap);
	free(held);
	free(gone);
	free(due);
	return err;
}

/* The later half of a split read: its own connection and decimators, so
 * that it shares nothing with the earlier half until the merge. */
struct half {
	const char *path; /* db's file; the connection is not for this thread */
	const struct plan *pl;
	int64_t lo, hi, emit_from;
	struct decimate **per_proc; /* NULL entries as the caller's */
	struct decimate *total;
	int opened; /* 0 when no connection could be opened */
	int err;    /* of read_range() on that connection */
};

static void *read_half(void *arg)
{
	struct half *h = arg;
	sqlite3 *db = NULL;

	if (!h->path || !*h->path ||
	    sqlite3_open_v2(h->path, &db,
			    SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		sqlite3_close(db);
		return NULL;
	}
	h->opened = 1;
	h->err = read_range(db, h->pl, h->lo, h->hi, h->emit_from, h->per_proc,
			    h->total);
	sqlite3_close(db);
	return NULL;
}

/* A new empty decimate over the window and columns of d, or NULL for a
 * NULL d; *err becomes -ENOMEM when it cannot be had.  twin_free() it. */
static struct decimate *twin_of(const struct decimate *d, int *err)
{
	struct decimate *e;

	if (!d)
		return NULL;
	if (!(e = malloc(sizeof *e))) {
		*err = -ENOMEM;
		return NULL;
	}
	if (decimate_init(e, d->x0, d->x1, d->ncols, 1, 0) < 0)
		*err = -ENOMEM;
	return e;
}

static void twin_free(struct decimate *d)
{
	if (d)
		decimate_free(d);
	free(d);
}

/* The most keys between two rows of one process: how far back a later
 * half starts so that every held value is known at its first key. */
static int64_t prime_keys(const struct plan *pl)
{
	int64_t most = 0;

	if (!pl->hold)
		return 0;
	for (size_t i = 0; i < pl->r->nprocs; i++) {
		const struct data_proc *p = &pl->r->procs[i];
		int64_t base, mult, k;

		proc_keys(pl, p, &base, &mult);
		k = (int64_t)ceil(p->every / p->interval) * mult * 2;
		if (pl->o->absolute && p->minute_min <= p->minute_max)
			k = k > 120000000 ? k : 120000000;
		most = k > most ? k : most;
	}
	return most;
}

/* Reads [lo, hi] in two halves at once, the later on a thread with its own
 * connection, and merges the later half's decimators into the caller's.
 * Reads the later half on db after the earlier when the thread, its
 * connection or its read fails. */
static int read_split(sqlite3 *db, const struct plan *pl,
		      struct decimate *const *per_proc, struct decimate *total)
{
	const struct data_run *r = pl->r;
	int64_t lo = pl->klo, hi = pl->khi, mid = lo + (hi - lo) / 2;
	struct half h = {.path = sqlite3_db_filename(db, "main"),
			 .pl = pl,
			 .lo = mid + 1 - prime_keys(pl),
			 .hi = hi,
			 .emit_from = mid + 1};
	pthread_t thread;
	int err = 0, started;

	h.per_proc = calloc(r->nprocs, sizeof *h.per_proc);
	if (!h.per_proc)
		return -ENOMEM;
	for (size_t i = 0; i < r->nprocs && per_proc; i++)
		h.per_proc[i] = twin_of(per_proc[i], &err);
	h.total = twin_of(total, &err);
	if (err)
		goto out;
	started = pthread_create(&thread, NULL, read_half, &h) == 0;
	err = read_range(db, pl, lo, mid, INT64_MIN, per_proc, total);
	if (started)
		pthread_join(thread, NULL);
	if (err)
		goto out;
	/* Its partial decimators are dropped, and an error comes from db,
	 * where the caller's sqlite3_errmsg() can tell why. */
	if (!h.opened || h.err) {
		err = read_range(db, pl, h.lo, hi, mid + 1, per_proc, total);
		goto out;
	}
	for (size_t i = 0; i < r->nprocs && per_proc && !err; i++)
		if (per_proc[i])
			err = decimate_merge(per_proc[i], h.per_proc[i]);
	if (total && !err)
		err = decimate_merge(total, h.total);
out:
	for (size_t i = 0; i < r->nprocs; i++)
		twin_free(h.per_proc[i]);
	free(h.per_proc);
	twin_free(h.total);
	return err;
}

int data_read(sqlite3 *db, const struct data_run *r, const struct data_read *o,
	      struct decimate *const *per_proc, struct decimate *total)
{
	struct plan pl = {.r = r, .o = o};
	double margin = 0, count = 0;

	if (r->nprocs == 0)
		return 0;
	pl.hold = o->absolute || metrics[o->metric].mem;
	for (size_t i = 0; i < r->nprocs; i++)
		margin = fmax(margin, r->procs[i].every);
	if (o->absolute) {
		/* One sample of margin each side (a minute with rollups): the
		 * line enters and leaves the window instead of starting at
		 * the first sample inside. */
		if (o->rollups != DATA_ROLLUP_NONE)
			margin = fmax(margin, 90);
		pl.kscale = 1e-6;
		pl.klo = (int64_t)floor((o->x0 - margin) * 1e6);
		pl.khi = (int64_t)ceil((o->x1 + margin) * 1e6);
	} else {
		int64_t m = (int64_t)ceil(margin / r->interval - 1e-9);
		double lo = floor(o->x0 / r->interval) - (double)m;
		double hi = ceil(o->x1 / r->interval) + (double)m;

		if (r->tick_max < 0)
			return 0;
		pl.kscale = r->interval;
		pl.klo = lo > 0 ? (lo < (double)r->tick_max ? (int64_t)lo
							     : r->tick_max)
				: 0;
		pl.khi = hi > 0 ? (hi < (double)r->tick_max ? (int64_t)hi
							     : r->tick_max)
				: 0;
	}
	for (size_t i = 0; i < r->nprocs; i++) {
		const struct data_proc *p = &r->procs[i];
		int64_t a, b;

		raw_range(&pl, p, pl.klo, pl.khi, &a, &b);
		if (b >= a)
			count += (double)(b - a + 1) * p->interval / p->every;
		rollup_range(&pl, p, pl.klo, pl.khi, &a, &b);
		if (b >= a)
			count += (double)(b - a + 1);
	}
	/* A thread and a second connection save about 4 ms at 100,000
	 * samples, nothing measurable at 20,000. */
	if (count < DATA_SPLIT_MIN)
		return read_range(db, &pl, pl.klo, pl.khi, INT64_MIN, per_proc,
				  total);
	return read_split(db, &pl, per_proc, total);
}

int data_run_read(sqlite3 *db, const struct data_run *r, double x0, double x1,
		  struct decimate *const *per_proc, struct decimate *total)
{
	struct data_read o = {.metric = DATA_RSS, .x0 = x0, .x1 = x1};

	return data_read(db, r, &o, per_proc, total);
}
