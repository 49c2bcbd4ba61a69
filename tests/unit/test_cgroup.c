/* test_cgroup.c - the memory limit over a process, from a fake /proc and
 * cgroup tree: the tightest memory.max of the cgroup and its ancestors. */
#include "harness.h"

#include "memtide/cgroup.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void put(const char *dir, const char *file, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, file);
	if ((f = fopen(path, "w"))) {
		fputs(text, f);
		fclose(f);
	}
}

TEST(cgroup_memory_limit_tightest_ancestor)
{
	char root[] = "/tmp/memtide-cgroup-XXXXXX", proc[128], fs[256], d[384];

	CHECK(mkdtemp(root) != NULL);
	snprintf(proc, sizeof proc, "%s/proc", root);
	snprintf(fs, sizeof fs, "%s/cg", root);
	mkdir(proc, 0755);
	mkdir(fs, 0755);
	snprintf(d, sizeof d, "%s/41", proc);
	mkdir(d, 0755);
	/* A hybrid host: v1 lines first, then the v2 one. */
	put(d, "cgroup", "12:memory:/legacy\n0::/system.slice/app.service\n");
	snprintf(d, sizeof d, "%s/42", proc);
	mkdir(d, 0755);
	put(d, "cgroup", "0::/user.slice\n");
	snprintf(d, sizeof d, "%s/system.slice", fs);
	mkdir(d, 0755);
	put(d, "memory.max", "1073741824\n");
	snprintf(d, sizeof d, "%s/system.slice/app.service", fs);
	mkdir(d, 0755);
	put(d, "memory.max", "max\n");
	snprintf(d, sizeof d, "%s/user.slice", fs);
	mkdir(d, 0755);
	put(d, "memory.max", "max\n");

	/* The unit has none of its own: the slice's limit holds. */
	CHECK_EQ_INT(cgroup_memory_limit(proc, fs, 41), 1073741824);
	put(d, "memory.max", "max\n");
	snprintf(d, sizeof d, "%s/system.slice/app.service", fs);
	put(d, "memory.max", "536870912\n");
	CHECK_EQ_INT(cgroup_memory_limit(proc, fs, 41), 536870912);
	CHECK_EQ_INT(cgroup_memory_limit(proc, fs, 42), 0);
	CHECK(cgroup_memory_limit(proc, fs, 43) < 0);
	snprintf(d, sizeof d, "rm -rf '%s'", root);
	CHECK(system(d) == 0);
}
