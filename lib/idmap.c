/* idmap.c - int64 hash map (see include/memtide/idmap.h). */
#include "memtide/idmap.h"

#include <errno.h>
#include <stdlib.h>

static size_t slot(const struct idmap *m, int64_t key)
{
	uint64_t h = (uint64_t)key * 0x9e3779b97f4a7c15ULL;

	return (size_t)(h >> 17) & (m->cap - 1);
}

static int grow(struct idmap *m)
{
	struct idmap big = {0};
	size_t cap = m->cap ? m->cap * 2 : 64;

	big.keys = calloc(cap, sizeof *big.keys);
	big.vals = calloc(cap, sizeof *big.vals);
	if (!big.keys || !big.vals) {
		free(big.keys);
		free(big.vals);
		return -ENOMEM;
	}
	big.cap = cap;
	for (size_t i = 0; i < m->cap; i++)
		if (m->keys[i])
			idmap_put(&big, m->keys[i], m->vals[i]);
	idmap_free(m);
	*m = big;
	return 0;
}

int idmap_put(struct idmap *m, int64_t key, int64_t val)
{
	size_t i;

	if (!key)
		return -EINVAL;
	if ((m->n + 1) * 2 > m->cap && grow(m))
		return -ENOMEM;
	for (i = slot(m, key); m->keys[i] && m->keys[i] != key; i = (i + 1) & (m->cap - 1))
		;
	if (!m->keys[i])
		m->n++;
	m->keys[i] = key;
	m->vals[i] = val;
	return 0;
}

int idmap_get(const struct idmap *m, int64_t key, int64_t *val)
{
	if (!m->cap || !key)
		return 0;
	for (size_t i = slot(m, key); m->keys[i]; i = (i + 1) & (m->cap - 1))
		if (m->keys[i] == key) {
			if (val)
				*val = m->vals[i];
			return 1;
		}
	return 0;
}

int idmap_del(struct idmap *m, int64_t key)
{
	size_t i, j, mask = m->cap - 1;

	if (!m->cap || !key)
		return 0;
	for (i = slot(m, key); m->keys[i] != key; i = (i + 1) & mask)
		if (!m->keys[i])
			return 0;
	/* Backward shift: pull later entries of the probe run into the hole
	 * when their home slot does not lie between the hole and them. */
	for (j = i;;) {
		size_t home;

		m->keys[i] = 0;
		for (;;) {
			j = (j + 1) & mask;
			if (!m->keys[j]) {
				m->n--;
				return 1;
			}
			home = slot(m, m->keys[j]);
			if (i <= j ? (home <= i || home > j) : (home <= i && home > j))
				break;
		}
		m->keys[i] = m->keys[j];
		m->vals[i] = m->vals[j];
		i = j;
	}
}

void idmap_free(struct idmap *m)
{
	free(m->keys);
	free(m->vals);
	m->keys = m->vals = NULL;
	m->cap = m->n = 0;
}

int idmap_next(const struct idmap *m, size_t *i, int64_t *key, int64_t *val)
{
	for (; *i < m->cap; (*i)++)
		if (m->keys[*i]) {
			*key = m->keys[*i];
			if (val)
				*val = m->vals[*i];
			(*i)++;
			return 1;
		}
	return 0;
}
