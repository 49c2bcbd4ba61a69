/* test_procfs.c - /proc parsers on fixture files with hostile names
 * (tests/fixtures/proc: run from the source root). */
#include "harness.h"

#include "memtide/procfs.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define ROOT "tests/fixtures/proc"

static struct procfs_stat read_stat(int pid, char *comm, size_t len, int *rc)
{
	char buf[2048];
	struct procfs_stat st;
	long n = procfs_read(ROOT, pid, "stat", buf, sizeof buf);

	memset(&st, 0, sizeof st);
	*rc = n < 0 ? (int)n : procfs_parse_stat(buf, (size_t)n, &st, comm, len);
	return st;
}

TEST(stat_plain)
{
	char comm[64];
	int rc;
	struct procfs_stat st = read_stat(100, comm, sizeof comm, &rc);

	CHECK_EQ_INT(rc, 0);
	CHECK_EQ_STR(comm, "python3");
	CHECK_EQ_INT(st.state, 'S');
	CHECK_EQ_INT(st.ppid, 1);
	CHECK_EQ_INT(st.utime, 250);
	CHECK_EQ_INT(st.stime, 50);
	CHECK_EQ_INT(st.threads, 5);
	CHECK_EQ_INT(st.start_ticks, 85024);
	CHECK_EQ_INT(st.rss_pages, 76790);
	CHECK_EQ_INT(st.cminflt, 0);
	CHECK_EQ_INT(st.cmajflt, 0);
}

TEST(stat_name_with_paren_space_newline)
{
	char comm[64];
	int rc;
	struct procfs_stat st = read_stat(101, comm, sizeof comm, &rc);

	CHECK_EQ_INT(rc, 0);
	CHECK_EQ_STR(comm, "a) b\nc");
	CHECK_EQ_INT(st.state, 'R');
	CHECK_EQ_INT(st.ppid, 100);
	CHECK_EQ_INT(st.threads, 1);
	CHECK_EQ_INT(st.start_ticks, 85100);
}

TEST(stat_name_with_parens_and_invalid_utf8)
{
	char comm[64];
	int rc;
	struct procfs_stat st = read_stat(102, comm, sizeof comm, &rc);

	CHECK_EQ_INT(rc, 0);
	CHECK_EQ_STR(comm, "x (y) \xff z");
	CHECK_EQ_INT(st.threads, 2);
	CHECK_EQ_INT(st.rss_pages, 2000);
}

TEST(stat_truncated_or_garbage)
{
	struct procfs_stat st;
	const char *bad[] = {"", "1234", "1234 (x", "1234 (x) S", "1234 (x) S 1 2 3",
			     "garbage)"};

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		CHECK_EQ_INT(procfs_parse_stat(bad[i], strlen(bad[i]), &st, NULL, 0),
			     -EINVAL);
}

TEST(stat_comm_is_cut_to_buffer)
{
	char comm[4];
	int rc;

	read_stat(101, comm, sizeof comm, &rc);
	CHECK_EQ_INT(rc, 0);
	CHECK_EQ_STR(comm, "a) ");
}

TEST(statm)
{
	char buf[256];
	int64_t rss = 0;
	long n = procfs_read(ROOT, 100, "statm", buf, sizeof buf);

	CHECK(n > 0);
	CHECK_EQ_INT(procfs_parse_statm(buf, (size_t)n, &rss), 0);
	CHECK_EQ_INT(rss, 76800);
	CHECK_EQ_INT(procfs_parse_statm("12", 2, &rss), -EINVAL);
}

TEST(status_hwm_tabs_and_missing)
{
	char buf[2048];
	int64_t hwm = 0;
	long n = procfs_read(ROOT, 100, "status", buf, sizeof buf);

	CHECK(n > 0);
	CHECK_EQ_INT(procfs_parse_status_hwm(buf, (size_t)n, &hwm), 0);
	CHECK_EQ_INT(hwm, 307300);
	n = procfs_read(ROOT, 103, "status", buf, sizeof buf);
	CHECK_EQ_INT(procfs_parse_status_hwm(buf, (size_t)n, &hwm), -ENOENT);
}

