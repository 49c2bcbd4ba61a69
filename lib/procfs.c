/* procfs.c - /proc/PID readers (see include/memtide/procfs.h). */
#include "memtide/procfs.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

long procfs_page_size(void)
{
	static long size;

	if (!size) {
		size = sysconf(_SC_PAGESIZE);
		if (size <= 0)
			size = 4096;
	}
	return size;
}

long procfs_hz(void)
{
	static long hz;

	if (!hz) {
		hz = sysconf(_SC_CLK_TCK);
		if (hz <= 0)
			hz = 100;
	}
	return hz;
}

/* Parses an unsigned decimal at *p, advancing past it and one separator. */
static int take_u64(const char **p, const char *end, uint64_t *v)
{
	const char *s = *p;
	uint64_t x = 0;

	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	if (s < end && *s == '-') /* signed fields that are -1: keep 0 */
		s++;
	if (s >= end || *s < '0' || *s > '9')
		return -EINVAL;
	while (s < end && *s >= '0' && *s <= '9') {
		uint64_t d = (uint64_t)(*s++ - '0');

		if (x > (UINT64_MAX - d) / 10)
			return -ERANGE; /* no /proc number is that long */
		x = x * 10 + d;
	}
	*v = x;
	*p = s;
	return 0;
}

static int skip_fields(const char **p, const char *end, int n)
{
	const char *s = *p;

	while (n-- > 0) {
		while (s < end && *s == ' ')
			s++;
		while (s < end && *s != ' ')
			s++;
	}
	*p = s;
	return s < end ? 0 : -EINVAL;
}

/* /proc/PID/stat: "pid (comm) state ppid ...".  comm is whatever the
 * process wrote with prctl(PR_SET_NAME): only the last ')' is reliable. */
int procfs_parse_stat(const char *buf, size_t len, struct procfs_stat *out,
		      char *comm, size_t comm_len)
{
	const char *end = buf + len, *open = memchr(buf, '(', len), *close = NULL;
	const char *p;
	uint64_t v;

	for (const char *q = end; q > buf; q--)
		if (q[-1] == ')') {
			close = q - 1;
			break;
		}
	if (!open || !close || close < open || close + 2 >= end)
		return -EINVAL;
	if (comm && comm_len) {
		size_t n = (size_t)(close - open - 1);

		if (n >= comm_len)
			n = comm_len - 1;
		memcpy(comm, open + 1, n);
		comm[n] = '\0';
	}
	p = close + 2; /* field 3 */
	out->state = *p++;
	if (take_u64(&p, end, &v))
		return -EINVAL;
	out->ppid = (int)v;
	if (skip_fields(&p, end, 6)) /* fields 5..10 */
		return -EINVAL;
	if (take_u64(&p, end, &out->cminflt) || skip_fields(&p, end, 1) ||
	    take_u64(&p, end, &out->cmajflt))
		return -EINVAL;
	if (take_u64(&p, end, &out->utime) || take_u64(&p, end, &out->stime))
		return -EINVAL;
	if (skip_fields(&p, end, 4)) /* 16..19 */
		return -EINVAL;
	if (take_u64(&p, end, &v))
		return -EINVAL;
	out->threads = (int)v;
	if (skip_fields(&p, end, 1)) /* 21 */
		return -EINVAL;
	if (take_u64(&p, end, &out->start_ticks))
		return -EINVAL;
	if (skip_fields(&p, end, 1)) /* 23 */
		return -EINVAL;
	if (take_u64(&p, end, &v))
		return -EINVAL;
	out->rss_pages = (int64_t)v;
	return 0;
}

int procfs_parse_statm(const char *buf, size_t len, int64_t *rss_pages)
{
	const char *p = buf, *end = buf + len;
	uint64_t size, rss;

	if (take_u64(&p, end, &size) || take_u64(&p, end, &rss) ||
	    rss > (UINT64_C(1) << 60))
		return -EINVAL;
	*rss_pages = (int64_t)rss;
	return 0;
}

