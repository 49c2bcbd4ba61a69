/* stackstore.h - writing Python frames, stacks and charges (schema v5,
 * store.h: frame, stack, charge, proc.stacks, proc.peak_stack).
 *
 * Prepared statements kept for a writer that stores charges all day.  Calls
 * run inside the caller's transaction (store_begin) or each in its own.
 * Errors: 0 or a negative errno-like code; sqlite3_errmsg(store_db(s))
 * describes the last one.
 */
#ifndef MEMTIDE_STACKSTORE_H
#define MEMTIDE_STACKSTORE_H

#include <stddef.h>
#include <stdint.h>

struct store;
struct stackstore;

int stackstore_open(struct store *s, struct stackstore **out);
void stackstore_close(struct stackstore *w);

/* frame.id of (function, file, line), added when missing. */
int stackstore_frame(struct stackstore *w, const char *function,
		     const char *file, int line, int64_t *id);
/* stack.id of the frame called from the stack parent (0: outermost) at
 * depth (1 for an outermost frame), added when missing. */
int stackstore_stack(struct stackstore *w, int64_t parent, int64_t frame,
		     int depth, int64_t *id);
/* Adds n stack samples and grown/released bytes to charge (proc, tick,
 * stack), creating the row when missing. */
int stackstore_charge(struct stackstore *w, int64_t proc, int64_t tick,
		      int64_t stack, int64_t n, int64_t grown, int64_t released);
/* Sets proc.stacks ("CPython 3.11.2", or why there are none). */
int stackstore_proc_stacks(struct stackstore *w, int64_t proc, const char *text);
/* Deletes at most max_rows charges older than cutoff (Unix seconds: the
 * time of their tick), in one statement of the caller's choosing; memtided
 * keeps them as long as raw samples.  *deleted receives how many.
 * Returns 0 or a negative code. */
int stackstore_expire(struct store *s, double cutoff, size_t max_rows,
		      size_t *deleted);
/* Sets proc.peak_stack. */
int stackstore_peak_stack(struct stackstore *w, int64_t proc, int64_t stack);

#endif
