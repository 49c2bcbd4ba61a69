/* exits.c - memtide run's record of how each process ended and under
 * which memory limit: the cgroup of every process it records (read when
 * first seen and again every second: a process may move, a limit may
 * change), the exit status of the command from wait4() and of its
 * descendants (-C) from the proc connector's exit events (root or
 * CAP_NET_ADMIN; without it their endings stay unknown), and OOM kills told
 * apart from other SIGKILLs by their cgroup's oom_kill counter.
 */
#include "cli.h"

#include "memtide/cgroup.h"
#include "memtide/discover.h"
#include "memtide/idmap.h"
#include "memtide/ticker.h"
#include "memtide/units.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#define CGROUPFS "/sys/fs/cgroup"
#define EVENT_WAIT_MS 50 /* see await_exit */

struct watched {
	int64_t proc;
	int pid;               /* 0 once it ended */
	int status;            /* wait status from its exit event, -1 none */
	struct cgroup_info ci; /* as last read; ci.oom_kills: the baseline */
};

struct run_exits {
	int fd;               /* the proc connector, -1 without */
	int overflowed;       /* it dropped events once: some exits are lost */
	struct idmap by_pid;  /* pid of a live one -> index in v + 1 */
	struct idmap by_proc; /* proc.id -> index in v + 1 */
	struct watched *v;
	size_t n, cap;
};

struct run_exits *run_exits_new(void)
{
	struct run_exits *x = calloc(1, sizeof *x);

	if (!x)
		return NULL;
	x->fd = discover_events_open_exits();
	return x;
}

void run_exits_free(struct run_exits *x)
{
	if (!x)
		return;
	discover_events_close(x->fd);
	idmap_free(&x->by_pid);
	idmap_free(&x->by_proc);
	free(x->v);
	free(x);
}

void run_exits_poll(struct run_exits *x)
{
	struct discover_event ev[256];
	int n, overflowed = 0;

	if (!x || x->fd < 0)
		return;
	for (;;) {
		n = discover_events_read(x->fd, ev, 256);
		/* The kernel dropped events while the socket was full (said
		 * once): those that came after are still there. */
		if (n == -ENOBUFS && !overflowed++) {
			x->overflowed = 1;
			continue;
		}
		if (n <= 0)
			break;
		/* The connector reports every process of the machine: only
		 * the exits of those recorded are kept. */
		for (int i = 0; i < n; i++) {
			int64_t k;

			if (ev[i].type == DISCOVER_EXIT &&
			    idmap_get(&x->by_pid, ev[i].pid, &k)) {
				x->v[k - 1].status = ev[i].status;
				idmap_del(&x->by_pid, ev[i].pid);
			}
		}
		if (n < 256)
			break;
	}
}

/* The kernel frees a process's memory (its statm reads 0: the sampler
 * calls it gone) a moment before it sends the exit event: waits for it
 * that moment, EVENT_WAIT_MS at most, while no event was ever lost. */
static void await_exit(struct run_exits *x, const struct watched *w)
{
	struct pollfd p = {.fd = x->fd, .events = POLLIN};
	int64_t end = ticker_now_mono() + EVENT_WAIT_MS * 1000000LL, left;

	while (!x->overflowed && x->fd >= 0 && w->status < 0 &&
	       (left = end - ticker_now_mono()) > 0) {
		if (poll(&p, 1, (int)(left / 1000000) + 1) <= 0)
			break;
		run_exits_poll(x);
	}
}

static int store_limit(struct store *st, const struct watched *w, double t)
{
	return store_proc_limit(st, w->proc, t, w->ci.memory_limit, w->ci.memory_high);
}

