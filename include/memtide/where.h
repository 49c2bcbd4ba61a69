/* where.h - reading back which Python code grew memory: the charges of a
 * run (store.h: charge, stack, frame) ranked by line or function, the stack
 * at the peak, and whole stacks with their growth (flame graphs, collapsed
 * stacks).  Shared by memtide where/export and memtide-plot.
 *
 * Sizes are bytes of RSS grown and released.  Self counts a charge to the
 * innermost frame only; inclusive to every function or line on the stack,
 * once per stack (a recursive function is not counted twice).  Functions
 * return 0 or an SQLite error code (sqlite3_errmsg() says why).
 */
#ifndef MEMTIDE_WHERE_H
#define MEMTIDE_WHERE_H

#include <stddef.h>
#include <stdint.h>

struct sqlite3;

struct where_query {
	int64_t run;
	int pid;             /* 0: every process of the run */
	double since, until; /* Unix seconds, 0 for no bound */
	int functions;       /* one row per function (line -1) */
	int inclusive;
	int top;             /* rows kept, 0 for all */
};

struct where_row {
	char *function, *file;
	int line; /* -1 with functions */
	int64_t grown, released;
};

struct where_rows {
	struct where_row *row;
	size_t n;
	int64_t total_grown, total_released; /* all charges selected */
};

struct where_frame {
	char *function, *file;
	int line;
};

struct where_peak {
	int pid;
	int64_t rss; /* bytes, the process's sampled peak */
	struct where_frame *frame; /* innermost first */
	size_t n;  /* 0: no stack at the peak recorded */
};

/* Ranks code by bytes grown (then released), largest first. */
int where_rank(struct sqlite3 *db, const struct where_query *q, struct where_rows *out);
void where_rows_free(struct where_rows *w);

/* The stack at the peak of the process with the highest peak among those
 * selected (q->pid, or every process of q->run). */
int where_peak_stack(struct sqlite3 *db, const struct where_query *q,
		     struct where_peak *out);
void where_peak_free(struct where_peak *p);

/* Calls fn for each stack of the selection that grew or released memory,
 * frames outermost first; fn returns 0 to go on. */
typedef int (*where_stack_fn)(void *ctx, const struct where_frame *frames,
			      size_t n, int64_t grown, int64_t released);
int where_stacks(struct sqlite3 *db, const struct where_query *q,
		 where_stack_fn fn, void *ctx);

/* The frames of stack id (stack.id), innermost first, into *frames (free
 * with where_frames_free).  Returns 0 or an SQLite error code. */
int where_stack_frames(struct sqlite3 *db, int64_t stack,
		       struct where_frame **frames, size_t *n);
void where_frames_free(struct where_frame *f, size_t n);

#endif