/* Finds "key:" at the start of a line and parses the number after it. */
static int find_kib(const char *buf, size_t len, const char *key, int64_t *v)
{
	size_t klen = strlen(key);
	const char *p = buf, *end = buf + len;
	uint64_t x;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end;

		if ((size_t)(eol - p) > klen && memcmp(p, key, klen) == 0) {
			const char *q = p + klen;

			/* No real KiB count comes near 2^60 (an exbibyte); a
			 * bigger one is garbage, and sums of two must not
			 * overflow. */
			if (take_u64(&q, eol, &x) || x > (UINT64_C(1) << 60))
				return -EINVAL;
			*v = (int64_t)x;
			return 0;
		}
		p = eol + 1;
	}
	return -ENOENT;
}

int procfs_parse_status_hwm(const char *buf, size_t len, int64_t *hwm_kib)
{
	return find_kib(buf, len, "VmHWM:", hwm_kib);
}

int procfs_parse_rollup(const char *buf, size_t len, struct procfs_rollup *out)
{
	int64_t clean = 0, dirty = 0;

	if (find_kib(buf, len, "Rss:", &out->rss_kib) ||
	    find_kib(buf, len, "Pss:", &out->pss_kib))
		return -EINVAL;
	if (find_kib(buf, len, "Private_Clean:", &clean) ||
	    find_kib(buf, len, "Private_Dirty:", &dirty))
		return -EINVAL;
	out->uss_kib = clean + dirty;
	if (find_kib(buf, len, "Swap:", &out->swap_kib))
		out->swap_kib = 0;
	return 0;
}

