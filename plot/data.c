/* data.c - runs, processes and samples out of the database (see data.h). */
#include "data.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

/* Samples (process ticks) in a window worth reading on two connections. */
#define DATA_SPLIT_MIN 50000

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

static int load_procs(sqlite3 *db, struct data_run *r)
{
	static const char procs_sql[] = "SELECT id, pid, cmdline, exe FROM proc"
					" WHERE run = ? ORDER BY id";
	/* min() and max() in separate subqueries, so that each is one seek on
	 * the (proc, tick) key instead of a scan. */
	static const char extent_sql[] =
		"SELECT (SELECT min(tick) FROM sample WHERE proc = ?1),"
		" (SELECT max(tick) FROM sample WHERE proc = ?1)";
	sqlite3_stmt *st = NULL, *ext = NULL;
	size_t cap = 0;
	int rc, err;

	if ((err = prepare(db, procs_sql, &st)) ||
	    (err = prepare(db, extent_sql, &ext)))
		goto out;
	sqlite3_bind_int64(st, 1, r->id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct data_proc *p;

		if (r->nprocs == cap) {
			size_t n = cap ? 2 * cap : 8;

			p = realloc(r->procs, n * sizeof *p);
			if (!p) {
				err = -ENOMEM;
				goto out;
			}
			r->procs = p;
			cap = n;
		}
		p = &r->procs[r->nprocs++];
		memset(p, 0, sizeof *p);
		p->id = sqlite3_column_int64(st, 0);
		p->pid = sqlite3_column_int(st, 1);
		p->cmdline = column_strdup(st, 2);
		p->exe = column_strdup(st, 3);
		p->tick_min = 0;
		p->tick_max = -1;
		sqlite3_bind_int64(ext, 1, p->id);
		if ((rc = sqlite3_step(ext)) == SQLITE_ROW &&
		    sqlite3_column_type(ext, 0) != SQLITE_NULL) {
			p->tick_min = sqlite3_column_int64(ext, 0);
			p->tick_max = sqlite3_column_int64(ext, 1);
			if (p->tick_max > r->tick_max)
				r->tick_max = p->tick_max;
		} else if (rc != SQLITE_ROW) {
			err = -EIO;
			goto out;
		}
		sqlite3_reset(ext);
	}
	if (rc != SQLITE_DONE)
		err = -EIO;
out:
	sqlite3_finalize(st);
	sqlite3_finalize(ext);
	return err;
}

int data_run_load(sqlite3 *db, int64_t id, struct data_run *r)
{
	static const char sql[] = "SELECT command, label, started, interval,"
				  " page_size, kernel_peak_rss FROM run"
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
	if (!r->command) {
		err = -ENOMEM;
		goto out;
	}
	/* A corrupt interval would make every time infinite. */
	if (!(r->interval > 0) || !isfinite(r->interval))
		r->interval = 1;
	err = load_procs(db, r);
out:
	sqlite3_finalize(st);
	return err;
}

void data_run_free(struct data_run *r)
{
	for (size_t i = 0; i < r->nprocs; i++) {
		free(r->procs[i].cmdline);
		free(r->procs[i].exe);
	}
	free(r->procs);
	free(r->command);
	free(r->label);
	memset(r, 0, sizeof *r);
}

double data_run_duration(const struct data_run *r)
{
	return r->tick_max > 0 ? (double)r->tick_max * r->interval : 0;
}

/* One process in the merge: its next tick, and its cursor once opened. */
struct cursor {
	int64_t tick;
	int64_t rss;      /* pages */
	sqlite3_stmt *st; /* NULL until the merge reaches tick_min */
	size_t proc;
};

/* Min-heap on (tick, opened): a process not yet opened sorts before an
 * opened one at the same tick, so every process sampled at a tick is
 * opened before that tick's total is summed. */
