/* import.c - memtide import: mprof .dat files become runs.
 *
 * A file becomes one run of kind "import", in one transaction: a malformed
 * line leaves nothing of its file behind.  MEM lines are one process (pid
 * 0, start_ticks 0: mprof does not record the pid; its cmdline is the
 * CMDLINE line, NULL without one), each CHLD pid a child process (start_ticks
 * 1, parent the MEM one), each FUNC line a marker.  The run stores RSS in
 * bytes (page_size 1) and ticks of IMPORT_TICK_S: mprof's times have 1e-4 s
 * steps, so a tick is (t - t0) * 10, and up to DUP_MAX samples of one series
 * that share a time keep their order in the spare ticks between, which a
 * %.4f export rounds away.  Values come back exactly (see mprof.h).
 */
#include "cli.h"

#include "memtide/mprof.h"
#include "memtide/text.h"
#include "memtide/totals.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define IMPORT_TICK_S 1e-5
#define TICKS_PER_STEP 10 /* ticks per 1e-4 s, mprof's time step */
#define AGG_TICKS store_agg_ticks(IMPORT_TICK_S) /* sample_agg: a second */
#define DUP_MAX 5
/* Samples per INSERT: one statement step per row costs more than the
 * b-tree insert itself. */
#define ROWS_PER_INSERT 64

struct point {
	int64_t t; /* 1e-4 s */
	int64_t bytes;
	long line;
};

struct series {
	int64_t child; /* -1: the MEM series */
	struct point *v;
	size_t n, cap;
	int64_t proc;
	int64_t gap; /* 1e-4 s: the widest between two samples (write_series) */
};

struct func {
	const char *name;
	size_t len;
	int64_t t, t_end, umib, umib_end;
	int level, has_mem;
};

struct parsed {
	const char *path;
	char *buf; /* the file's bytes (mmap'd or malloc'd) */
	size_t len;
	int mapped;
	const char *cmdline;
	size_t cmdline_len;
	int has_cmdline;
	struct series *ser; /* ser[0]: MEM */
	size_t nser;
	size_t *hash; /* child pid -> index in ser, open addressing */
	size_t hcap;
	struct func *fn;
	size_t nfn, fcap;
	size_t samples;
	long ts_lines;
	struct parsed *ts; /* the old _ts.dat companion, if any */
};

static void parsed_free(struct parsed *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nser; i++)
		free(p->ser[i].v);
	free(p->ser);
	free(p->hash);
	free(p->fn);
	if (p->mapped)
		munmap(p->buf, p->len);
	else
		free(p->buf);
	if (p->ts) {
		parsed_free(p->ts);
		free(p->ts);
	}
}

static int grow(void **v, size_t *cap, size_t n, size_t size)
{
	size_t c;
	void *nv;

	if (n < *cap)
		return 0;
	c = *cap ? *cap * 2 : 256;
	if (!(nv = realloc(*v, c * size)))
		return -ENOMEM;
	*v = nv;
	*cap = c;
	return 0;
}

static int push(struct series *s, int64_t t, int64_t bytes, long line)
{
	if (grow((void **)&s->v, &s->cap, s->n, sizeof *s->v))
		return -ENOMEM;
	s->v[s->n++] = (struct point){t, bytes, line};
	return 0;
}

static size_t hash_pid(int64_t pid, size_t cap)
{
	return (size_t)((uint64_t)pid * 0x9e3779b97f4a7c15ULL >> 20) & (cap - 1);
}

/* The series of child pid, created on first sight. */
static struct series *child_series(struct parsed *p, int64_t pid)
{
	size_t h, cap;