TEST(smaps_rollup)
{
	char buf[4096];
	struct procfs_rollup r;
	long n = procfs_read(ROOT, 100, "smaps_rollup", buf, sizeof buf);

	CHECK(n > 0);
	CHECK_EQ_INT(procfs_parse_rollup(buf, (size_t)n, &r), 0);
	CHECK_EQ_INT(r.rss_kib, 307200);
	CHECK_EQ_INT(r.pss_kib, 300000); /* not Pss_Dirty */
	CHECK_EQ_INT(r.uss_kib, 288 + 299000);
	CHECK_EQ_INT(r.swap_kib, 1024); /* not SwapPss */
}

TEST(read_missing_process)
{
	char buf[64];

	CHECK_EQ_INT(procfs_read(ROOT, 999, "stat", buf, sizeof buf), -ESRCH);
}

TEST(handle_samples_fixture_and_refuses_zombie)
{
	struct procfs_handle h;
	struct procfs_reading r;

	CHECK_EQ_INT(procfs_open(&h, ROOT, 100), 0);
	CHECK_EQ_INT(procfs_sample(&h, &r), 0);
	CHECK_EQ_INT(r.rss_pages, 76800); /* statm, not stat's lagging field */
	CHECK_EQ_INT(r.threads, 5);
	CHECK_EQ_INT(r.cpu_ns, 300ULL * 1000000000ULL / (uint64_t)procfs_hz());
	procfs_close(&h);
	CHECK_EQ_INT(procfs_open(&h, ROOT, 103), 0);
	CHECK_EQ_INT(procfs_sample(&h, &r), -ESRCH);
	procfs_close(&h);
	CHECK_EQ_INT(procfs_open(&h, ROOT, 999), -ESRCH);
}

TEST(quick_sample_agrees_with_stat_and_ends_with_the_process)
{
	struct procfs_handle h;
	struct procfs_reading full, quick;
	siginfo_t si;
	int pid, status;

	/* Fixture trees have no CPU clock: the caller falls back to stat. */
	CHECK_EQ_INT(procfs_open(&h, ROOT, 100), 0);
	CHECK_EQ_INT(procfs_sample_quick(&h, &quick), -ENOTSUP);
	procfs_close(&h);

	CHECK_EQ_INT(procfs_open(&h, "/proc", (int)getpid()), 0);
	CHECK_EQ_INT(procfs_sample(&h, &full), 0);
	CHECK_EQ_INT(procfs_sample_quick(&h, &quick), 0);
	CHECK_EQ_INT(quick.threads, full.threads);
	CHECK(quick.rss_pages > 0 && quick.cpu_ns >= full.cpu_ns);
	procfs_close(&h);

	/* A zombie has no memory to measure; a reaped process is gone. */
	if ((pid = fork()) == 0)
		_exit(0);
	CHECK(pid > 0);
	CHECK_EQ_INT(procfs_open(&h, "/proc", pid), 0);
	waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT);
	CHECK_EQ_INT(procfs_sample_quick(&h, &quick), -ESRCH);
	waitpid(pid, &status, 0);
	CHECK_EQ_INT(procfs_sample_quick(&h, &quick), -ESRCH);
	procfs_close(&h);
}

static void *idle_thread(void *arg)
{
	int fd = *(int *)arg;
	char c;
	ssize_t n = read(fd, &c, 1);

	(void)n;
	return NULL;
}

/* A child that starts a thread when told (a byte on go), ends it when told
 * again, and says each step done (a byte on done). */
static void threads_child(int go, int done)
{
	pthread_t t;
	int quit[2];
	char c;

	if (pipe(quit) || read(go, &c, 1) != 1 ||
	    pthread_create(&t, NULL, idle_thread, &quit[0]) || write(done, "s", 1) != 1 ||
	    read(go, &c, 1) != 1 || write(quit[1], "q", 1) != 1 || pthread_join(t, NULL) ||
	    write(done, "e", 1) != 1)
		_exit(1);
	pause();
	_exit(0);
}

