/* test_charge.c - charging RSS changes to the stacks around them, and
 * interning stacks. */
#include "harness.h"

#include "memtide/charge.h"
#include "memtide/stacktab.h"

#include <string.h>

#define MiB (1024 * 1024)

/* Sums of grown and released bytes per stack over all rows. */
static void totals(const struct charger *c, uint32_t stack, int64_t *grown,
		   int64_t *released, int64_t *n)
{
	*grown = *released = *n = 0;
	for (size_t i = 0; i < c->nrow; i++)
		if (c->row[i].stack == stack) {
			*grown += c->row[i].grown;
			*released += c->row[i].released;
			*n += c->row[i].n;
		}
}

/* alloc (stack 1) grows 1 MiB per sample for 4 samples between stretches
 * of cpu (stack 2), which grows nothing: the boundaries' changes go to
 * alloc, whose own intervals show growth, not to cpu. */
TEST(charge_boundaries_go_to_the_growing_stack)
{
	struct charger c = {0};
	int64_t rss = 10 * MiB, g, r, n;
	int64_t tick = 0;

	for (int rep = 0; rep < 3; rep++) {
		for (int i = 0; i < 5; i++)
			charger_sample(&c, tick++, rss, 2, 2);
		for (int i = 0; i < 4; i++) {
			rss += MiB;
			charger_sample(&c, tick++, rss, 1, 1);
		}
		rss += MiB / 2; /* the tail of the allocation, seen from cpu */
		charger_sample(&c, tick++, rss, 2, 2);
	}
	charger_sample(&c, tick++, rss, 2, 2);
	charger_finish(&c);
	totals(&c, 1, &g, &r, &n);
	CHECK_EQ_INT(g, 3 * (4 * MiB + MiB / 2));
	CHECK_EQ_INT(n, 12);
	totals(&c, 2, &g, &r, &n);
	CHECK_EQ_INT(g, 0);
	CHECK_EQ_INT(n, 19);
	charger_free(&c);
}

/* With nothing to judge either side by, an ambiguous change is split in
 * halves; a stack seen once (a short call) takes the change from a
 * neighbour seen quiet; release is kept apart from growth. */
TEST(charge_split_and_release)
{
	struct charger c = {0};
	int64_t g, r, n;

	charger_sample(&c, 1, 100, 1, 1);
	charger_sample(&c, 1, 200, 2, 2); /* +100: 1 -> 2, no evidence */
	charger_sample(&c, 2, 40, 3, 3);  /* -160: 2 -> 3 */
	charger_sample(&c, 2, 40, 3, 3);
	charger_finish(&c);
	totals(&c, 1, &g, &r, &n);
	CHECK_EQ_INT(g, 50);
	CHECK_EQ_INT(r, 0);
	totals(&c, 2, &g, &r, &n);
	CHECK_EQ_INT(g, 50);
	CHECK_EQ_INT(r, 160);
	totals(&c, 3, &g, &r, &n);
	CHECK_EQ_INT(r, 0);
	CHECK_EQ_INT(n, 2);
	/* Every byte of change is charged once. */
	{
		int64_t sum_g = 0, sum_r = 0;

		for (size_t i = 0; i < c.nrow; i++) {
			sum_g += c.row[i].grown;
			sum_r += c.row[i].released;
		}
		CHECK_EQ_INT(sum_g, 100);
		CHECK_EQ_INT(sum_r, 160);
	}
	charger_free(&c);
}

/* A change is charged to the tick of the sample that closes it, even when
 * the decision waits for the next sample in a later tick and the rows were
 * taken in between. */
/* A call seen at a single sample between quiet stretches of another stack
 * (a release) gets the changes on both sides of it. */
