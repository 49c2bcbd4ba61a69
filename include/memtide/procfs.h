/* procfs.h - readers of /proc/PID files: the per-tick path and its parsers.
 *
 * The parsers take a buffer and never touch the file system, so unit tests
 * feed them fixture files.  The handle keeps /proc/PID/stat and statm open:
 * a kept-open fd never reads another process (after the process is reaped,
 * pread fails with ESRCH even if the pid is reused), and a pread costs a
 * fraction of open/read/close.
 *
 * Functions return 0 or -errno; -ESRCH means the process is gone.
 */
#ifndef MEMTIDE_PROCFS_H
#define MEMTIDE_PROCFS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Fields of /proc/PID/stat that memtide uses. */
struct procfs_stat {
	char state;            /* field 3: R, S, D, Z, ... */
	int ppid;              /* field 4 */
	/* fields 11, 13: page faults of the children it waited for; both 0
	 * means none of them ran (every process faults at least once), so
	 * its wait4() ru_maxrss is its own peak. */
	uint64_t cminflt, cmajflt;
	uint64_t utime, stime; /* fields 14, 15: clock ticks */
	int threads;           /* field 20 */
	uint64_t start_ticks;  /* field 22: clock ticks since boot */
	int64_t rss_pages;     /* field 24: may lag statm by dozens of pages */
};

/* Fields of /proc/PID/smaps_rollup, KiB. */
struct procfs_rollup {
	int64_t rss_kib, pss_kib, uss_kib, swap_kib;
};

/* Parses /proc/PID/stat.  The command name (field 2) may hold spaces, ')',
 * newlines or any byte: fields are found after the LAST ')' in the buffer.
 * comm, when not NULL, receives the name (NUL-terminated, cut to comm_len). */
int procfs_parse_stat(const char *buf, size_t len, struct procfs_stat *out,
		      char *comm, size_t comm_len);
/* Parses /proc/PID/statm; *rss_pages is its second field. */
int procfs_parse_statm(const char *buf, size_t len, int64_t *rss_pages);
/* Finds "VmHWM:" in /proc/PID/status; *hwm_kib in KiB.  -ENOENT when absent
 * (kernel threads, zombies). */
int procfs_parse_status_hwm(const char *buf, size_t len, int64_t *hwm_kib);
/* Parses /proc/PID/smaps_rollup; USS = Private_Clean + Private_Dirty. */
int procfs_parse_rollup(const char *buf, size_t len, struct procfs_rollup *out);

/* Reads a whole small file below root ("/proc" or a fixture tree) into buf
 * (NUL-terminated); returns the length or -errno. */
long procfs_read(const char *root, int pid, const char *name, char *buf,
		 size_t size);

/* Reads and parses ROOT/PID/stat.  Returns 0, -ESRCH when the process is
 * gone, -EINVAL when the file does not parse, or -errno. */
int procfs_read_stat(const char *root, int pid, struct procfs_stat *out);

/* Reads a whole /proc file of unknown size (cmdline, environ, maps) into a
 * malloc'd buffer (NUL-terminated), growing from 4 KiB up to max bytes; a
 * longer file is cut there.  Returns it with *len, or NULL with errno
 * (ESRCH when the process is gone). */
char *procfs_read_all(const char *root, int pid, const char *name, size_t max,
		      size_t *len);

/* A tracked process's open files. */
struct procfs_handle {
	int pid;
	int stat_fd, statm_fd;
	int task_fd;         /* /proc/PID/task, with the clock only; else -1 */
	clockid_t cpu_clock; /* the process CPU clock, or -1: use stat ticks */
	/* The last quick reading's CPU time and threads (threads -1: none). */
	uint64_t quick_cpu_ns;
	int quick_threads;
};

/* One reading of a process. */
struct procfs_reading {
	int64_t rss_pages;
	int threads;
	uint64_t cpu_ns; /* user + system CPU time of all threads */
	uint64_t start_ticks;
	int ppid;
	char state;
};

/* Opens the handle of pid below root.  Returns 0, or -ESRCH/-EACCES. */
int procfs_open(struct procfs_handle *h, const char *root, int pid);
/* Reads rss, threads and CPU time: one clock read and two preads. */
int procfs_sample(struct procfs_handle *h, struct procfs_reading *out);
/* The same without stat, for the steady state: the CPU clock, threads from
 * the link count of /proc/PID/task (2 + threads; no text formatted) and a
 * pread of statm -- about half the cost, stat being the dearest file of
 * the three.  A process whose CPU clock has not moved since the last quick
 * reading has not run since, so no thread was created or ended: its thread
 * count is the last one, and the task directory is not read (two syscalls,
 * not three, for a sleeping process).  The clock of another process moves
 * at its scheduler ticks and switches, so a thread started within a tick
 * (4 ms at HZ=250) of a process waking can show one reading late.  RSS is
 * always read: reclaim and swap change it while the process sleeps.  Fills rss_pages, threads and cpu_ns only: identity needs no
 * check, a kept-open statm never reads another process.  Returns -ESRCH
 * when the process is gone or a zombie (statm all zeros), -ENOTSUP when
 * the handle cannot (not the real /proc): use procfs_sample().  Once it
 * has worked, the handle's stat is closed: procfs_sample() no longer. */
int procfs_sample_quick(struct procfs_handle *h, struct procfs_reading *out);
void procfs_close(struct procfs_handle *h);

/* The real uid of process pid below root (the Uid: line of its status;
 * where there is none, the owner of its directory), or -1 when it is gone.
 * The real uid is who started it: a setuid program keeps its user's. */
long procfs_uid(const char *root, int pid);

/* Clock ticks per second (sysconf(_SC_CLK_TCK)), cached. */
long procfs_hz(void);
/* Bytes per page (the unit of statm), cached. */
long procfs_page_size(void);

#endif
