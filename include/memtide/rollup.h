/* rollup.h - retention of memtided's history: raw samples into per-minute
 * rollups, rollups out after their own retention.
 *
 * Only runs of kind "daemon" are touched: what a user recorded with
 * memtide run stays as recorded.  Each call does a bounded amount of work in
 * one transaction, so the writer never holds the database for long; call
 * again until it reports nothing left.  A minute split across two calls is
 * merged (counts add, means weighted by count, min/max combined).
 */
#ifndef MEMTIDE_ROLLUP_H
#define MEMTIDE_ROLLUP_H

#include <stddef.h>
#include <stdint.h>

#include "memtide/store.h"

/* Moves up to max_rows raw samples of daemon runs older than cutoff (Unix
 * seconds, rounded down to a whole minute) into the rollup table, deleting
 * them and their sample_mem rows.  *moved receives how many were moved (0:
 * nothing older is left).  Returns 0 or a negative store code. */
int rollup_samples(struct store *s, double cutoff, size_t max_rows, size_t *moved);

/* Deletes up to max_rows rollups of daemon runs for minutes before cutoff
 * (Unix seconds), then the processes that ended before it and have nothing
 * left.  *deleted receives the rollups deleted.  Returns 0 or a negative
 * store code. */
int rollup_expire(struct store *s, double cutoff, size_t max_rows, size_t *deleted);

#endif