long procfs_read(const char *root, int pid, const char *name, char *buf,
		 size_t size)
{
	char path[256];
	size_t got = 0;
	int fd;

	snprintf(path, sizeof path, "%s/%d/%s", root, pid, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	while (got + 1 < size) {
		ssize_t n = read(fd, buf + got, size - 1 - got);

		if (n < 0) {
			int e = errno;

			if (e == EINTR)
				continue;
			close(fd);
			return -e;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	buf[got] = '\0';
	return (long)got;
}

int procfs_read_stat(const char *root, int pid, struct procfs_stat *out)
{
	char buf[1024];
	long n = procfs_read(root, pid, "stat", buf, sizeof buf);

	if (n <= 0)
		return n < 0 ? (int)n : -ESRCH;
	return procfs_parse_stat(buf, (size_t)n, out, NULL, 0) ? -EINVAL : 0;
}

char *procfs_read_all(const char *root, int pid, const char *name, size_t max,
		      size_t *len)
{
	size_t cap = 4096;
	char *buf = NULL;
	long n;

	for (;;) {
		char *b = realloc(buf, cap + 1);

		if (!b) {
			free(buf);
			errno = ENOMEM;
			return NULL;
		}
		buf = b;
		/* Read again from the start: /proc files are generated per
		 * read, so a partial first read cannot be continued. */
		n = procfs_read(root, pid, name, buf, cap + 1);
		if (n < 0) {
			free(buf);
			errno = (int)-n;
			return NULL;
		}
		if ((size_t)n < cap || cap >= max)
			break;
		cap = cap * 4 < max ? cap * 4 : max;
	}
	*len = (size_t)n;
	return buf;
}

static int open_at(const char *root, int pid, const char *name)
{
	char path[256];
	int fd;

	snprintf(path, sizeof path, "%s/%d/%s", root, pid, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	return fd;
}

int procfs_open(struct procfs_handle *h, const char *root, int pid)
{
	int fd;

	h->pid = pid;
	h->stat_fd = h->statm_fd = h->task_fd = -1;
	h->quick_threads = -1;
	if ((fd = open_at(root, pid, "stat")) < 0)
		return fd;
	h->stat_fd = fd;
	if ((fd = open_at(root, pid, "statm")) < 0) {
		procfs_close(h);
		return fd;
	}
	h->statm_fd = fd;
	/* The process CPU clock has nanosecond resolution where stat's
	 * utime+stime moves in 10 ms steps: at 100 Hz a sample would see 0,
	 * 1 or 2 ticks.  Only meaningful for the real /proc. */
	if (strcmp(root, "/proc") != 0 || clock_getcpuclockid(pid, &h->cpu_clock))
		h->cpu_clock = (clockid_t)-1;
	else
		h->task_fd = open_at(root, pid, "task");
	return 0;
}

static long pread_all(int fd, char *buf, size_t size)
{
	ssize_t n = pread(fd, buf, size - 1, 0);

	if (n < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	buf[n] = '\0';
	return (long)n;
}

/* The CPU clock is read before stat: if the stat pread that follows
 * succeeds, the process was not reaped yet, so the clock (looked up by pid)
 * still named this process and not a successor with a reused pid. */
int procfs_sample(struct procfs_handle *h, struct procfs_reading *out)
{
	char buf[1024];
	struct procfs_stat st;
	struct timespec ts;
	int have_clock = 0;
	long n;

	if (h->cpu_clock != (clockid_t)-1 && clock_gettime(h->cpu_clock, &ts) == 0)
		have_clock = 1;
	if ((n = pread_all(h->stat_fd, buf, sizeof buf)) < 0)
		return (int)n;
	if (n == 0 || procfs_parse_stat(buf, (size_t)n, &st, NULL, 0))
		return -ESRCH;
	/* A zombie has no memory left to measure: its series has ended. */
	if (st.state == 'Z' || st.state == 'X')
		return -ESRCH;
	out->threads = st.threads;
	out->start_ticks = st.start_ticks;
	out->ppid = st.ppid;
	out->state = st.state;
	if (have_clock)
		out->cpu_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	else
		out->cpu_ns = (st.utime + st.stime) * (1000000000u / (uint64_t)procfs_hz());
	/* statm is read after stat: stat's rss lags it. */
	if ((n = pread_all(h->statm_fd, buf, sizeof buf)) < 0)
		return (int)n;
	if (n == 0 || procfs_parse_statm(buf, (size_t)n, &out->rss_pages))
		return -ESRCH;
	return 0;
}

int procfs_sample_quick(struct procfs_handle *h, struct procfs_reading *out)
{
	char buf[256];
	const char *p = buf;
	uint64_t size, rss;
	struct timespec ts;
	struct stat st;
	long n;

	if (h->task_fd < 0 || h->cpu_clock == (clockid_t)-1)
		return -ENOTSUP;
	/* stat is not read again: its file, and the page of kernel buffer
	 * an open /proc file keeps after its first read, go now. */
	if (h->stat_fd >= 0) {
		close(h->stat_fd);
		h->stat_fd = -1;
	}
	/* Clock first, statm after: see procfs_sample. */
	if (clock_gettime(h->cpu_clock, &ts) < 0)
		return -ESRCH;
	if ((n = pread_all(h->statm_fd, buf, sizeof buf)) < 0)
		return (int)n;
	if (take_u64(&p, buf + n, &size) || take_u64(&p, buf + n, &rss) || size == 0)
		return -ESRCH;
	out->cpu_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	if (h->quick_threads < 0 || out->cpu_ns != h->quick_cpu_ns) {
		/* The task directory of a reaped process counts no threads. */
		if (fstat(h->task_fd, &st) < 0 || st.st_nlink < 3)
			return -ESRCH;
		h->quick_threads = (int)(st.st_nlink - 2);
		h->quick_cpu_ns = out->cpu_ns;
	}
	out->rss_pages = (int64_t)rss;
	out->threads = h->quick_threads;
	return 0;
}

void procfs_close(struct procfs_handle *h)
{
	if (h->stat_fd >= 0)
		close(h->stat_fd);
	if (h->statm_fd >= 0)
		close(h->statm_fd);
	if (h->task_fd >= 0)
		close(h->task_fd);
	h->stat_fd = h->statm_fd = h->task_fd = -1;
}

/* /proc/PID/status "Uid:\treal\teffective\tsaved\tfs": the directory's
 * owner is the effective uid (root for a setuid program alice started, or
 * for any process that is not dumpable), so the real one is read here.  A
 * status without the line (fixture trees) falls back to the owner. */
long procfs_uid(const char *root, int pid)
{
	char path[4096], buf[4096], *u;
	struct stat st;
	long n = procfs_read(root ? root : "/proc", pid, "status", buf, sizeof buf);

	if (n > 0 && (u = strstr(buf, "\nUid:")) != NULL) {
		char *end;
		long uid = strtol(u + 5, &end, 10);

		if (end != u + 5 && uid >= 0)
			return uid;
	}
	snprintf(path, sizeof path, "%s/%d", root ? root : "/proc", pid);
	return stat(path, &st) < 0 ? -1 : (long)st.st_uid;
}
