/* cgroup.h - what the cgroup hierarchy says about a process: its cgroup,
 * its memory limit and how often the kernel's OOM killer struck there.
 *
 * Read from /proc/PID/cgroup and the files under the cgroup mount
 * (/sys/fs/cgroup):
 *   - cgroup v1 (a "N:...memory...:PATH" line whose directory exists under
 *     CGROUPFS/memory): memory.limit_in_bytes (the "unlimited" value, near
 *     2^63, counts as none), memory.soft_limit_in_bytes is not a limit;
 *     memory.oom_control's "oom_kill N" line (kernel 4.13+);
 *   - cgroup v2 (the "0::PATH" line, under CGROUPFS): memory.max and
 *     memory.high ("max": none); memory.events.local, else memory.events,
 *     "oom_kill N".
 * In both, the limit over a process is the lowest one on its path: its own
 * cgroup's and every ancestor's (a unit's MemoryMax=, a slice's, a pod's).
 */
#ifndef MEMTIDE_CGROUP_H
#define MEMTIDE_CGROUP_H

#include <stddef.h>
#include <stdint.h>

struct cgroup_info {
	char path[1024];      /* the cgroup path, "/system.slice/app.service" */
	int v1;               /* 1: the v1 memory controller's path and files */
	int64_t memory_limit; /* bytes, 0: none (memory.max, limit_in_bytes) */
	int64_t memory_high;  /* bytes, 0: none (v2 memory.high only) */
	int64_t oom_kills;    /* the cgroup's oom_kill counter, -1 unknown */
	char pod[64];         /* Kubernetes pod UID ("" none), dashes only */
	char container[72];   /* container ID, 64 hex digits ("" none) */
};

/* Reads the cgroup of process pid below proc (the /proc mount, usually
 * "/proc") and cgroupfs (usually "/sys/fs/cgroup") into out.  Returns 0,
 * or -errno (-ESRCH: the process is gone).  A process outside any memory
 * controller gets its v2 path (or "") and no limit, oom_kills -1. */
int cgroup_read(const char *proc, const char *cgroupfs, int pid,
		struct cgroup_info *out);

/* Reads the limits and OOM-kill counter of ci->path again (after
 * cgroup_read()): a limit may be changed while a process lives.  Returns 0
 * or -errno (-ENOENT: the cgroup was removed). */
int cgroup_refresh(const char *cgroupfs, struct cgroup_info *ci);

/* The OOM-kill counter of the cgroup ci describes, read now; -1 unknown. */
int64_t cgroup_oom_kills(const char *cgroupfs, const struct cgroup_info *ci);

/* Parses a Kubernetes pod UID (".../pod<UID>/..." with dashes or, under
 * the systemd driver, underscores) and a container ID (64 hex digits, bare
 * or as "docker-ID.scope", "cri-containerd-ID.scope", "crio-ID.scope") out
 * of a cgroup path.  pod and container receive "" when absent. */
void cgroup_parse_ids(const char *path, char *pod, size_t podlen,
		      char *container, size_t containerlen);

/* The memory limit over process pid, bytes: the lowest on its path (see
 * above).  Returns the limit, 0 when none is set, or -errno (-ESRCH: the
 * process is gone). */
int64_t cgroup_memory_limit(const char *proc, const char *cgroupfs, int pid);

#endif