	if (p->nser * 2 >= p->hcap) {
		size_t ncap = p->hcap ? p->hcap * 2 : 64;
		size_t *nh = malloc(ncap * sizeof *nh);

		if (!nh)
			return NULL;
		for (size_t i = 0; i < ncap; i++)
			nh[i] = SIZE_MAX;
		for (size_t i = 1; i < p->nser; i++) {
			h = hash_pid(p->ser[i].child, ncap);
			while (nh[h] != SIZE_MAX)
				h = (h + 1) & (ncap - 1);
			nh[h] = i;
		}
		free(p->hash);
		p->hash = nh;
		p->hcap = ncap;
	}
	cap = p->hcap;
	for (h = hash_pid(pid, cap); p->hash[h] != SIZE_MAX; h = (h + 1) & (cap - 1))
		if (p->ser[p->hash[h]].child == pid)
			return &p->ser[p->hash[h]];
	if (p->nser % 16 == 0) {
		struct series *ns = realloc(p->ser, (p->nser + 16) * sizeof *ns);

		if (!ns)
			return NULL;
		p->ser = ns;
	}
	p->ser[p->nser] = (struct series){.child = pid};
	p->hash[h] = p->nser;
	return &p->ser[p->nser++];
}

static int read_file(struct parsed *p)
{
	struct stat sb;
	int fd = open(p->path, O_RDONLY | O_CLOEXEC), err = 0;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &sb) < 0) {
		err = -errno;
		goto out;
	}
	if (S_ISDIR(sb.st_mode)) {
		err = -EISDIR;
		goto out;
	}
	if (S_ISREG(sb.st_mode) && sb.st_size > 0) {
		p->len = (size_t)sb.st_size;
		p->buf = mmap(NULL, p->len, PROT_READ, MAP_PRIVATE, fd, 0);
		if (p->buf == MAP_FAILED) {
			p->buf = NULL;
			err = -errno;
			goto out;
		}
		p->mapped = 1;
		madvise(p->buf, p->len, MADV_SEQUENTIAL);
		goto out;
	}
	/* A pipe or an empty file: read what comes. */
	for (size_t cap = 0;;) {
		ssize_t n;

		if (p->len == cap) {
			char *nb = realloc(p->buf, cap = cap ? cap * 2 : 65536);

			if (!nb) {
				err = -ENOMEM;
				goto out;
			}
			p->buf = nb;
		}
		n = read(fd, p->buf + p->len, cap - p->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = -errno;
			goto out;
		}
		if (n == 0)
			break;
		p->len += (size_t)n;
	}
out:
	close(fd);
	return err;
}

/* Reads and parses a file; prints "FILE:LINE: why" on a malformed line. */
static int parse_file(struct parsed *p)
{
	struct mprof_reader r;
	struct mprof_line l;
	int rc, err;

	if ((err = read_file(p))) {
		cli_error("cannot read '%s': %s", p->path, strerror(-err));
		return err;
	}
	if (!(p->ser = malloc(16 * sizeof *p->ser)))
		return -ENOMEM;
	p->ser[0] = (struct series){.child = -1};
	p->nser = 1;
	mprof_reader_init(&r, p->buf, p->len);
	while ((rc = mprof_next(&r, &l)) == 1) {
		struct series *s = &p->ser[0];

		switch (l.tag) {
		case MPROF_BLANK:
			continue;
		case MPROF_CMDLINE:
			/* mprof's reader keeps the last one. */
			p->cmdline = l.text;
			p->cmdline_len = l.text_len;
			p->has_cmdline = 1;
			continue;
		case MPROF_CHLD:
			if (!(s = child_series(p, l.child)))
				return -ENOMEM;
			/* fall through */
		case MPROF_MEM:
			if (push(s, l.t, mprof_bytes(l.umib), r.line))
				return -ENOMEM;
			p->samples++;
			continue;
		case MPROF_TS_FUNC:
			p->ts_lines++;
			/* fall through */
		case MPROF_FUNC:
			if (grow((void **)&p->fn, &p->fcap, p->nfn, sizeof *p->fn))
				return -ENOMEM;
			p->fn[p->nfn++] = (struct func){
				.name = l.text,
				.len = l.text_len,
				.t = l.t,
				.t_end = l.t_end,
				.umib = l.umib,
				.umib_end = l.umib_end,
				.level = l.level,
				.has_mem = l.tag == MPROF_FUNC,
			};
			continue;
		}
	}
	if (rc < 0) {
		cli_error("%s:%ld: %s", p->path, r.line, r.why);
		return rc;
	}
	return 0;
}

