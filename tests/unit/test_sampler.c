/* test_sampler.c - the sampler over a fixture /proc tree: readings, and a
 * reused pid ending the old series instead of continuing it. */
#include "harness.h"

#include "memtide/sampler.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Copies tests/fixtures/proc/<pid>/{stat,statm,status} into a fresh tree. */
static int copy_fixture(const char *root, int pid)
{
	static const char *const files[] = {"stat", "statm", "status"};
	char src[256], dst[256], buf[4096];

	snprintf(dst, sizeof dst, "%s/%d", root, pid);
	if (mkdir(dst, 0755) < 0)
		return -1;
	for (size_t i = 0; i < 3; i++) {
		FILE *in, *out;
		size_t n;

		snprintf(src, sizeof src, "tests/fixtures/proc/%d/%s", pid, files[i]);
		snprintf(dst, sizeof dst, "%s/%d/%s", root, pid, files[i]);
		if (!(in = fopen(src, "rb")) || !(out = fopen(dst, "wb")))
			return -1;
		n = fread(buf, 1, sizeof buf, in);
		fwrite(buf, 1, n, out);
		fclose(in);
		fclose(out);
	}
	return 0;
}

TEST(sampler_reads_fixture)
{
	char root[] = "/tmp/memtide-proc-XXXXXX";
	struct sampler *s;
	struct sampler_proc *p;
	struct sampler_reading r[4];

	CHECK(mkdtemp(root) != NULL);
	CHECK_EQ_INT(copy_fixture(root, 100), 0);
	CHECK_EQ_INT(sampler_new(root, 0, SAMPLER_RSS, &s), 0);
	CHECK_EQ_INT(sampler_add_root(s, 100, &p), 0);
	CHECK_EQ_INT(p->start_ticks, 85024);
	CHECK_EQ_INT(p->ppid, 1);
	CHECK_EQ_INT(sampler_tick(s, 0, p->last_mono_ns + 100000000, r), 1);
	CHECK_EQ_INT(r[0].rss_pages, 76800);
	CHECK_EQ_INT(r[0].threads, 5);
	CHECK_EQ_INT(r[0].cpu_pm, 0); /* the fixture's CPU time did not move */
	CHECK_EQ_INT(p->first_tick, 0);
	sampler_read_hwm(s);
	CHECK_EQ_INT(p->hwm_kib, 307300);
	CHECK_EQ_INT(sampler_add_root(s, 999, &p), -ESRCH);
	sampler_free(s);
}

TEST(reused_pid_ends_the_series)
{
	char root[] = "/tmp/memtide-proc-XXXXXX", path[256];
	struct sampler *s;
	struct sampler_proc *p;
	struct sampler_reading r[4];
	FILE *f;

	CHECK(mkdtemp(root) != NULL);
	CHECK_EQ_INT(copy_fixture(root, 100), 0);
	CHECK_EQ_INT(sampler_new(root, 0, SAMPLER_RSS, &s), 0);
	CHECK_EQ_INT(sampler_add_root(s, 100, &p), 0);
	CHECK_EQ_INT(sampler_tick(s, 0, p->last_mono_ns + 1000000, r), 1);
	/* Another process now has pid 100: same pid, later start time. */
	snprintf(path, sizeof path, "%s/100/stat", root);
	f = fopen(path, "wb");
	fputs("100 (python3) S 1 1 1 0 -1 0 0 0 0 0 1 1 0 0 20 0 1 0 99999 0 10 0\n", f);
	fclose(f);
	CHECK_EQ_INT(sampler_tick(s, 1, p->last_mono_ns + 1000000, r), 0);
	CHECK_EQ_INT(p->alive, 0);
	CHECK_EQ_INT(p->last_tick, 0);
	CHECK_EQ_INT(sampler_alive(s), 0);
	sampler_free(s);
}

/* Ended entries are freed, several in a row, and the rest stay usable
 * (under check-asan a read of a freed entry is an error). */
TEST(sampler_forget_frees_ended_entries)
{
	char root[] = "/tmp/memtide-proc-XXXXXX";
	struct sampler *s;
	struct sampler_proc *p[3];
	struct sampler_reading r[4];
	const int pids[3] = {100, 101, 102};

	CHECK(mkdtemp(root) != NULL);
	for (int i = 0; i < 3; i++)
		CHECK_EQ_INT(copy_fixture(root, pids[i]), 0);
	CHECK_EQ_INT(sampler_new(root, 0, SAMPLER_RSS, &s), 0);
	for (int i = 0; i < 3; i++)
		CHECK_EQ_INT(sampler_add_root(s, pids[i], &p[i]), 0);
	for (int i = 0; i < 2; i++) {
		sampler_end(s, p[i]);
		p[i]->end_reported = 1;
	}
	CHECK_EQ_INT(sampler_forget(s), 2);
	CHECK_EQ_INT(sampler_count(s), 1);
	CHECK(sampler_get(s, 0) == p[2]);
	CHECK_EQ_INT(sampler_tick(s, 5, p[2]->last_mono_ns + 1000000, r), 1);
	CHECK_EQ_INT(r[0].proc->pid, 102);
	sampler_free(s);
}
