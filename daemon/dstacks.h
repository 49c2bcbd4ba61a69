/* dstacks.h - memtided's Python stacks (daemon/stacks.c). */
#ifndef MEMTIDED_DSTACKS_H
#define MEMTIDED_DSTACKS_H

#include <stdint.h>

struct writer;
struct dstacks;

/* Starts the stack sampler on the daemon run's base ticks (t0_ns,
 * CONFIG_TICK_NS) and hands it to the writer.  Returns 0 or -errno. */
int dstacks_new(struct writer *w, int64_t t0_ns, struct dstacks **out);
/* Reads the stacks of pid (local id local, started at Unix time started),
 * now or on a later dstacks_retry(). */
void dstacks_add(struct dstacks *d, int pid, int64_t local, double started);
/* Tries again the processes still waiting (each tick). */
void dstacks_retry(struct dstacks *d);
/* The process is no longer tracked. */
void dstacks_end(struct dstacks *d, int64_t local);
/* No more samples; what is pending is charged (before the last round). */
void dstacks_stop(struct dstacks *d);
void dstacks_free(struct dstacks *d);

#endif
