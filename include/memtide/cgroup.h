/* cgroup.h - what the cgroup v2 hierarchy says about a process.
 *
 * Read from /proc/PID/cgroup (the "0::PATH" line of cgroup v2) and the
 * files of PATH under the cgroup mount (/sys/fs/cgroup).
 */
#ifndef MEMTIDE_CGROUP_H
#define MEMTIDE_CGROUP_H

#include <stdint.h>

/* The memory limit over process pid, bytes: the lowest memory.max of its
 * cgroup and every ancestor (a unit's MemoryMax=, a slice's), below proc
 * (the /proc mount, usually "/proc") and cgroupfs (usually
 * "/sys/fs/cgroup").  Returns the limit, 0 when none is set ("max"
 * everywhere, or cgroup v1), or -errno (-ESRCH: the process is gone). */
int64_t cgroup_memory_limit(const char *proc, const char *cgroupfs, int pid);

#endif
