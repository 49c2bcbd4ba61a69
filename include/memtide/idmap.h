/* idmap.h - a hash map from int64 keys to int64 values, for memtided's
 * pid table and its local-to-database process ids.
 *
 * Open addressing with linear probing and backward-shift deletion: no
 * tombstones, so a map that churns through millions of short-lived pids
 * stays as small as what it holds.  Key 0 is reserved (never stored).
 */
#ifndef MEMTIDE_IDMAP_H
#define MEMTIDE_IDMAP_H

#include <stddef.h>
#include <stdint.h>

struct idmap {
	int64_t *keys, *vals;
	size_t cap, n; /* cap: a power of two, or 0 */
};

/* Sets key (!= 0) to val.  Returns 0 or -ENOMEM. */
int idmap_put(struct idmap *m, int64_t key, int64_t val);
/* Returns 1 and *val when key is present, else 0.  val may be NULL. */
int idmap_get(const struct idmap *m, int64_t key, int64_t *val);
/* Removes key; returns 1 if it was present. */
int idmap_del(struct idmap *m, int64_t key);
void idmap_free(struct idmap *m);

/* Iteration: for (size_t i = 0; idmap_next(m, &i, &k, &v);) visits every
 * entry once, provided the map is not changed meanwhile. */
int idmap_next(const struct idmap *m, size_t *i, int64_t *key, int64_t *val);

#endif
