/* stackspans.c - see stackspans.h.  The charges of a run are read once in
 * tick order; each stack's top-level function is found once (stacks are few
 * next to charges). */
#include "stackspans.h"

#include "memtide/units.h"
#include "memtide/where.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Ticks without a sample of a function that still continue its span: a
 * stack sample every 2 ms can miss a tick of 10 ms now and then. */
#define GAP_TICKS 2

struct tick_row {
	int64_t tick;
	int top;            /* index into names: the most sampled top level */
	int grower;         /* index into names: the innermost that grew most */
	int64_t net;        /* bytes grown - released in the tick */
};

struct names {
	char **v;
	size_t n, cap;
};

static int name_index(struct names *s, const char *name)
{
	char **v;

	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i], name) == 0)
			return (int)i;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 32;

		if (!(v = realloc(s->v, cap * sizeof *v)))
			return -1;
		s->v = v;
		s->cap = cap;
	}
	if (!(s->v[s->n] = strdup(name)))
		return -1;
	return (int)s->n++;
}

/* stack.id -> (top-level function, innermost function), as name indexes. */
struct stack_names {
	int64_t *id;
	int *top, *inner;
	size_t n, cap;
};

static int names_of_stack(sqlite3 *db, struct stack_names *sn, struct names *names,
			  int64_t stack, int *top, int *inner)
{
	struct where_frame *f;
	size_t n, k;
	int err;

	for (size_t i = 0; i < sn->n; i++)
		if (sn->id[i] == stack) {
			*top = sn->top[i];
			*inner = sn->inner[i];
			return 0;
		}
	if ((err = where_stack_frames(db, stack, &f, &n)) != SQLITE_OK)
		return -EIO;
	/* f is innermost first: the top level is the frame called by the
	 * outermost <module>, or that frame when it is all there is. */
	k = n >= 2 && strcmp(f[n - 1].function, "<module>") == 0 ? n - 2 : n - 1;
	*top = n ? name_index(names, f[k].function) : -1;
	*inner = n ? name_index(names, f[0].function) : -1;
	where_frames_free(f, n);
	if (*top < 0 || *inner < 0)
		return -ENOMEM;
	if (sn->n == sn->cap) {
		size_t cap = sn->cap ? sn->cap * 2 : 64;
		int64_t *id = realloc(sn->id, cap * sizeof *id);
		int *t = id ? realloc(sn->top, cap * sizeof *t) : NULL;
		int *in = t ? realloc(sn->inner, cap * sizeof *in) : NULL;

		if (id)
			sn->id = id;
		if (t)
			sn->top = t;
		if (in)
			sn->inner = in;
		if (!in)
			return -ENOMEM;
		sn->cap = cap;
	}
	sn->id[sn->n] = stack;
	sn->top[sn->n] = *top;
	sn->inner[sn->n++] = *inner;
	return 0;
}

struct growth {
	size_t first, last; /* tick rows */
	int64_t bytes;
};

static int by_bytes(const void *a, const void *b)
{
	const struct growth *x = a, *y = b;

	return x->bytes < y->bytes ? 1 : x->bytes > y->bytes ? -1 : 0;
}

/* Reads the ticks: per tick, the most sampled top level, the innermost
 * function that grew most, and the net change. */
static int read_ticks(sqlite3 *db, int64_t run, int64_t k0, int64_t k1,
		      struct names *names, struct tick_row **out, size_t *nout)
{
	static const char sql[] =
		"SELECT c.tick, c.stack, sum(c.n), sum(c.grown), sum(c.released)"
		" FROM charge c JOIN proc p ON p.id = c.proc WHERE p.run = ?1"
		" AND c.tick BETWEEN ?2 AND ?3 GROUP BY c.tick, c.stack ORDER BY c.tick";
	struct stack_names sn = {0};
	sqlite3_stmt *st;
	struct tick_row *v = NULL, *r = NULL;
	size_t n = 0, cap = 0;
	int64_t best_n = 0, best_g = 0;
	int rc, err = 0;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return 0; /* an older schema: no stacks */
	sqlite3_bind_int64(st, 1, run);
	sqlite3_bind_int64(st, 2, k0);
	sqlite3_bind_int64(st, 3, k1);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t tick = sqlite3_column_int64(st, 0), cn = sqlite3_column_int64(st, 2);
		int64_t g = sqlite3_column_int64(st, 3), rel = sqlite3_column_int64(st, 4);
		int top, inner;

