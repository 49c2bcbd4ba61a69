/* discover.h - finding processes: /proc scans and the proc connector.
 *
 * Scans read the directory of /proc (readdir: numeric names only).  That is
 * all a scan needs -- the pids -- and it costs a fraction of a libproc2 reap,
 * which opens stat, status and more of every process (19-26 us each,
 * ANCHORS.md); the daemon reads the few files it needs of pids it has not
 * judged yet, and nothing of those it has.
 *
 * The netlink proc connector reports fork, exec and exit of every process as
 * they happen, so a child that lives 20 ms is seen.  It needs root or
 * CAP_NET_ADMIN; without it the daemon relies on scans alone.
 */
#ifndef MEMTIDE_DISCOVER_H
#define MEMTIDE_DISCOVER_H

#include <stddef.h>

/* Calls fn(pid, arg) for every process directory under root.  Returns the
 * number of pids, or -errno when root cannot be read. */
int discover_scan(const char *root, void (*fn)(int pid, void *arg), void *arg);

enum discover_type {
	DISCOVER_FORK, /* pid is a new process (not a thread), child of ppid */
	DISCOVER_EXEC, /* pid ran execve(): what it runs changed */
	DISCOVER_EXIT, /* pid (a whole process) exited */
};

struct discover_event {
	enum discover_type type;
	int pid, ppid;
	/* DISCOVER_EXIT: how it ended, as a wait status (WIFEXITED,
	 * WTERMSIG...), from the event's exit_code.  (The event's exit_signal
	 * is the signal its parent is sent, SIGCHLD, not what killed it.) */
	int status;
};

/* Subscribes to the proc connector.  Returns a non-blocking fd to poll, or
 * -errno (-EPERM without CAP_NET_ADMIN). */
int discover_events_open(void);
/* The same for a reader of exits alone (memtide run's record of how each
 * process ended): on Linux 6.6+ the kernel then sends no fork, exec or
 * other event, a third of the traffic of a busy machine, and the socket
 * holds three times as long unread.  Older kernels send every event. */
int discover_events_open_exits(void);
/* Reads the pending events into v (room for cap).  Returns how many (0:
 * none pending), or -ENOBUFS when the kernel dropped some (the socket
 * overflowed: rescan), or another -errno. */
int discover_events_read(int fd, struct discover_event *v, size_t cap);
void discover_events_close(int fd);

#endif