int run_exits_seen(struct run_exits *x, struct store *st, int64_t proc, int pid,
		   double t)
{
	struct watched *w;
	int err;

	if (!x)
		return 0;
	if (x->n == x->cap) {
		size_t cap = x->cap ? x->cap * 2 : 16;
		struct watched *v = realloc(x->v, cap * sizeof *v);

		if (!v)
			return -ENOMEM;
		x->v = v;
		x->cap = cap;
	}
	w = &x->v[x->n];
	memset(w, 0, sizeof *w);
	w->proc = proc;
	w->pid = pid;
	w->status = -1;
	if (cgroup_read("/proc", CGROUPFS, pid, &w->ci))
		memset(&w->ci, 0, sizeof w->ci); /* gone: its exit may still come */
	if ((err = idmap_put(&x->by_proc, proc, (int64_t)x->n + 1)) ||
	    (err = idmap_put(&x->by_pid, pid, (int64_t)x->n + 1)))
		return err;
	x->n++;
	if ((err = store_proc_cgroup(st, proc, w->ci.path[0] ? w->ci.path : NULL, NULL)))
		return err;
	if (w->ci.memory_limit || w->ci.memory_high)
		return store_limit(st, w, t);
	return 0;
}

int run_exits_refresh(struct run_exits *x, struct store *st, double t)
{
	int err = 0;

	/* Unread, the machine's forks, execs and exits fill the socket in
	 * seconds on a busy host (a 1 MiB buffer, some 1,000 events), and
	 * the kernel then drops the newest: the exit of the very process
	 * recorded.  Read each second, it holds one second's. */
	run_exits_poll(x);
	for (size_t i = 0; x && i < x->n && !err; i++) {
		struct watched *w = &x->v[i];
		struct cgroup_info ci;

		if (w->pid <= 0 || cgroup_read("/proc", CGROUPFS, w->pid, &ci))
			continue;
		if (strcmp(ci.path, w->ci.path) != 0) {
			/* Moved: the new cgroup's counter is the baseline. */
			w->ci = ci;
			if (!(err = store_proc_cgroup(st, w->proc, ci.path, NULL)))
				err = store_limit(st, w, t);
		} else if (ci.memory_limit != w->ci.memory_limit ||
			   ci.memory_high != w->ci.memory_high) {
			w->ci.memory_limit = ci.memory_limit;
			w->ci.memory_high = ci.memory_high;
			err = store_limit(st, w, t);
		}
	}
	return err;
}

/* The OOM marker and the line saying so. */
static int oom_killed(struct store *st, int64_t run, const struct watched *w, double t)
{
	struct store_mark mk = {.run = run, .start = t, .end = -1, .level = -1,
				.pid = w->pid, .mem_start = -1, .mem_end = -1};
	char label[64], lim[32] = "none";

	snprintf(label, sizeof label, "OOM kill (pid %d)", w->pid);
	mk.label = label;
	if (w->ci.memory_limit > 0)
		units_format_bytes(w->ci.memory_limit, lim, sizeof lim);
	fprintf(stderr, "memtide: process %d was killed by the OOM killer (memory"
		" limit %s, cgroup %s)\n", w->pid, lim, w->ci.path[0] ? w->ci.path : "?");
	return store_mark_add(st, &mk, NULL);
}

int run_exits_ended(struct run_exits *x, struct store *st, int64_t run, int64_t proc,
		    int status, int wait, double t, int *oom)
{
	int64_t i;
	struct watched *w = NULL;
	int killed = 0;

	*oom = 0;
	if (!x)
		return 0;
	run_exits_poll(x);
	if (idmap_get(&x->by_proc, proc, &i))
		w = &x->v[i - 1];
	if (wait && status < 0 && w && w->status < 0 && w->pid > 0)
		await_exit(x, w);
	if (status < 0 && w)
		status = w->status;
	if (w && w->pid)
		idmap_del(&x->by_pid, w->pid);
	if (status < 0)
		return 0;
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL && w &&
	    w->ci.oom_kills >= 0 && cgroup_oom_kills(CGROUPFS, &w->ci) > w->ci.oom_kills) {
		killed = 1;
		w->ci.oom_kills++; /* one kill, one process */
	}
	*oom = killed;
	if (killed) {
		int err = oom_killed(st, run, w, t);

		if (err)
			return err;
	}
	if (w)
		w->pid = 0; /* ended: no more refreshes */
	return store_proc_exit(st, proc, status, killed);
}
