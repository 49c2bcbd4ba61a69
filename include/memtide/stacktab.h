/* stacktab.h - Python call stacks interned in memory, each frame and each
 * stack once.
 *
 * A stack is a chain of nodes, as in the store's stack table: a node is its
 * innermost frame plus the node of its caller (0 for none), so stacks that
 * share their outer frames share nodes, and a stack is one small integer.
 * Frames are (function, file, line), compared by content: two readers (two
 * processes) running the same code share them.  Ids are 1-based and stable;
 * 0 is "no stack".  The table only grows (a steady program reuses its ids).
 */
#ifndef MEMTIDE_STACKTAB_H
#define MEMTIDE_STACKTAB_H

#include <stddef.h>
#include <stdint.h>

struct stacktab;

struct stacktab_frame {
	char *function, *file; /* owned by the table */
	int line;
	int64_t db_id; /* frame.id once stored (the caller sets it), else 0 */
};

struct stacktab_node {
	uint32_t parent; /* the caller's node, 0 for an outermost frame */
	uint32_t frame;
	int depth;       /* 1 for an outermost frame */
	int64_t db_id;   /* stack.id once stored (the caller sets it), else 0 */
};

int stacktab_new(struct stacktab **out);
void stacktab_free(struct stacktab *t);

/* Interns the stack of n frames given innermost first as parallel arrays
 * (function, file, line); *id receives its node (0 when n == 0).  Returns 0
 * or -ENOMEM. */
int stacktab_intern(struct stacktab *t, const char *const *function,
		    const char *const *file, const int *line, int n,
		    uint32_t *id);

/* The node or frame of an id (valid until the next intern), NULL when the
 * id is 0 or unknown. */
struct stacktab_node *stacktab_node(struct stacktab *t, uint32_t id);
struct stacktab_frame *stacktab_frame(struct stacktab *t, uint32_t id);

/* Bytes the table holds. */
size_t stacktab_memory(const struct stacktab *t);

#endif