static int by_time(const void *a, const void *b)
{
	const struct point *x = a, *y = b;

	if (x->t != y->t)
		return (x->t > y->t) - (x->t < y->t);
	return (x->line > y->line) - (x->line < y->line);
}

/* Sorts each series by time (file order among equal times) when the file
 * did not already have it so. */
static void sort_series(struct parsed *p)
{
	for (size_t i = 0; i < p->nser; i++) {
		struct series *s = &p->ser[i];

		for (size_t k = 1; k < s->n; k++)
			if (s->v[k].t < s->v[k - 1].t) {
				qsort(s->v, s->n, sizeof *s->v, by_time);
				break;
			}
	}
}

struct opts {
	const char *db, *label;
	int quiet;
};

enum {
	ST_RUN,
	ST_PROC,
	ST_SAMPLE,
	ST_MARK,
	ST_RUN_END,
	ST_SAMPLES, /* ROWS_PER_INSERT rows at once */
	ST_N,
};

static const char *const sql[ST_N] = {
	[ST_RUN] = "INSERT INTO run(kind, command, label, started, ended, interval,"
		   " page_size, backend) VALUES ('import', ?1, ?2, ?3, ?4, ?5, 1, 'rss')",
	[ST_PROC] = "INSERT INTO proc(run, pid, parent, start_ticks, started, ended,"
		    " first_tick, last_tick, cmdline, peak_rss, interval)"
		    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
	[ST_SAMPLE] = "INSERT INTO sample(proc, tick, rss, cpu, threads)"
		      " VALUES (?1, ?2, ?3, 0, 0)",
	[ST_MARK] = "INSERT INTO mark(run, label, start, end, level, mem_start,"
		    " mem_end) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[ST_RUN_END] = "UPDATE run SET samples = ?2, last_tick = ?3, peak_rss = ?4"
		       " WHERE id = ?1",
	[ST_SAMPLES] = NULL, /* built by samples_sql() */
};

/* "INSERT INTO sample ... VALUES (?,?,?,0,0),(...)...", ROWS_PER_INSERT
 * rows. */
static char *samples_sql(void)
{
	static const char head[] = "INSERT INTO sample(proc, tick, rss, cpu, threads) VALUES ";
	static const char row[] = "(?,?,?,0,0),";
	size_t n = sizeof head - 1 + ROWS_PER_INSERT * (sizeof row - 1) + 1;
	char *s = malloc(n), *p = s;

	if (!s)
		return NULL;
	memcpy(p, head, sizeof head - 1);
	p += sizeof head - 1;
	for (int i = 0; i < ROWS_PER_INSERT; i++) {
		memcpy(p, row, sizeof row - 1);
		p += sizeof row - 1;
	}
	p[-1] = '\0';
	return s;
}

struct writer {
	struct store *store;
	sqlite3 *db;
	sqlite3_stmt *st[ST_N];
};

