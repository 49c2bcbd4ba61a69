/* stacks.c - memtided's rules with stacks = yes: their Python processes get
 * their stacks read by one stack sampler (stackwatch.h), keyed by the
 * tracker's local ids; the writer stores the charges with each round.
 *
 * A python just started may not have mapped its libpython yet (a pyenv
 * build): such a process is tried again on the next ticks until it is
 * settled (stackwatch_settled()), and only then said to be unreadable,
 * once, in the log. */
#include "daemon.h"
#include "dstacks.h"

#include "memtide/stackwatch.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>


struct waiting {
	int pid;
	int64_t local;
	double started; /* Unix seconds */
};

struct dstacks {
	struct stackwatch *sw;
	struct waiting *v;
	size_t n, cap;
};

int dstacks_new(struct writer *w, int64_t t0_ns, struct dstacks **out)
{
	struct dstacks *d = calloc(1, sizeof *d);
	int err;

	if (!d)
		return -ENOMEM;
	if ((err = stackwatch_new(t0_ns, CONFIG_TICK_NS, 0, &d->sw))) {
		free(d);
		return err;
	}
	/* A charge row per second and stack: the base tick is 10 ms. */
	stackwatch_set_tick_step(d->sw, 1000000000LL / CONFIG_TICK_NS);
	writer_set_stackwatch(w, d->sw);
	*out = d;
	return 0;
}

/* 1 when done with the process (read, or said to be unreadable). */
static int try_add(struct dstacks *d, int pid, int64_t local, double started)
{
	char why[160];
	int final = stackwatch_settled(started);
	int err = stackwatch_add(d->sw, pid, local, final, why, sizeof why);

	if (err == 0) {
		log_debug("reading the Python stacks of process %d (%s)", pid, why);
		return 1;
	}
	if (err == -ENOTSUP && !final)
		return 0;
	if (err != -ESRCH)
		log_warning("cannot read the Python stacks of process %d: %s; tracking"
			    " it without stacks", pid, why);
	return 1;
}

void dstacks_add(struct dstacks *d, int pid, int64_t local, double started)
{
	struct waiting *v;

	if (try_add(d, pid, local, started))
		return;
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 8;

		if (!(v = realloc(d->v, cap * sizeof *v)))
			return;
		d->v = v;
		d->cap = cap;
	}
	d->v[d->n++] = (struct waiting){pid, local, started};
}

void dstacks_retry(struct dstacks *d)
{
	size_t keep = 0;

	for (size_t i = 0; i < d->n; i++)
		if (!try_add(d, d->v[i].pid, d->v[i].local, d->v[i].started))
			d->v[keep++] = d->v[i];
	d->n = keep;
}

void dstacks_end(struct dstacks *d, int64_t local)
{
	size_t keep = 0;

	for (size_t i = 0; i < d->n; i++)
		if (d->v[i].local != local)
			d->v[keep++] = d->v[i];
	d->n = keep;
	stackwatch_end(d->sw, local);
}

void dstacks_stop(struct dstacks *d)
{
	struct stackwatch_stats s;

	stackwatch_stop(d->sw);
	stackwatch_stats(d->sw, &s);
	if (s.samples)
		log_info("stacks: %lld samples, %.1f us CPU each", (long long)s.samples,
			 (double)s.cpu_ns / 1e3 / (double)s.samples);
}

void dstacks_free(struct dstacks *d)
{
	if (!d)
		return;
	stackwatch_free(d->sw);
	free(d->v);
	free(d);
}
