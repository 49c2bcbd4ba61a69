/* test_budget.c - a sender's budget: a flood gets the burst, then the rate,
 * whichever of messages and bytes runs out first. */
#include "harness.h"

#include "memtide/budget.h"

#define S 1000000000LL

static const struct budget_rate rate = {100, 200, 10000, 20000};

/* How many of n + 1 messages of len bytes, sent at equal steps from t0 to
 * t0 + dt_ns, the budget lets through. */
static int taken(struct budget *b, int64_t t0, int64_t dt_ns, int n, size_t len)
{
	int k = 0;

	for (int i = 0; i <= n; i++)
		k += budget_take(b, &rate, t0 + dt_ns * i / n, len);
	return k;
}

TEST(budget_messages)
{
	struct budget b = {0};

	/* 10000 tiny messages in one instant: the burst only. */
	CHECK_EQ_INT(taken(&b, S, 0, 10000, 1), 200);
	/* Then 10 s of flood: 100 a second. */
	CHECK_EQ_INT(taken(&b, S, 10 * S, 100000, 1), 1000);
	/* A quiet minute refills to the burst, no more. */
	CHECK_EQ_INT(taken(&b, 70 * S, 0, 1000, 1), 200);
}

TEST(budget_bytes)
{
	struct budget b = {0};

	/* 3000-byte messages: the bytes run out first (20000 / 3000). */
	CHECK_EQ_INT(taken(&b, S, 0, 100, 3000), 6);
	/* 10 s at 10000 bytes/s: 100000 bytes, plus the 2000 left over. */
	CHECK_EQ_INT(taken(&b, S, 10 * S, 100000, 3000), 34);
	/* A message larger than the whole burst never fits. */
	b = (struct budget){0};
	CHECK_EQ_INT(budget_take(&b, &rate, S, 20001), 0);
	CHECK_EQ_INT(budget_take(&b, &rate, S, 20000), 1);
}
