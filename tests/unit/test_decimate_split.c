/* test_decimate_split.c - a window of many samples is read in two halves
 * at once and merged (plot/data.c): the decimation must be the one a single
 * pass over every sample gives, per process and for the total. */
#include "harness.h"

#include "decimate_same.h"

#include "../../plot/data.h"
#include "../../plot/decimate.h"
#include "memtide/store.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { TICKS = 160000, B_FROM = 40000, B_TO = 130000 };

/* Process a's pages at tick t: noise, and a spike on each side of the
 * middle tick, where a whole run's read splits. */
static int64_t pages_a(int64_t t)
{
	if (t == TICKS / 2 - 1 || t == TICKS / 2)
		return 90000;
	return 20000 + t * 7919 % 3001;
}

/* Process b lives for ticks [B_FROM, B_TO) and misses every ninth one. */
static int has_b(int64_t t)
{
	return t >= B_FROM && t < B_TO && t % 9 != 0;
}

static int64_t pages_b(int64_t t)
{
	return 5000 + t * 104729 % 1999;
}

/* Writes the run of processes a and b to a new database at path. */
static int write_run(const char *path)
{
	struct store_run r = {.kind = "run", .command = "python3 split.py",
			      .started = 1700000000.0, .interval = 0.01,
			      .page_size = 4096, .backend = "rss"};
	struct store_proc pa = {.pid = 100, .ppid = 1, .start_ticks = 1};
	struct store_proc pb = {.pid = 101, .ppid = 100, .start_ticks = 2,
				.first_tick = B_FROM};
	struct store_sample v[2 * 4000];
	struct store *s = NULL;
	int64_t run, a, b;
	int err;

	if ((err = store_open(path, STORE_WRITE, &s)) ||
	    (err = store_run_begin(s, &r, &run)))
		goto out;
	pa.run = pb.run = run;
	if ((err = store_proc_add(s, &pa, &a)) ||
	    (err = store_proc_add(s, &pb, &b)))
		goto out;
	for (int64_t t0 = 0; t0 < TICKS && !err; t0 += 4000) {
		size_t n = 0;

		for (int64_t t = t0; t < t0 + 4000; t++) {
			v[n++] = (struct store_sample){a, t, pages_a(t), 0, 1,
						       -1, -1, -1};
			if (has_b(t))
				v[n++] = (struct store_sample){
					b, t, pages_b(t), 0, 1, -1, -1, -1};
		}
		err = store_append(s, run, v, n);
	}
	if (!err)
		err = store_run_end(s, run, 1700001600.0, 0, -1);
out:
	store_close(s);
	return err;
}

/* Reads window [x0, x1] of the only run in path through data_run_read()
 * and checks it against decimators fed every sample data.c reads, in one
 * pass: its ticks [lo, hi], one beyond the window on each side. */
static int check_window(const char *path, double x0, double x1, size_t ncols)
{
	struct store *s = NULL;
	struct data_run r = {0};
	struct decimate got[3], want[3];
	struct decimate *per[2] = {&got[0], &got[1]};
	int64_t lo = (int64_t)floor(x0 / 0.01) - 1;
	int64_t hi = (int64_t)ceil(x1 / 0.01) + 1;
	int ok = 0;

	lo = lo < 0 ? 0 : lo;
	hi = hi > TICKS - 1 ? TICKS - 1 : hi;
	for (int i = 0; i < 3; i++) {
		decimate_init(&got[i], x0, x1, ncols, 1, 0);
		decimate_init(&want[i], x0, x1, ncols, 1, 0);
	}
	for (int64_t t = lo; t <= hi; t++) {
		double x = (double)t * 0.01, sum = (double)pages_a(t);

		decimate_add(&want[0], x, (double)pages_a(t) * 4096);
		if (has_b(t)) {
			decimate_add(&want[1], x, (double)pages_b(t) * 4096);
			sum += (double)pages_b(t);
		}
		decimate_add(&want[2], x, sum * 4096);
	}
	if (store_open(path, STORE_READ, &s) == 0 &&
	    data_run_load(store_db(s), 1, &r) == 0 && r.nprocs == 2 &&
	    data_run_read(store_db(s), &r, x0, x1, per, &got[2]) == 0)
		ok = decimate_same(&got[0], &want[0]) && decimate_same(&got[1], &want[1]) &&
		     decimate_same(&got[2], &want[2]) && got[0].vmax == 90000.0 * 4096;
	data_run_free(&r);
	store_close(s);
	for (int i = 0; i < 3; i++) {
		decimate_free(&got[i]);
		decimate_free(&want[i]);
	}
	return ok;
}

TEST(decimate_split_read_equals_one_pass)
{
	static const char *const ext[] = {"", "-wal", "-shm"};
	char dir[] = "/tmp/memtide-unit-split-XXXXXX", path[64];

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof path, "%s/split.db", dir);
	CHECK_EQ_INT(write_run(path), 0);
	/* The whole run, then a window that keeps neighbours on both sides
	 * and still holds enough samples to be split. */
	CHECK(check_window(path, 0, (TICKS - 1) * 0.01, 1117));
	CHECK(check_window(path, 250.005, 1350.5, 997));
	for (size_t i = 0; i < sizeof ext / sizeof *ext; i++) {
		char f[80];

		snprintf(f, sizeof f, "%s%s", path, ext[i]);
		unlink(f);
	}
	rmdir(dir);
}
