/* stacktab.c - see stacktab.h.  Two open-addressing hash tables of indexes
 * into two growing arrays; nothing is ever removed. */
#include "memtide/stacktab.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct hash {
	uint32_t *slot; /* index + 1, 0 empty */
	size_t cap;     /* a power of two */
};

struct stacktab {
	struct stacktab_frame *frame;
	size_t nframe, frame_cap;
	struct stacktab_node *node;
	size_t nnode, node_cap;
	struct hash fh, nh;
	size_t bytes; /* strings */
};

static uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
	return h;
}

static uint64_t hash_str(uint64_t h, const char *s)
{
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return h;
}

static uint64_t frame_hash(const char *function, const char *file, int line)
{
	return mix(hash_str(hash_str(0xcbf29ce484222325ULL, function), file),
		   (uint64_t)(unsigned)line);
}

static uint64_t node_hash(uint32_t parent, uint32_t frame)
{
	return mix(mix(0x84222325ULL, parent), frame);
}

int stacktab_new(struct stacktab **out)
{
	struct stacktab *t = calloc(1, sizeof *t);

	if (!t)
		return -ENOMEM;
	*out = t;
	return 0;
}

void stacktab_free(struct stacktab *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nframe; i++) {
		free(t->frame[i].function);
		free(t->frame[i].file);
	}
	free(t->frame);
	free(t->node);
	free(t->fh.slot);
	free(t->nh.slot);
	free(t);
}

static uint64_t frame_key(const struct stacktab *t, uint32_t i)
{
	const struct stacktab_frame *f = &t->frame[i];

	return frame_hash(f->function, f->file, f->line);
}

static uint64_t node_key(const struct stacktab *t, uint32_t i)
{
	return node_hash(t->node[i].parent, t->node[i].frame);
}

/* Grows h to hold count + 1 entries at most half full, rehashing with key. */
static int hash_reserve(struct stacktab *t, struct hash *h, size_t count,
			uint64_t (*key)(const struct stacktab *, uint32_t))
{
	size_t cap = h->cap ? h->cap : 64;
	uint32_t *slot;

	if ((count + 1) * 2 <= h->cap)
		return 0;
	while ((count + 1) * 2 > cap)
		cap *= 2;
	if (!(slot = calloc(cap, sizeof *slot)))
		return -ENOMEM;
	for (size_t i = 0; i < h->cap; i++) {
		size_t j;

		if (!h->slot[i])
			continue;
		j = key(t, h->slot[i] - 1) & (cap - 1);
		while (slot[j])
			j = (j + 1) & (cap - 1);
		slot[j] = h->slot[i];
	}
	free(h->slot);
	h->slot = slot;
	h->cap = cap;
	return 0;
}

static int grow(void **v, size_t *cap, size_t n, size_t size)
{
	void *p;
	size_t c;

	if (n < *cap)
		return 0;
	c = *cap ? *cap * 2 : 64;
	if (!(p = realloc(*v, c * size)))
		return -ENOMEM;
	*v = p;
	*cap = c;
	return 0;
}

static int intern_frame(struct stacktab *t, const char *function,
			const char *file, int line, uint32_t *id)
{
	size_t j;
	struct stacktab_frame *f;

	function = function ? function : "?";
	file = file ? file : "?";
	if (hash_reserve(t, &t->fh, t->nframe, frame_key))
		return -ENOMEM;
	j = frame_hash(function, file, line) & (t->fh.cap - 1);
	for (; t->fh.slot[j]; j = (j + 1) & (t->fh.cap - 1)) {
		f = &t->frame[t->fh.slot[j] - 1];
		if (f->line == line && strcmp(f->function, function) == 0 &&
		    strcmp(f->file, file) == 0) {
			*id = t->fh.slot[j];
			return 0;
		}
	}
	if (grow((void **)&t->frame, &t->frame_cap, t->nframe, sizeof *t->frame))
		return -ENOMEM;
	f = &t->frame[t->nframe];
	f->function = strdup(function);
	f->file = strdup(file);
	if (!f->function || !f->file) {
		free(f->function);
		free(f->file);
		return -ENOMEM;
	}
	f->line = line;
	f->db_id = 0;
	t->bytes += strlen(function) + strlen(file) + 2;
	t->fh.slot[j] = (uint32_t)++t->nframe;
	*id = (uint32_t)t->nframe;
	return 0;
}

static int intern_node(struct stacktab *t, uint32_t parent, uint32_t frame,
		       uint32_t *id)
{
	size_t j;
	struct stacktab_node *n;

	if (hash_reserve(t, &t->nh, t->nnode, node_key))
		return -ENOMEM;
	j = node_hash(parent, frame) & (t->nh.cap - 1);
	for (; t->nh.slot[j]; j = (j + 1) & (t->nh.cap - 1)) {
		n = &t->node[t->nh.slot[j] - 1];
		if (n->parent == parent && n->frame == frame) {
			*id = t->nh.slot[j];
			return 0;
		}
	}
	if (grow((void **)&t->node, &t->node_cap, t->nnode, sizeof *t->node))
		return -ENOMEM;
	n = &t->node[t->nnode];
	n->parent = parent;
	n->frame = frame;
	n->depth = parent ? t->node[parent - 1].depth + 1 : 1;
	n->db_id = 0;
	t->nh.slot[j] = (uint32_t)++t->nnode;
	*id = (uint32_t)t->nnode;
	return 0;
}

int stacktab_intern(struct stacktab *t, const char *const *function,
		    const char *const *file, const int *line, int n,
		    uint32_t *id)
{
	uint32_t node = 0;

	/* Outermost first: each node needs its caller's id. */
	for (int i = n - 1; i >= 0; i--) {
		uint32_t f;
		int err;

		if ((err = intern_frame(t, function[i], file[i], line[i], &f)) ||
		    (err = intern_node(t, node, f, &node)))
			return err;
	}
	*id = node;
	return 0;
}

struct stacktab_node *stacktab_node(struct stacktab *t, uint32_t id)
{
	return id && id <= t->nnode ? &t->node[id - 1] : NULL;
}

struct stacktab_frame *stacktab_frame(struct stacktab *t, uint32_t id)
{
	return id && id <= t->nframe ? &t->frame[id - 1] : NULL;
}

size_t stacktab_memory(const struct stacktab *t)
{
	return sizeof *t + t->bytes + t->frame_cap * sizeof *t->frame +
	       t->node_cap * sizeof *t->node +
	       (t->fh.cap + t->nh.cap) * sizeof(uint32_t);
}
