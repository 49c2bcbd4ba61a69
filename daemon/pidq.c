/* pidq.c - processes waiting for a moment to come (see daemon.h).  Few
 * wait at once (a storm of a thousand forks a second has ten in a 10 ms
 * wait), so a lookup is a scan. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"

int pidq_put(struct pidq *q, struct pidq_entry e)
{
	if (q->n == PIDQ_MAX)
		return -ENOSPC;
	if (q->n == q->cap) {
		size_t cap = q->cap ? q->cap * 2 : 64;
		struct pidq_entry *v = realloc(q->v, cap * sizeof *v);

		if (!v)
			return -ENOMEM;
		q->v = v;
		q->cap = cap;
	}
	q->v[q->n++] = e;
	return 0;
}

static void take_at(struct pidq *q, size_t i, struct pidq_entry *out)
{
	*out = q->v[i];
	memmove(&q->v[i], &q->v[i + 1], (q->n - i - 1) * sizeof *q->v);
	q->n--;
}

int pidq_take(struct pidq *q, int pid, struct pidq_entry *out)
{
	for (size_t i = 0; i < q->n; i++)
		if (q->v[i].pid == pid) {
			take_at(q, i, out);
			return 1;
		}
	return 0;
}

int pidq_due(struct pidq *q, int64_t now_ns, struct pidq_entry *out)
{
	for (size_t i = 0; i < q->n; i++)
		if (q->v[i].due_ns <= now_ns) {
			take_at(q, i, out);
			return 1;
		}
	return 0;
}

int64_t pidq_next_due(const struct pidq *q)
{
	int64_t due = INT64_MAX;

	for (size_t i = 0; i < q->n; i++)
		if (q->v[i].due_ns < due)
			due = q->v[i].due_ns;
	return due;
}

void pidq_free(struct pidq *q)
{
	free(q->v);
	*q = (struct pidq){0};
}