static int before(const struct cursor *a, const struct cursor *b)
{
	if (a->tick != b->tick)
		return a->tick < b->tick;
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

/* Clamps a tick computed from a time to [0, max]: windows may be anything
 * the user typed. */
static int64_t clamp_tick(double t, int64_t max)
{
	if (!(t > 0))
		return 0;
	if (t >= (double)max)
		return max;
	return (int64_t)t;
}

/* Steps c's cursor: 1 with c->tick and c->rss set, 0 at the end, -EIO. */
static int advance(struct cursor *c)
{
	int rc = sqlite3_step(c->st);

	if (rc == SQLITE_ROW) {
		c->tick = sqlite3_column_int64(c->st, 0);
		c->rss = sqlite3_column_int64(c->st, 1);
		return 1;
	}
	return rc == SQLITE_DONE ? 0 : -EIO;
}

/* Takes the finished cursor at the top of the heap out, its statement
 * back to the pool; the caller restores the heap order. */
static void retire(struct cursor *heap, size_t *n, sqlite3_stmt **pool,
		   size_t *npool)
{
	sqlite3_reset(heap[0].st);
	pool[(*npool)++] = heap[0].st;
	heap[0] = heap[--*n];
}

/* The heap merge of data_run_read() over the ticks [lo, hi]. */
static int read_range(sqlite3 *db, const struct data_run *r, int64_t lo,
		      int64_t hi, struct decimate *const *per_proc,
		      struct decimate *total)
{
	static const char sql[] = "SELECT tick, rss FROM sample WHERE proc = ?1"
				  " AND tick BETWEEN ?2 AND ?3 ORDER BY tick";
	struct cursor *heap = NULL;
	sqlite3_stmt **pool = NULL; /* finished cursors, for reuse */
	size_t n = 0, npool = 0;
	double page = (double)r->page_size;
	int err = 0;

	heap = calloc(r->nprocs, sizeof *heap);
	pool = calloc(r->nprocs, sizeof *pool);
	if (!heap || !pool) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < r->nprocs; i++) {
		const struct data_proc *p = &r->procs[i];

		if (p->tick_min > p->tick_max || p->tick_max < lo ||
		    p->tick_min > hi)
			continue;
		heap[n] = (struct cursor){
			.tick = p->tick_min > lo ? p->tick_min : lo, .proc = i};
		heap_up(heap, n++);
	}
	while (n > 0) {
		int64_t tick = heap[0].tick;
		double sum = 0;

		if (!heap[0].st) {
			struct cursor *c = &heap[0];
			int rc;

			if (npool) {
				c->st = pool[--npool];
			} else if ((err = prepare(db, sql, &c->st))) {
				goto out;
			}
			sqlite3_bind_int64(c->st, 1, r->procs[c->proc].id);
			sqlite3_bind_int64(c->st, 2, lo);
			sqlite3_bind_int64(c->st, 3, hi);
			if ((rc = advance(c)) < 0) {
				err = rc;
				goto out;
			}
			if (rc == 0)
				retire(heap, &n, pool, &npool);
			heap_down(heap, n, 0);
			continue;
		}
		while (n > 0 && heap[0].st && heap[0].tick == tick) {
			struct cursor *c = &heap[0];
			struct decimate *d =
				per_proc ? per_proc[c->proc] : NULL;
			int rc;

			if (d)
				decimate_add(d, (double)c->tick * r->interval,
					     (double)c->rss * page);
			sum += (double)c->rss;
			if ((rc = advance(c)) < 0) {
				err = rc;
				goto out;
			}
			if (rc == 0)
				retire(heap, &n, pool, &npool);
			heap_down(heap, n, 0);
		}
		if (total)
			decimate_add(total, (double)tick * r->interval,
				     sum * page);
	}
out:
	for (size_t i = 0; i < n; i++)
		sqlite3_finalize(heap[i].st);
	for (size_t i = 0; i < npool; i++)
		sqlite3_finalize(pool[i]);
	free(heap);
	free(pool);
	return err;
}

/* The later half of a split read: its own connection and decimators, so
 * that it shares nothing with the earlier half until the merge. */
struct half {
	const char *path; /* db's file; the connection is not for this thread */
	const struct data_run *r;
	int64_t lo, hi;
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
	h->err = read_range(db, h->r, h->lo, h->hi, h->per_proc, h->total);
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

/* Reads [lo, hi] in two halves at once, the later on a thread with its own
 * connection, and merges the later half's decimators into the caller's.
 * Reads the later half on db after the earlier when the thread, its
 * connection or its read fails. */
static int read_split(sqlite3 *db, const struct data_run *r, int64_t lo,
		      int64_t hi, struct decimate *const *per_proc,
		      struct decimate *total)
{
	int64_t mid = lo + (hi - lo) / 2;
	struct half h = {.path = sqlite3_db_filename(db, "main"),
			 .r = r,
			 .lo = mid + 1,
			 .hi = hi};
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
	err = read_range(db, r, lo, mid, per_proc, total);
	if (started)
		pthread_join(thread, NULL);
	if (err)
		goto out;
	/* Its partial decimators are dropped, and an error comes from db,
	 * where the caller's sqlite3_errmsg() can tell why. */
	if (!h.opened || h.err) {
		err = read_range(db, r, mid + 1, hi, per_proc, total);
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

int data_run_read(sqlite3 *db, const struct data_run *r, double x0, double x1,
		  struct decimate *const *per_proc, struct decimate *total)
{
	int64_t lo, hi, ticks = 0;

	if (r->tick_max < 0 || r->nprocs == 0)
		return 0;
	/* One tick of margin each side: the line enters and leaves the
	 * window instead of starting at the first sample inside. */
	lo = clamp_tick(floor(x0 / r->interval) - 1, r->tick_max);
	hi = clamp_tick(ceil(x1 / r->interval) + 1, r->tick_max);
	for (size_t i = 0; i < r->nprocs; i++) {
		const struct data_proc *p = &r->procs[i];
		int64_t a = p->tick_min > lo ? p->tick_min : lo;
		int64_t b = p->tick_max < hi ? p->tick_max : hi;

		if (b >= a)
			ticks += b - a + 1;
	}
	/* A thread and a second connection save about 4 ms at 100,000
	 * samples, nothing measurable at 20,000. */
	if (ticks < DATA_SPLIT_MIN)
		return read_range(db, r, lo, hi, per_proc, total);
	return read_split(db, r, lo, hi, per_proc, total);
}