/* The thread count of a sleeping process is kept from the last reading;
 * one that ran reads it again: a thread started, then ended, shows. */
TEST(quick_sample_follows_threads_of_a_sleeping_process)
{
	struct procfs_handle h;
	struct procfs_reading r;
	int go[2], done[2], pid, status;
	char c;

	CHECK(pipe(go) == 0 && pipe(done) == 0);
	if ((pid = fork()) == 0)
		threads_child(go[0], done[1]);
	CHECK(pid > 0);
	CHECK_EQ_INT(procfs_open(&h, "/proc", pid), 0);
	usleep(20000);
	CHECK_EQ_INT(procfs_sample_quick(&h, &r), 0);
	CHECK_EQ_INT(r.threads, 1);
	CHECK_EQ_INT(procfs_sample_quick(&h, &r), 0);
	CHECK_EQ_INT(r.threads, 1);
	CHECK(write(go[1], "g", 1) == 1 && read(done[0], &c, 1) == 1);
	CHECK_EQ_INT(procfs_sample_quick(&h, &r), 0);
	CHECK_EQ_INT(r.threads, 2);
	CHECK(write(go[1], "g", 1) == 1 && read(done[0], &c, 1) == 1);
	CHECK_EQ_INT(procfs_sample_quick(&h, &r), 0);
	CHECK_EQ_INT(r.threads, 1);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	CHECK_EQ_INT(procfs_sample_quick(&h, &r), -ESRCH);
	procfs_close(&h);
}

/* Numbers too long for 64 bits, or KiB counts beyond any machine, are
 * refused rather than wrapped (found by fuzz_procfs_rollup). */
TEST(huge_numbers_are_refused)
{
	static const char rollup[] =
		"55aef4575000-7ffc0 ---p 00000000 00:00 0 [rollup]\n"
		"Rss:           307200 kB\n"
		"Pss:          0 kB\n"
		"Private_Clean:88888888888888888888888888888888888 kB\n"
		"Private_Dirty:8888888888888888888 kB\n";
	static const char big[] =
		"Rss: 1 kB\nPss: 1 kB\nPrivate_Clean: 9223372036854775807 kB\n"
		"Private_Dirty: 9223372036854775807 kB\n";
	struct procfs_rollup r;
	int64_t rss;

	CHECK(procfs_parse_rollup(rollup, sizeof rollup - 1, &r) < 0);
	CHECK(procfs_parse_rollup(big, sizeof big - 1, &r) < 0);
	CHECK(procfs_parse_statm("1 99999999999999999999999 0", 27, &rss) < 0);
}

/* A zombie's stat counts the page faults of the children it waited for:
 * memtide run reads it to know whether wait4()'s ru_maxrss is the
 * command's own peak or a descendant's. */
static int zombie_cminflt(int wait_for_a_child, uint64_t *cminflt)
{
	char buf[2048];
	struct procfs_stat st;
	siginfo_t si = {0};
	pid_t pid = fork();
	long n;
	int rc;

	if (pid == 0) {
		if (wait_for_a_child) {
			pid_t g = fork();

			if (g == 0) {
				static char page[4096 * 8];

				memset(page, 1, sizeof page);
				_exit(0);
			}
			waitpid(g, NULL, 0);
		}
		_exit(0);
	}
	if (pid < 0 || waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) < 0)
		return -1;
	n = procfs_read("/proc", pid, "stat", buf, sizeof buf);
	rc = n > 0 ? procfs_parse_stat(buf, (size_t)n, &st, NULL, 0) : -1;
	waitpid(pid, NULL, 0);
	*cminflt = st.cminflt + st.cmajflt;
	return rc;
}

TEST(stat_zombie_children_faults)
{
	uint64_t none = 1, some = 0;

	CHECK_EQ_INT(zombie_cminflt(0, &none), 0);
	CHECK_EQ_INT(none, 0);
	CHECK_EQ_INT(zombie_cminflt(1, &some), 0);
	CHECK(some > 0);
}