static int step(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

/* The time range of everything in the file, in 1e-4 s. */
static void time_range(const struct parsed *p, int64_t *t0, int64_t *t1)
{
	*t0 = INT64_MAX;
	*t1 = INT64_MIN;
	for (size_t i = 0; i < p->nser; i++)
		if (p->ser[i].n) {
			if (p->ser[i].v[0].t < *t0)
				*t0 = p->ser[i].v[0].t;
			if (p->ser[i].v[p->ser[i].n - 1].t > *t1)
				*t1 = p->ser[i].v[p->ser[i].n - 1].t;
		}
	for (const struct parsed *q = p; q; q = q->ts)
		for (size_t i = 0; i < q->nfn; i++) {
			if (q->fn[i].t < *t0)
				*t0 = q->fn[i].t;
			if (q->fn[i].t_end > *t1)
				*t1 = q->fn[i].t_end;
		}
}

static int write_marks(struct writer *w, const struct parsed *p, int64_t run)
{
	sqlite3_stmt *st = w->st[ST_MARK];

	for (size_t i = 0; i < p->nfn; i++) {
		const struct func *f = &p->fn[i];

		sqlite3_bind_int64(st, 1, run);
		sqlite3_bind_text(st, 2, f->name, (int)f->len, SQLITE_STATIC);
		sqlite3_bind_double(st, 3, (double)f->t / 1e4);
		sqlite3_bind_double(st, 4, (double)f->t_end / 1e4);
		sqlite3_bind_int(st, 5, f->level);
		if (f->has_mem) {
			sqlite3_bind_int64(st, 6, mprof_bytes(f->umib));
			sqlite3_bind_int64(st, 7, mprof_bytes(f->umib_end));
		} else {
			sqlite3_bind_null(st, 6);
			sqlite3_bind_null(st, 7);
		}
		if (step(st))
			return -EIO;
	}
	return 0;
}

/* The tick of each sample of s in turn: (t - t0) * TICKS_PER_STEP, plus
 * its rank among earlier samples at the same time. */
struct ticker_state {
	int64_t prev;
	int dup;
};

static int next_tick(struct ticker_state *ts, const struct point *pt, int64_t t0,
		     int64_t *tick)
{
	if (pt->t == ts->prev) {
		if (++ts->dup >= DUP_MAX)
			return -ERANGE;
	} else {
		ts->dup = 0;
		ts->prev = pt->t;
	}
	*tick = (pt->t - t0) * TICKS_PER_STEP + ts->dup;
	return 0;
}

/* Writes one series' process and samples; *peak receives its highest RSS
 * and *last its last tick.  Returns 0, -EIO, or -ERANGE (with *bad_line)
 * for too many samples at one time. */
static int write_series(struct writer *w, struct series *s, int64_t run,
			int64_t t0, int64_t parent, const struct parsed *p,
			int64_t *peak, int64_t *last, long *bad_line)
{
	sqlite3_stmt *st = w->st[ST_PROC];
	struct ticker_state ts = {-1, 0};
	int64_t tick = 0, mx = 0, gap = 0;
	struct store_agg agg = {0};

	for (size_t k = 0; k < s->n; k++) {
		if (s->v[k].bytes > mx)
			mx = s->v[k].bytes;
		if (k && s->v[k].t - s->v[k - 1].t > gap)
			gap = s->v[k].t - s->v[k - 1].t;
		if (next_tick(&ts, &s->v[k], t0, &tick)) {
			*bad_line = s->v[k].line;
			return -ERANGE;
		}
	}
	*peak = mx;
	*last = tick;
	s->gap = gap;
	sqlite3_bind_int64(st, 1, run);
	sqlite3_bind_int64(st, 2, s->child < 0 ? 0 : s->child);
	if (parent)
		sqlite3_bind_int64(st, 3, parent);
	else
		sqlite3_bind_null(st, 3);
	sqlite3_bind_int(st, 4, s->child < 0 ? 0 : 1);
	sqlite3_bind_double(st, 5, (double)s->v[0].t / 1e4);
	sqlite3_bind_double(st, 6, (double)s->v[s->n - 1].t / 1e4);
	sqlite3_bind_int64(st, 7, (s->v[0].t - t0) * TICKS_PER_STEP);
	sqlite3_bind_int64(st, 8, tick);
	if (s->child < 0 && p->has_cmdline)
		sqlite3_bind_text(st, 9, p->cmdline, (int)p->cmdline_len, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 9);
	sqlite3_bind_int64(st, 10, mx);
	/* mprof samples are not on a grid: the widest gap is how long a value
	 * stands (a chart's total holds it that long). */
	if (gap > 0)
		sqlite3_bind_double(st, 11, (double)gap / 1e4);
	else
		sqlite3_bind_null(st, 11);
	if (step(st))
		return -EIO;
	s->proc = sqlite3_last_insert_rowid(w->db);
	ts = (struct ticker_state){-1, 0};
	for (size_t k = 0; k < s->n;) {
		int many = s->n - k >= ROWS_PER_INSERT;
		int rows = many ? ROWS_PER_INSERT : 1;

		st = w->st[many ? ST_SAMPLES : ST_SAMPLE];
		for (int j = 0; j < rows; j++, k++) {
			next_tick(&ts, &s->v[k], t0, &tick);
			sqlite3_bind_int64(st, 3 * j + 1, s->proc);
			sqlite3_bind_int64(st, 3 * j + 2, tick);
			sqlite3_bind_int64(st, 3 * j + 3, s->v[k].bytes);
			/* Ticks only grow along a series: a bucket is done
			 * when the next one starts. */
			if (store_agg_add(w->store, &agg, s->proc, tick / AGG_TICKS,
					  s->v[k].bytes, 0, 0))
				return -EIO;
		}
		if (step(st))
			return -EIO;
	}
	return store_agg_put(w->store, &agg) ? -EIO : 0;
}

/* Whether the MEM lines already count the children (mprof run -C -M) or
 * are the parent alone (-M): the file does not say.  Each MEM line starts
 * a sampling round whose CHLD lines follow it.  A parent's own memory is
 * the smoother of MEM and MEM minus its round's children: when MEM counts
 * them, MEM jumps as they start, grow and end, and MEM minus them does not;
 * when it does not, subtracting them makes the jumps.  MEM below its own
 * round's children cannot count them. */
static int mem_includes_children(const struct parsed *p)
{
	const struct series *mem = &p->ser[0];
	int64_t *kids = calloc(mem->n, sizeof *kids), prev_a = 0, prev_b = 0;
	uint64_t tv_a = 0, tv_b = 0;
	int possible = 1, any = 0;

	if (!kids)
		return 0;
	for (size_t i = 1; i < p->nser; i++)
		for (size_t k = 0; k < p->ser[i].n; k++) {
			long line = p->ser[i].v[k].line;
			size_t lo = 0, hi = mem->n; /* the last MEM line before it */

			while (lo < hi) {
				size_t mid = (lo + hi) / 2;

				if (mem->v[mid].line < line)
					lo = mid + 1;
				else
					hi = mid;
			}
			if (lo > 0 && mem->v[lo - 1].line < line) {
				kids[lo - 1] += p->ser[i].v[k].bytes;
				any = 1;
			}
		}
	for (size_t r = 0; r < mem->n && any; r++) {
		int64_t a = mem->v[r].bytes - kids[r], b = mem->v[r].bytes;

		if (a < 0)
			possible = 0;
		if (r) {
			tv_a += (uint64_t)llabs(a - prev_a);
			tv_b += (uint64_t)llabs(b - prev_b);
		}
		prev_a = a;
		prev_b = b;
	}
	free(kids);
	return any && possible && tv_a < tv_b;
}

static int mark_includes_children(struct writer *w, int64_t proc)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(w->db, "UPDATE proc SET includes_children = 1"
				    " WHERE id = ?1", -1, &st, NULL);

	if (rc != SQLITE_OK)
		return -EIO;
	sqlite3_bind_int64(st, 1, proc);
	rc = step(st);
	sqlite3_finalize(st);
	return rc;
}

