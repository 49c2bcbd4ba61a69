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

#define PROC "tests/fixtures/proc"
#define CGFS "tests/fixtures/fs/sys/fs/cgroup"

/* A Kubernetes container under the systemd driver (cgroup v2): the
 * container's memory.max is tighter than its pod's, memory.high is read,
 * the OOM kills are the container's own (memory.events.local), and the pod
 * UID (underscores back to dashes) and container ID come out of the path. */
TEST(cgroup_read_v2_kubernetes_fixture)
{
	struct cgroup_info ci;

	CHECK_EQ_INT(cgroup_read(PROC, CGFS, 300, &ci), 0);
	CHECK_EQ_INT(ci.v1, 0);
	CHECK(strncmp(ci.path, "/kubepods.slice/", 16) == 0);
	CHECK_EQ_INT(ci.memory_limit, 1073741824);
	CHECK_EQ_INT(ci.memory_high, 805306368);
	CHECK_EQ_INT(ci.oom_kills, 2);
	CHECK_EQ_STR(ci.pod, "0f3e1c52-7a1b-4c8e-9d2f-5b6a7c8d9e01");
	CHECK_EQ_STR(ci.container,
		     "4a5b6c7d8e9f00112233445566778899aabbccddeeff00112233445566778899");
}

/* A systemd service without a limit: no limit, no Kubernetes ids, and the
 * OOM counter read from memory.events. */
TEST(cgroup_read_v2_unlimited_service)
{
	struct cgroup_info ci;

	CHECK_EQ_INT(cgroup_read(PROC, CGFS, 302, &ci), 0);
	CHECK_EQ_STR(ci.path, "/system.slice/shop.service");
	CHECK_EQ_INT(ci.memory_limit, 0);
	CHECK_EQ_INT(ci.memory_high, 0);
	CHECK_EQ_INT(ci.oom_kills, 0);
	CHECK_EQ_STR(ci.pod, "");
	CHECK_EQ_STR(ci.container, "");
	CHECK(cgroup_read(PROC, CGFS, 99999, &ci) < 0);
}

/* cgroup v1 (memory joined with cpu on one hierarchy): limit_in_bytes of
 * the container, the "unlimited" 2^63 - 4096 of its parents ignored, and
 * oom_control's oom_kill counter. */
TEST(cgroup_read_v1_docker_fixture)
{
	struct cgroup_info ci;

	CHECK_EQ_INT(cgroup_read(PROC, CGFS, 301, &ci), 0);
	CHECK_EQ_INT(ci.v1, 1);
	CHECK_EQ_INT(ci.memory_limit, 64 << 20);
	CHECK_EQ_INT(ci.memory_high, 0);
	CHECK_EQ_INT(ci.oom_kills, 1);
	CHECK_EQ_STR(ci.container,
		     "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
	CHECK_EQ_INT(cgroup_memory_limit(PROC, CGFS, 301), 64 << 20);
}

TEST(cgroup_parse_ids_paths)
{
	char pod[64], c[72];

	cgroup_parse_ids("/kubepods/burstable/pod5d0e2f4a-1b2c-4d3e-8f9a-0b1c2d3e4f5a/"
			 "abcdefabcdefabcdefabcdefabcdefabcdefabcdefabcdefabcdefabcdefabcd",
			 pod, sizeof pod, c, sizeof c);
	CHECK_EQ_STR(pod, "5d0e2f4a-1b2c-4d3e-8f9a-0b1c2d3e4f5a");
	CHECK_EQ_STR(c, "abcdefabcdefabcdefabcdefabcdefabcdefabcdefabcdefabcdefabcdefabcd");
	cgroup_parse_ids("/system.slice/kubepods.service", pod, sizeof pod, c, sizeof c);
	CHECK_EQ_STR(pod, "");
	CHECK_EQ_STR(c, "");
	/* 63 hex digits are no ID. */
	cgroup_parse_ids("/docker/abcdefabcdefabcdefabcdefabcdefabcdefabcdefabcdefabcdefabcdefabc",
			 pod, sizeof pod, c, sizeof c);
	CHECK_EQ_STR(c, "");
}