		if ((err = names_of_stack(db, &sn, names, sqlite3_column_int64(st, 1),
					  &top, &inner)))
			break;
		if (!r || r->tick != tick) {
			if (n == cap) {
				struct tick_row *nv;

				cap = cap ? cap * 2 : 256;
				if (!(nv = realloc(v, cap * sizeof *nv))) {
					err = -ENOMEM;
					break;
				}
				v = nv;
			}
			r = &v[n++];
			*r = (struct tick_row){.tick = tick, .top = -1, .grower = -1};
			best_n = best_g = 0;
		}
		r->net += g - rel;
		if (cn > best_n) {
			best_n = cn;
			r->top = top;
		}
		if (g > best_g) {
			best_g = g;
			r->grower = inner;
		}
	}
	if (!err && rc != SQLITE_DONE)
		err = -EIO;
	sqlite3_finalize(st);
	free(sn.id);
	free(sn.top);
	free(sn.inner);
	if (err) {
		free(v);
		return err;
	}
	*out = v;
	*nout = n;
	return 0;
}

struct run_time {
	double started, interval;
};

static int run_time_of(sqlite3 *db, int64_t run, struct run_time *t)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db, "SELECT started, interval FROM run WHERE id = ?", -1,
			       &st, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_int64(st, 1, run);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		t->started = sqlite3_column_double(st, 0);
		t->interval = sqlite3_column_double(st, 1);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW && t->interval > 0 ? 0 : -EIO;
}

/* Level 0: stretches of one top-level function. */
static int emit_band(const struct tick_row *v, size_t n, const struct names *names,
		     const struct run_time *rt,
		     int (*fn)(void *, const char *, double, double, int, int), void *ctx)
{
	size_t i = 0;

	while (i < n) {
		size_t j = i;
		int err;

		if (v[i].top < 0) {
			i++;
			continue;
		}
		while (j + 1 < n && v[j + 1].top == v[i].top &&
		       v[j + 1].tick - v[j].tick <= GAP_TICKS)
			j++;
		if ((err = fn(ctx, names->v[v[i].top],
			      rt->started + (double)(v[i].tick - 1) * rt->interval,
			      rt->started + (double)v[j].tick * rt->interval, 0, 0)))
			return err;
		i = j + 1;
	}
	return 0;
}

/* Level 1: the stretches of net growth that grew most. */
static int emit_growths(const struct tick_row *v, size_t n, const struct names *names,
			const struct run_time *rt,
			int (*fn)(void *, const char *, double, double, int, int), void *ctx)
{
	struct growth *g = calloc(n ? n : 1, sizeof *g);
	size_t ng = 0;
	int err = 0;

	if (!g)
		return -ENOMEM;
	for (size_t i = 0; i < n;) {
		size_t j = i;
		int64_t sum = 0;

		if (v[i].net <= 0) {
			i++;
			continue;
		}
		while (j < n && v[j].net > 0 && (j == i || v[j].tick - v[j - 1].tick <= GAP_TICKS))
			sum += v[j++].net;
		g[ng++] = (struct growth){i, j - 1, sum};
		i = j;
	}
	qsort(g, ng, sizeof *g, by_bytes);
	for (size_t k = 0; k < ng && k < STACKSPANS_GROWTHS && !err; k++) {
		char label[256], size[32];
		int who = -1;
		int64_t most = 0;

		/* The grower of the stretch: the one that grew most in its
		 * ticks (summed per name over the stretch). */
		for (size_t i = g[k].first; i <= g[k].last; i++) {
			int64_t s = 0;

			if (v[i].grower < 0)
				continue;
			for (size_t j = g[k].first; j <= g[k].last; j++)
				if (v[j].grower == v[i].grower)
					s += v[j].net;
			if (s > most) {
				most = s;
				who = v[i].grower;
			}
		}
		units_format_bytes(g[k].bytes, size, sizeof size);
		snprintf(label, sizeof label, "%s +%s", who >= 0 ? names->v[who] : "?", size);
		err = fn(ctx, label,
			 rt->started + (double)(v[g[k].first].tick - 1) * rt->interval,
			 rt->started + (double)v[g[k].last].tick * rt->interval, 1, 0);
	}
	free(g);
	return err;
}

int stackspans_read(sqlite3 *db, int64_t run, double t0, double t1,
		    int (*fn)(void *ctx, const char *label, double start,
			      double end, int level, int pid),
		    void *ctx)
{
	struct run_time rt;
	struct names names = {0};
	struct tick_row *v = NULL;
	size_t n = 0;
	int err;

	if (run_time_of(db, run, &rt))
		return 0;
	err = read_ticks(db, run, (int64_t)((t0 - rt.started) / rt.interval),
			 (int64_t)((t1 - rt.started) / rt.interval) + 1, &names, &v, &n);
	if (!err)
		err = emit_band(v, n, &names, &rt, fn, ctx);
	if (!err)
		err = emit_growths(v, n, &names, &rt, fn, ctx);
	for (size_t i = 0; i < names.n; i++)
		free(names.v[i]);
	free(names.v);
	free(v);
	return err;
}
