/* data_read.c - the samples of a data_run streamed into decimators: a
 * merge by time of one index range scan a process, in two halves on two
 * connections for large windows (see data_read() in data.h). */
#include "data.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

/* Samples (process ticks) in a window worth reading on two connections. */
#define DATA_SPLIT_MIN 50000

/* A cursor reads its minutes, then its buckets, then its ticks (enum
 * data_source), each phase a range of rows, possibly empty. */
#define PHASES 3
#define PHASE_DONE PHASES

static int prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st)
{
	int rc = sqlite3_prepare_v2(db, sql, -1, st, NULL);

	return rc == SQLITE_NOMEM ? -ENOMEM : rc != SQLITE_OK ? -EIO : 0;
}


/* A read in progress: keys are ticks of r (relative) or microseconds
 * (absolute); key k is x = k * kscale. */
struct plan {
	const struct data_run *r;
	const struct data_read *o;
	int hold;
	int agg; /* sample_agg buckets may stand for samples (data_read.col_s) */
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
	double first, last_v; /* of a bucket's samples (else its mean) */
	uint32_t n;           /* samples behind the row (rollups, buckets) */
	sqlite3_stmt *st;     /* NULL until the merge reaches it */
	size_t proc;
	int phase;            /* enum data_source next/now; PHASE_DONE */
	int64_t last;         /* the last tick, minute or bucket read */
	int64_t base, mult;   /* its process's keys (proc_keys()) */
	double unit;          /* what a stored unit is worth */
	/* The rows of each phase this half reads; lo > hi for none. */
	int64_t lo[PHASES], hi[PHASES];
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
	const char *sql[PHASES]; /* by enum data_source */
	sqlite3_stmt **free[PHASES];
	size_t nfree[PHASES], cap;
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
	for (int k = 0; k < PHASES; k++) {
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
	tmin = data_metric_from_mem(pl->o->metric) ? p->mem_tick_min : p->tick_min;
	tmax = data_metric_from_mem(pl->o->metric) ? p->mem_tick_max : p->tick_max;
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
	int64_t tmin = data_metric_from_mem(pl->o->metric) ? p->mem_tick_min
						  : p->tick_min;
	int64_t tmax = data_metric_from_mem(pl->o->metric) ? p->mem_tick_max
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

/* Whether p is read from its per-minute rollups alone (a window too long
 * for anything finer). */
static int rollups_only(const struct plan *pl, const struct data_proc *p)
{
	return pl->o->rollups == DATA_ROLLUP_ONLY && pl->o->absolute &&
	       p->minute_min <= p->minute_max;
}

/* Whether p's sample_agg buckets stand for its samples in this read: two
 * of them or more to a pixel column. */
static int uses_agg(const struct plan *pl, const struct data_proc *p)
{
	return pl->agg && p->agg_ticks > 0 && p->agg_min <= p->agg_max &&
	       pl->o->col_s >= 2.0 * (double)p->agg_ticks * p->interval &&
	       !rollups_only(pl, p);
}

/* A bucket stands at the tick in its middle. */
static int64_t agg_key(const struct cursor *c, const struct data_proc *p,
		       int64_t bucket)
{
	return c->base + (bucket * p->agg_ticks + p->agg_ticks / 2) * c->mult;
}

/* Key range [a, b] -> the buckets of p whose middle is within it (so the
 * two halves of a split read never both read one), if it uses them. */
static void agg_range(const struct plan *pl, const struct data_proc *p,
		      int64_t a, int64_t b, int64_t *lo, int64_t *hi)
{
	int64_t base, mult;
	double k = (double)p->agg_ticks, mid = (double)(p->agg_ticks / 2), l, h;

	*lo = 0;
	*hi = -1;
	if (!uses_agg(pl, p))
		return;
	proc_keys(pl, p, &base, &mult);
	l = ceil(((double)(a - base) / (double)mult - mid) / k);
	h = floor(((double)(b - base) / (double)mult - mid) / k);
	*lo = l > (double)p->agg_min ? (int64_t)l : p->agg_min;
	*hi = h < (double)p->agg_max ? (int64_t)h : p->agg_max;
}

/* Key range [a, b] -> the rows of each phase of p to read in it. */
static void ranges(const struct plan *pl, const struct data_proc *p,
		   int64_t a, int64_t b, int64_t *lo, int64_t *hi)
{
	rollup_range(pl, p, a, b, &lo[DATA_SRC_MINUTE], &hi[DATA_SRC_MINUTE]);
	agg_range(pl, p, a, b, &lo[DATA_SRC_AGG], &hi[DATA_SRC_AGG]);
	if (rollups_only(pl, p)) {
		lo[DATA_SRC_RAW] = 0;
		hi[DATA_SRC_RAW] = -1;
		return;
	}
	raw_range(pl, p, a, b, &lo[DATA_SRC_RAW], &hi[DATA_SRC_RAW]);
	/* With buckets, only the samples after the last one (none, as they
	 * are written together). */
	if (uses_agg(pl, p) &&
	    lo[DATA_SRC_RAW] < (p->agg_max + 1) * p->agg_ticks)
		lo[DATA_SRC_RAW] = (p->agg_max + 1) * p->agg_ticks;
}

/* The key of row v (a minute, bucket or tick) of phase ph of c. */
static int64_t phase_key(const struct cursor *c, const struct data_proc *p,
			 int ph, int64_t v)
{
	return ph == DATA_SRC_MINUTE ? rollup_key(v)
	       : ph == DATA_SRC_AGG  ? agg_key(c, p, v)
				     : c->base + v * c->mult;
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
	for (; c->phase < PHASE_DONE; c->phase++) {
		int64_t lo = c->lo[c->phase], hi = c->hi[c->phase];
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
				if (c->phase == DATA_SRC_RAW) {
					c->key = c->base + c->last * c->mult;
					c->v = (double)sqlite3_column_int64(
						       c->st, 1) *
					       c->unit;
					return 1;
				}
				c->key = phase_key(c, &pl->r->procs[c->proc],
						   c->phase, c->last);
				c->n = (uint32_t)sqlite3_column_int(c->st, 1);
				c->vmin = sqlite3_column_double(c->st, 2) *
					  c->unit;
				c->vmax = sqlite3_column_double(c->st, 3) *
					  c->unit;
				c->v = sqlite3_column_double(c->st, 4) * c->unit;
				c->first = c->last_v = c->v;
				if (sqlite3_column_count(c->st) > 6) {
					c->first = sqlite3_column_double(c->st, 5) *
						   c->unit;
					c->last_v = sqlite3_column_double(c->st, 6) *
						    c->unit;
				}
				return 1;
			}
			if (rc != SQLITE_DONE)
				return -EIO;
		} else if (c->phase >= PHASE_DONE) {
			return 0;
		}
		if ((err = open_phase(c, pool, &pl->r->procs[c->proc])))
			return err;
		if (!c->st) {
			c->phase = PHASE_DONE;
			return 0;
		}
	}
}

