/* forks.c - forks waiting for their exec before they are judged (see
 * daemon.h).  A queue in arrival order: few wait at once (a storm of a
 * thousand forks a second has five in a 5 ms wait), so a lookup is a
 * scan. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"

int forks_put(struct forks *f, int pid, int follows, int64_t now_ns)
{
	if (f->n == FORKS_MAX)
		return -ENOSPC;
	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 64;
		struct fork_wait *v = realloc(f->v, cap * sizeof *v);

		if (!v)
			return -ENOMEM;
		f->v = v;
		f->cap = cap;
	}
	f->v[f->n++] = (struct fork_wait){pid, follows, now_ns};
	return 0;
}

static void take_at(struct forks *f, size_t i, struct fork_wait *out)
{
	*out = f->v[i];
	memmove(&f->v[i], &f->v[i + 1], (f->n - i - 1) * sizeof *f->v);
	f->n--;
}

int forks_take(struct forks *f, int pid, struct fork_wait *out)
{
	for (size_t i = 0; i < f->n; i++)
		if (f->v[i].pid == pid) {
			take_at(f, i, out);
			return 1;
		}
	return 0;
}

int forks_due(struct forks *f, int64_t now_ns, struct fork_wait *out)
{
	if (!f->n || now_ns - f->v[0].at_ns < FORKS_WAIT_NS)
		return 0;
	take_at(f, 0, out);
	return 1;
}

int64_t forks_next_due(const struct forks *f)
{
	return f->n ? f->v[0].at_ns + FORKS_WAIT_NS : INT64_MAX;
}

void forks_free(struct forks *f)
{
	free(f->v);
	*f = (struct forks){0};
}
