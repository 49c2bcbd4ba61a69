/* test_idmap.c - the pid / id hash map under churn: deletions leave no
 * stale entries and every key stays reachable. */
#include "harness.h"

#include "memtide/idmap.h"

TEST(idmap_churn)
{
	struct idmap m = {0};
	int64_t v = 0, k;
	size_t i = 0, n = 0;

	for (int64_t key = 1; key <= 5000; key++)
		CHECK_EQ_INT(idmap_put(&m, key * 7, key), 0);
	for (int64_t key = 1; key <= 5000; key += 2)
		CHECK_EQ_INT(idmap_del(&m, key * 7), 1);
	CHECK_EQ_INT(idmap_del(&m, 7), 0);
	CHECK_EQ_INT(m.n, 2500);
	for (int64_t key = 1; key <= 5000; key++) {
		int has = idmap_get(&m, key * 7, &v);

		CHECK_EQ_INT(has, key % 2 == 0);
		if (has)
			CHECK_EQ_INT(v, key);
	}
	while (idmap_next(&m, &i, &k, &v))
		n++;
	CHECK_EQ_INT(n, 2500);
	CHECK_EQ_INT(idmap_put(&m, 0, 1), -22);
	idmap_free(&m);
	CHECK_EQ_INT(idmap_get(&m, 14, NULL), 0);
}
