/* cgroup.c - limits from the cgroup v2 hierarchy (see include/memtide/cgroup.h). */
#include "memtide/cgroup.h"

#include "memtide/procfs.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* memory.max of one cgroup directory: bytes, 0 for "max" or no file. */
static int64_t memory_max(const char *dir)
{
	char path[4096], buf[64];
	FILE *f;
	int64_t v = 0;

	if (snprintf(path, sizeof path, "%s/memory.max", dir) >= (int)sizeof path)
		return 0;
	if (!(f = fopen(path, "re")))
		return 0;
	if (fgets(buf, sizeof buf, f) && strncmp(buf, "max", 3) != 0)
		v = strtoll(buf, NULL, 10);
	fclose(f);
	return v > 0 ? v : 0;
}

int64_t cgroup_memory_limit(const char *proc, const char *cgroupfs, int pid)
{
	char buf[4096], dir[4096];
	const char *line, *end;
	long n = procfs_read(proc, pid, "cgroup", buf, sizeof buf);
	int64_t limit = 0;
	size_t len;

	if (n < 0)
		return n;
	/* cgroup v2 is the "0::" line; hybrid setups have v1 lines before. */
	for (line = buf; line < buf + n; line = end + 1) {
		end = memchr(line, '\n', (size_t)(buf + n - line));
		if (!end)
			end = buf + n;
		if (end - line >= 3 && memcmp(line, "0::", 3) == 0)
			break;
	}
	if (line >= buf + n)
		return 0;
	len = (size_t)(end - line - 3);
	if (snprintf(dir, sizeof dir, "%s%.*s", cgroupfs, (int)len, line + 3) >=
	    (int)sizeof dir)
		return 0;
	/* Walk up to the mount: the tightest limit wins. */
	for (;;) {
		int64_t v = memory_max(dir);
		char *slash;

		if (v > 0 && (limit == 0 || v < limit))
			limit = v;
		if (strlen(dir) <= strlen(cgroupfs) || !(slash = strrchr(dir, '/')))
			break;
		*slash = '\0';
	}
	return limit;
}