TEST(charge_short_call_between_quiet_stretches)
{
	struct charger c = {0};
	int64_t g, r, n;

	charger_sample(&c, 1, 100 * MiB, 2, 2);
	charger_sample(&c, 1, 100 * MiB, 2, 2);
	charger_sample(&c, 1, 90 * MiB, 3, 3); /* free() started */
	charger_sample(&c, 2, 40 * MiB, 2, 2); /* and ended */
	charger_sample(&c, 2, 40 * MiB + 4096, 2, 2);
	charger_finish(&c);
	totals(&c, 3, &g, &r, &n);
	CHECK_EQ_INT(r, 60 * MiB);
	totals(&c, 2, &g, &r, &n);
	CHECK_EQ_INT(r, 0);
	CHECK_EQ_INT(g, 4096);
	charger_free(&c);
}

/* A CPU loop alternates between its two lines at every sample: its
 * intervals still show it quiet (same site), so the end of an allocation
 * seen from it goes to the allocating line. */
TEST(charge_loop_lines_are_one_site)
{
	struct charger c = {0};
	int64_t g, r, n;
	int64_t rss = 0;

	for (int i = 0; i < 6; i++)
		charger_sample(&c, 1, rss, 10 + (i & 1), 10); /* cpu, 2 lines */
	rss += MiB;
	charger_sample(&c, 1, rss, 1, 1); /* alloc */
	rss += MiB;
	charger_sample(&c, 1, rss, 1, 1);
	rss += MiB / 4;
	charger_sample(&c, 2, rss, 10, 10);
	for (int i = 0; i < 4; i++)
		charger_sample(&c, 2, rss, 11 - (i & 1), 10);
	charger_finish(&c);
	totals(&c, 1, &g, &r, &n);
	CHECK_EQ_INT(g, 2 * MiB + MiB / 4);
	totals(&c, 10, &g, &r, &n);
	CHECK_EQ_INT(g, 0);
	totals(&c, 11, &g, &r, &n);
	CHECK_EQ_INT(g, 0);
	charger_free(&c);
}

TEST(charge_delayed_to_its_tick)
{
	struct charger c = {0};

	charger_sample(&c, 5, 0, 1, 1);
	charger_sample(&c, 5, 10, 1, 1);
	charger_sample(&c, 5, 30, 2, 2); /* ambiguous, in tick 5 */
	charger_clear(&c);
	charger_sample(&c, 6, 30, 2, 2); /* 2 grew nothing: all of 20 to 1 */
	CHECK_EQ_INT(c.nrow, 2);
	CHECK_EQ_INT(c.row[0].tick, 6);
	CHECK_EQ_INT(c.row[0].n, 1);
	CHECK_EQ_INT(c.row[1].tick, 5);
	CHECK_EQ_INT(c.row[1].stack, 1);
	CHECK_EQ_INT(c.row[1].grown, 20);
	charger_free(&c);
}

/* The sequence of a starved sampler, as traced under load (where_grow.py):
 * cpu() called from main's line 62 (stack 62), 52 ms without a sample in
 * which grow_a() made 4 MiB, then cpu() from line 60 (stack 60); later 52
 * ms from cpu() at 60 to grow_b() (stack 36) seen once as it ended, 8 MiB.
 * Each end was seen quiet in its own intervals, and split halves went to
 * the two cpu() lines, which grew nothing.  Late, ends in different sites:
 * all of it to "not sampled" (99); same stack or same site: as before. */
static void starved(struct charger *c, int mark_late)
{
	int64_t rss = 10 * MiB;

	for (int i = 0; i < 4; i++)
		charger_sample(c, 1, rss, 62, 62);
	if (mark_late)
		charger_late(c);
	rss += 4 * MiB; /* grow_a, unseen */
	for (int i = 0; i < 4; i++)
		charger_sample(c, 2, rss, 60, 60);
	if (mark_late)
		charger_late(c);
	rss += 8 * MiB; /* grow_b, seen at its end */
	charger_sample(c, 3, rss, 36, 36);
	charger_sample(c, 3, rss, 36, 36);
	if (mark_late)
		charger_late(c);
	rss += MiB; /* grow_b again, seen at both ends: its own */
	charger_sample(c, 4, rss, 36, 36);
	charger_sample(c, 4, rss, 60, 60);
	charger_finish(c);
}

