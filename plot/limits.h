/* limits.h - the memory limit over the processes of a chart, drawn as a
 * line on its memory panel: the cgroup limits memtide recorded (proc_limit,
 * schema v5), each from when it was seen until its process ended. */
#ifndef MEMTIDE_PLOT_LIMITS_H
#define MEMTIDE_PLOT_LIMITS_H

#include "chart.h"
#include "data.h"

struct sqlite3;

/* Adds a "memory limit" series to c for the processes of r that had one
 * (none: c is left as it is).  absolute: c's x is Unix seconds, else
 * seconds since r->started.  Returns 0 or -ENOMEM / -EIO. */
int limits_add(struct chart *c, struct sqlite3 *db, const struct data_run *r,
	       int absolute);

#endif