/* A series' place in held_peak()'s merge: its next row. */
struct head {
	int64_t tick;
	size_t s, k;
	struct ticker_state ts;
};

static int head_before(const struct head *a, const struct head *b)
{
	return a->tick < b->tick;
}

/* Restores the heap order of h[0..n) below i. */
static void sift_down(struct head *h, size_t n, size_t i)
{
	for (;;) {
		size_t c = 2 * i + 1;
		struct head x;

		if (c >= n)
			return;
		if (c + 1 < n && head_before(&h[c + 1], &h[c]))
			c++;
		if (!head_before(&h[c], &h[i]))
			return;
		x = h[i];
		h[i] = h[c];
		h[c] = x;
		i = c;
	}
}

/* The peak of the total as the chart draws it (totals_held_peak()), from
 * the series written (write_series() set their gaps): rows merged in tick
 * order from memory, not read back and sorted. */
static int held_peak(const struct parsed *p, int64_t t0, int64_t *peak)
{
	struct totals_held th = TOTALS_HELD_INIT;
	struct head *h = malloc(p->nser * sizeof *h);
	size_t n = 0;
	int err = 0;

	if (!h)
		return -ENOMEM;
	for (size_t i = 0; i < p->nser; i++)
		if (p->ser[i].n) {
			h[n] = (struct head){0, i, 0, {-1, 0}};
			next_tick(&h[n].ts, &p->ser[i].v[0], t0, &h[n].tick);
			n++;
		}
	for (size_t i = n; i-- > 0;)
		sift_down(h, n, i);
	while (n && !err) {
		struct head *x = &h[0];
		const struct series *s = &p->ser[x->s];
		int64_t until = INT64_MAX;

		if (x->k + 1 == s->n) {
			double gap_s = (double)s->gap / 1e4;

			until = totals_held_until(x->tick, gap_s > IMPORT_TICK_S ? gap_s : IMPORT_TICK_S,
						  IMPORT_TICK_S);
		}
		err = totals_held_add(&th, (int64_t)x->s, x->tick, s->v[x->k].bytes, until);
		if (++x->k < s->n)
			next_tick(&x->ts, &s->v[x->k], t0, &x->tick);
		else
			h[0] = h[--n];
		sift_down(h, n, 0);
	}
	free(h);
	*peak = totals_held_end(&th);
	return err;
}