TEST(charge_late_interval_is_not_sampled)
{
	struct charger c = {.unsampled_stack = 99};
	int64_t g, r, n;

	starved(&c, 0); /* what was charged before charger_late() */
	totals(&c, 62, &g, &r, &n);
	CHECK_EQ_INT(g, 2 * MiB);
	totals(&c, 60, &g, &r, &n);
	CHECK_EQ_INT(g, 2 * MiB + 4 * MiB);
	charger_free(&c);

	c = (struct charger){.unsampled_stack = 99};
	starved(&c, 1);
	totals(&c, 62, &g, &r, &n);
	CHECK_EQ_INT(g, 0);
	totals(&c, 60, &g, &r, &n);
	CHECK_EQ_INT(g, 0);
	totals(&c, 36, &g, &r, &n);
	CHECK_EQ_INT(g, MiB);
	totals(&c, 99, &g, &r, &n);
	CHECK_EQ_INT(g, 12 * MiB);
	CHECK_EQ_INT(n, 0);
	charger_free(&c);
}

/* Late but in one site (a function's loop, called from one place): the
 * ends are taken to have run all along, and split by their evidence. */
TEST(charge_late_in_one_site_is_split_as_usual)
{
	struct charger c = {.unsampled_stack = 99};
	int64_t g, g2, r, n, rss = 0;

	for (int i = 0; i < 3; i++)
		charger_sample(&c, 1, rss += MiB, 1, 7);
	charger_late(&c);
	charger_sample(&c, 1, rss += 3 * MiB, 2, 7);
	charger_sample(&c, 1, rss += MiB, 2, 7);
	charger_finish(&c);
	totals(&c, 99, &g, &r, &n);
	CHECK_EQ_INT(g, 0);
	totals(&c, 1, &g, &r, &n);
	totals(&c, 2, &g2, &r, &n);
	/* Each grew 1 MiB in its own neighbouring interval: halves of 3. */
	CHECK_EQ_INT(g, 2 * MiB + 3 * MiB / 2);
	CHECK_EQ_INT(g2, 3 * MiB / 2 + MiB);
	charger_free(&c);
}

TEST(stacktab_interns_once)
{
	struct stacktab *t;
	const char *fn[] = {"alloc", "main", "<module>"};
	const char *file[] = {"a.py", "a.py", "a.py"};
	int line[] = {10, 20, 30};
	char name[32];
	uint32_t a, b, c, d;

	CHECK(stacktab_new(&t) == 0);
	CHECK(stacktab_intern(t, fn, file, line, 3, &a) == 0);
	CHECK(stacktab_intern(t, fn, file, line, 3, &b) == 0);
	CHECK_EQ_INT(a, b);
	CHECK_EQ_INT(stacktab_node(t, a)->depth, 3);
	/* The caller's two frames are shared with the deeper stack. */
	CHECK(stacktab_intern(t, fn + 1, file + 1, line + 1, 2, &c) == 0);
	CHECK_EQ_INT(stacktab_node(t, a)->parent, c);
	CHECK_EQ_STR(stacktab_frame(t, stacktab_node(t, a)->frame)->function, "alloc");
	line[0] = 11;
	CHECK(stacktab_intern(t, fn, file, line, 3, &d) == 0);
	CHECK(d != a);
	CHECK_EQ_INT(stacktab_node(t, d)->parent, c);
	/* Enough distinct stacks to rehash both tables. */
	for (int i = 0; i < 500; i++) {
		uint32_t x;

		snprintf(name, sizeof name, "f%d", i);
		fn[0] = name;
		CHECK(stacktab_intern(t, fn, file, line, 3, &x) == 0);
	}
	fn[0] = "alloc";
	line[0] = 10;
	CHECK(stacktab_intern(t, fn, file, line, 3, &b) == 0);
	CHECK_EQ_INT(a, b);
	CHECK(stacktab_intern(t, fn, file, line, 0, &b) == 0);
	CHECK_EQ_INT(b, 0);
	stacktab_free(t);
}