/* Whether c's last row was its process's very last one: only then does
 * the process leave a held sum (a half's range may end before it does). */
static int at_end(const struct plan *pl, const struct cursor *c)
{
	const struct data_proc *p = &pl->r->procs[c->proc];
	int64_t tmax = data_metric_from_mem(pl->o->metric) ? p->mem_tick_max
						  : p->tick_max;
	int64_t tmin = data_metric_from_mem(pl->o->metric) ? p->mem_tick_min
						  : p->tick_min;

	if (tmin <= tmax && c->lo[DATA_SRC_RAW] <= c->hi[DATA_SRC_RAW])
		return c->last == tmax && c->hi[DATA_SRC_RAW] >= tmax;
	if (c->lo[DATA_SRC_AGG] <= c->hi[DATA_SRC_AGG])
		return c->last == p->agg_max && c->hi[DATA_SRC_AGG] >= p->agg_max &&
		       (p->agg_max + 1) * p->agg_ticks > tmax;
	if (tmin <= tmax && pl->o->rollups != DATA_ROLLUP_ONLY)
		return 0;
	return c->last == p->minute_max &&
	       c->lo[DATA_SRC_MINUTE] <= c->hi[DATA_SRC_MINUTE];
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
			    .sql = {data_metric_sql(m, DATA_SRC_MINUTE),
				    data_metric_sql(m, DATA_SRC_AGG),
				    data_metric_sql(m, DATA_SRC_RAW)},
			    .cap = r->nprocs};
	struct cursor *heap = NULL;
	double *held = NULL, held_sum = 0;
	size_t *gone = NULL, ngone = 0, n = 0;
	/* Processes holding a value, and whether they all left since the
	 * last row: the total breaks where nothing existed. */
	char *live = NULL;
	size_t nlive = 0;
	/* A later half of a held read starts in a gap until its priming
	 * rows show something alive: one longer than the priming saw none. */
	int gap = pl->hold && emit_from != INT64_MIN;
	int64_t *due = NULL; /* per gone process: the key it leaves at */
	int err = 0;

	heap = calloc(r->nprocs, sizeof *heap);
	held = calloc(r->nprocs, sizeof *held);
	gone = calloc(r->nprocs, sizeof *gone);
	due = calloc(r->nprocs, sizeof *due);
	live = calloc(r->nprocs, 1);
	for (int k = 0; k < PHASES; k++)
		if (!(pool.free[k] = calloc(r->nprocs, sizeof *pool.free[k])))
			err = -ENOMEM;
	if (!heap || !held || !gone || !due || !live || err) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < r->nprocs; i++) {
		const struct data_proc *p = &r->procs[i];
		struct cursor c = {.proc = i};
		int64_t base, mult;

		ranges(pl, p, lo, hi, c.lo, c.hi);
		for (c.phase = 0; c.phase < PHASE_DONE; c.phase++)
			if (c.lo[c.phase] <= c.hi[c.phase])
				break;
		if (c.phase == PHASE_DONE)
			continue;
		proc_keys(pl, p, &base, &mult);
		c.base = base;
		c.mult = mult;
		c.unit = data_metric_unit(p, pl->o->metric);
		c.key = phase_key(&c, p, c.phase, c.lo[c.phase]);
		heap[n] = c;
		heap_up(heap, n++);
	}
	while (n > 0) {
		int64_t key = heap[0].key;
		double sum = 0, x = (double)key * pl->kscale;
		/* A bucket read for a process alone is its total too. */
		struct cursor bucket = {0};
		int rows = 0;

		if (!heap[0].st && heap[0].phase < PHASE_DONE) {
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
			live[gone[i]] = 0;
			if (--nlive == 0)
				gap = 1;
			gone[i] = gone[--ngone];
			due[i] = due[ngone];
		}
		while (n > 0 && heap[0].st && heap[0].key == key) {
			struct cursor *c = &heap[0];
			struct decimate *d =
				per_proc ? per_proc[c->proc] : NULL;
			int rc;

			if (d && key >= emit_from) {
				const struct data_proc *p = &r->procs[c->proc];
				/* A minute or bucket wider than a column and
				 * a half is a point of a line, not a span. */
				double w = c->phase == DATA_SRC_MINUTE
						   ? 60
						   : (double)p->agg_ticks *
							     p->interval;

				if (c->phase == DATA_SRC_RAW)
					decimate_add(d, x, c->v);
				else if (w * d->scale >= 1.5)
					decimate_add_ranged(d, x, c->v, c->vmin,
							    c->vmax);
				else if (c->phase == DATA_SRC_AGG)
					decimate_add_bucket(d, x, c->first,
							    c->vmin, c->vmax,
							    c->last_v, c->v,
							    c->n);
				else
					decimate_add_span(d, x, c->vmin,
							  c->vmax, c->v, c->n);
			}
			if (!r->procs[c->proc].in_parent)
				sum += c->v;
			if (rows++ == 0 && c->phase == DATA_SRC_AGG)
				bucket = *c;
			if (pl->hold && !r->procs[c->proc].in_parent) {
				held_sum += c->v - held[c->proc];
				held[c->proc] = c->v;
				if (!live[c->proc]) {
					live[c->proc] = 1;
					nlive++;
				}
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
		if (total && gap && key >= emit_from)
			decimate_break(total);
		if (rows)
			gap = 0;
		if (total && key >= emit_from && rows == 1 && bucket.n)
			decimate_add_bucket(total, x, bucket.first, bucket.vmin,
					    bucket.vmax, bucket.last_v, bucket.v,
					    bucket.n);
		else if (total && key >= emit_from)
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
	free(live);
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
		if (uses_agg(pl, p) && 2 * p->agg_ticks * mult > k)
			k = 2 * p->agg_ticks * mult;
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
	/* Series not sampled on shared ticks (daemon history, smaps
	 * readings, an mprof file's MEM and CHLD lines) add up in the total
	 * with each one's last value. */
	pl.hold = o->absolute || data_metric_from_mem(o->metric) ||
		  (r->kind && strcmp(r->kind, "import") == 0);
	/* A bucket's mean is no term of a total's peak: buckets only for a
	 * process alone, or when no total is wanted. */
	pl.agg = o->col_s > 0 && data_metric_sql(o->metric, DATA_SRC_AGG) &&
		 (r->nprocs == 1 || !total);
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
		int64_t a[PHASES], b[PHASES];

		ranges(&pl, p, pl.klo, pl.khi, a, b);
		for (int k = 0; k < PHASES; k++)
			if (b[k] >= a[k])
				count += (double)(b[k] - a[k] + 1) *
					 (k == DATA_SRC_RAW ? p->interval / p->every : 1);
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