/* Writes a parsed file as a new run in one transaction; *run receives its
 * id.  Prints its own error. */
static int write_run(struct writer *w, struct parsed *p, const struct opts *o,
		     int64_t *run)
{
	int64_t t0, t1, peak = 0, last = 0, mem_peak = 0;
	char *command = NULL;
	long bad_line = 0;
	int err = -EIO;

	time_range(p, &t0, &t1);
	if (sqlite3_exec(w->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		goto out;
	if (p->has_cmdline)
		command = strndup(p->cmdline, p->cmdline_len);
	else if (asprintf(&command, "(mprof file %s)", text_base_name(p->path)) < 0)
		command = NULL;
	if (!command) {
		err = -ENOMEM;
		goto out;
	}
	sqlite3_bind_text(w->st[ST_RUN], 1, command, -1, SQLITE_STATIC);
	sqlite3_bind_text(w->st[ST_RUN], 2, o->label ? o->label : text_base_name(p->path),
			  -1, SQLITE_STATIC);
	sqlite3_bind_double(w->st[ST_RUN], 3, (double)t0 / 1e4);
	sqlite3_bind_double(w->st[ST_RUN], 4, (double)t1 / 1e4);
	sqlite3_bind_double(w->st[ST_RUN], 5, IMPORT_TICK_S);
	if (step(w->st[ST_RUN]))
		goto out;
	*run = sqlite3_last_insert_rowid(w->db);
	for (size_t i = 0; i < p->nser; i++) {
		int64_t pk = 0, lt = 0;

		if (p->ser[i].n == 0)
			continue;
		err = write_series(w, &p->ser[i], *run, t0,
				   i ? p->ser[0].proc : 0, p, &pk, &lt, &bad_line);
		if (err)
			goto out;
		if (i == 0)
			mem_peak = pk;
		if (pk > peak)
			peak = pk;
		if (lt > last)
			last = lt;
	}
	err = -EIO;
	if (write_marks(w, p, *run) || (p->ts && write_marks(w, p->ts, *run)))
		goto out;
	if (p->ser[0].n && p->nser > 1) {
		if (mem_includes_children(p)) {
			/* MEM counts the children: the total is MEM. */
			if (mark_includes_children(w, p->ser[0].proc))
				goto out;
			peak = mem_peak;
		} else if ((err = held_peak(p, t0, &peak))) {
			goto out;
		}
		err = -EIO;
	}
	sqlite3_bind_int64(w->st[ST_RUN_END], 1, *run);
	sqlite3_bind_int64(w->st[ST_RUN_END], 2, (sqlite3_int64)p->samples);
	sqlite3_bind_int64(w->st[ST_RUN_END], 3, last);
	/* The peak of the total as the chart draws it (totals.h); a
	 * file of CHLD lines alone peaks with its largest child. */
	sqlite3_bind_int64(w->st[ST_RUN_END], 4, p->ser[0].n && p->nser == 1 ? mem_peak : peak);
	if (step(w->st[ST_RUN_END]))
		goto out;
	if (sqlite3_exec(w->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK)
		err = 0;
out:
	free(command);
	if (err) {
		sqlite3_exec(w->db, "ROLLBACK", NULL, NULL, NULL);
		if (err == -ERANGE)
			cli_error("%s:%ld: more than %d samples of one process at the same "
				  "time (mprof's times have 0.1 ms steps)",
				  p->path, bad_line, DUP_MAX);
		else if (err == -ENOMEM)
			cli_error("%s: out of memory", p->path);
		else
			cli_error("cannot import '%s': %s", p->path, sqlite3_errmsg(w->db));
	}
	return err;
}

/* "X_ts.dat" for "X.dat" (malloc'd), or NULL. */
static char *ts_name(const char *path)
{
	size_t n = strlen(path);
	char *s;

	if (!text_ends_with(path, strlen(path), ".dat") || text_ends_with(path, strlen(path), "_ts.dat"))
		return NULL;
	if (!(s = malloc(n + 4)))
		return NULL;
	memcpy(s, path, n - 4);
	memcpy(s + n - 4, "_ts.dat", 8);
	return s;
}

static int listed(char **files, int n, const char *path)
{
	for (int i = 0; i < n; i++)
		if (strcmp(files[i], path) == 0)
			return 1;
	return 0;
}

/* Imports one file (with its old _ts.dat companion, if any). */
static int import_one(struct writer *w, const char *path, const struct opts *o)
{
	struct parsed p = {.path = path};
	char *ts = ts_name(path);
	int64_t run = 0;
	int err;

	if ((err = parse_file(&p)))
		goto out;
	if (p.samples == 0) {
		if (p.ts_lines && text_ends_with(path, strlen(path), "_ts.dat"))
			cli_error("%s: an old mprof timestamp file (function start and end "
				  "times, no memory): import the .dat file it belongs to, "
				  "which picks it up", path);
		else
			cli_error("%s: no memory samples (MEM or CHLD lines): not an mprof "
				  "file, or the program ended before the first sample", path);
		err = -EINVAL;
		goto out;
	}
	if (ts && access(ts, F_OK) == 0) {
		if (!(p.ts = calloc(1, sizeof *p.ts))) {
			err = -ENOMEM;
			goto out;
		}
		p.ts->path = ts;
		if ((err = parse_file(p.ts)))
			goto out;
		if (p.ts->samples) {
			cli_error("%s: memory samples in a timestamp file", ts);
			err = -EINVAL;
			goto out;
		}
	}
	sort_series(&p);
	if ((err = write_run(w, &p, o, &run)))
		goto out;
	if (!o->quiet)
		printf("%s: run %lld, %zu sample%s, %zu process%s, %zu marker%s%s%s\n",
		       path, (long long)run, p.samples, p.samples == 1 ? "" : "s",
		       p.nser - (p.ser[0].n == 0),
		       p.nser - (p.ser[0].n == 0) == 1 ? "" : "es",
		       p.nfn + (p.ts ? p.ts->nfn : 0),
		       p.nfn + (p.ts ? p.ts->nfn : 0) == 1 ? "" : "s",
		       p.ts ? " (with " : "", p.ts ? "its _ts.dat)" : "");
out:
	parsed_free(&p);
	free(ts);
	return err;
}

static const char usage[] =
	"Usage: memtide import [--db PATH] [--label TEXT] [-q] FILE.dat...\n"
	"Import mprof files: each becomes a run (kind \"import\") that list, plot,\n"
	"export and SQL see.  CMDLINE, MEM, CHLD and FUNC lines in any order; an\n"
	"old mprofile_*.dat brings its mprofile_*_ts.dat along.  A malformed line\n"
	"is reported as FILE:LINE and nothing of that file is imported.\n"
	"\n"
	"      --db PATH     database (default $MEMTIDE_DB, else\n"
	"                    $XDG_DATA_HOME/memtide/memtide.db)\n"
	"      --label TEXT  the runs' label (default: the file's name)\n"
	"  -q, --quiet       print nothing when all goes well\n"
	"  -h, --help        this help\n";

int cli_import_files(const char *db, const char *label, int quiet, char **files,
		     int n)
{
	struct opts o = {.db = db, .label = label, .quiet = quiet};
	struct writer w = {0};
	struct store *s;
	int failed = 0;

	if (!(s = cli_open_store(o.db, STORE_WRITE)))
		return EXIT_FAIL;
	w.store = s;
	w.db = store_db(s);
	/* One big transaction a file: a larger cache than the recorder's
	 * keeps the b-tree pages of a million rows out of the spill path. */
	sqlite3_exec(w.db, "PRAGMA cache_size = -65536", NULL, NULL, NULL);
	for (int i = 0; i < ST_N; i++) {
		char *many = i == ST_SAMPLES ? samples_sql() : NULL;
		int rc = sqlite3_prepare_v3(w.db, many ? many : sql[i], -1,
					    SQLITE_PREPARE_PERSISTENT, &w.st[i], NULL);

		free(many);
		if (rc != SQLITE_OK) {
			cli_error("cannot import: %s", sqlite3_errmsg(w.db));
			failed = 1;
			goto out;
		}
	}
	for (int i = 0; i < n; i++) {
		char *base = NULL;

		/* "X_ts.dat" comes along with "X.dat" when both are named. */
		if (text_ends_with(files[i], strlen(files[i]), "_ts.dat")) {
			size_t len = strlen(files[i]);

			if ((base = strdup(files[i]))) {
				memcpy(base + len - 7, ".dat", 5);
				if (listed(files, n, base)) {
					free(base);
					continue;
				}
			}
			free(base);
		}
		if (import_one(&w, files[i], &o))
			failed = 1;
	}
out:
	for (int i = 0; i < ST_N; i++)
		sqlite3_finalize(w.st[i]);
	store_close(s);
	return failed ? EXIT_FAIL : EXIT_OK;
}

int cmd_import(int argc, char **argv)
{
	static const struct option opts[] = {
		{"db", required_argument, NULL, 'd'},
		{"label", required_argument, NULL, 'l'},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct opts o = {0};
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":qh", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			o.db = optarg;
			break;
		case 'l':
			o.label = optarg;
			break;
		case 'q':
			o.quiet = 1;
			break;
		case 'h':
			fputs(usage, stdout);
			return EXIT_OK;
		default:
			return cli_option_error("import", c, argv);
		}
	}
	if (optind >= argc) {
		cli_error("import needs at least one mprof file");
		return cli_usage_error("import");
	}
	return cli_import_files(o.db, o.label, o.quiet, argv + optind, argc - optind);
}
