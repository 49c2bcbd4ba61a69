/* cgroup.c - a process's cgroup, limits and OOM kills, v1 and v2 (see
 * include/memtide/cgroup.h). */
#include "memtide/cgroup.h"

#include "memtide/procfs.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* v1 says "no limit" with the largest page-aligned value below 2^63
 * (9223372036854771712); anything that large is no limit. */
#define V1_UNLIMITED (INT64_C(1) << 62)

/* The first number of a one-value file (memory.max, limit_in_bytes), bytes:
 * 0 for "max", "unlimited" or no file. */
static int64_t read_bytes(const char *dir, const char *file)
{
	char path[1200], buf[64];
	FILE *f;
	int64_t v = 0;

	if (snprintf(path, sizeof path, "%s/%s", dir, file) >= (int)sizeof path)
		return 0;
	if (!(f = fopen(path, "re")))
		return 0;
	if (fgets(buf, sizeof buf, f) && isdigit((unsigned char)buf[0]))
		v = strtoll(buf, NULL, 10);
	fclose(f);
	return v > 0 && v < V1_UNLIMITED ? v : 0;
}

/* The value of "key N" in a keyed file (memory.events, oom_control); -1
 * when the file or key is missing. */
static int64_t read_key(const char *dir, const char *file, const char *key)
{
	char path[1200], line[128];
	size_t klen = strlen(key);
	int64_t v = -1;
	FILE *f;

	if (snprintf(path, sizeof path, "%s/%s", dir, file) >= (int)sizeof path)
		return -1;
	if (!(f = fopen(path, "re")))
		return -1;
	while (fgets(line, sizeof line, f))
		if (strncmp(line, key, klen) == 0 && line[klen] == ' ') {
			v = strtoll(line + klen + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

static int is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The directory of ci's cgroup under cgroupfs. */
static int dir_of(const char *cgroupfs, const struct cgroup_info *ci, char *dir,
		  size_t len)
{
	int n = snprintf(dir, len, "%s%s%s", cgroupfs, ci->v1 ? "/memory" : "",
			 strcmp(ci->path, "/") == 0 ? "" : ci->path);

	return n > 0 && (size_t)n < len ? 0 : -ENAMETOOLONG;
}

/* Whether a v1 line's controller list ("cpu,memory") names memory. */
static int names_memory(const char *list, size_t len)
{
	for (const char *p = list, *end = list + len; p < end;) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		size_t n = (size_t)((comma ? comma : end) - p);

		if (n == 6 && memcmp(p, "memory", 6) == 0)
			return 1;
		p += n + 1;
	}
	return 0;
}

/* Picks the path out of /proc/PID/cgroup: the v1 memory controller's when
 * its directory is there (hybrid hosts keep memory on v1), else v2's. */
static void pick_path(const char *cgroupfs, const char *buf, size_t n,
		      struct cgroup_info *ci)
{
	char v2[sizeof ci->path] = "", dir[1200];
	const char *line, *end;

	ci->path[0] = '\0';
	for (line = buf; line < buf + n; line = end + 1) {
		const char *c1, *c2;
		size_t plen;

		end = memchr(line, '\n', (size_t)(buf + n - line));
		if (!end)
			end = buf + n;
		if (!(c1 = memchr(line, ':', (size_t)(end - line))) ||
		    !(c2 = memchr(c1 + 1, ':', (size_t)(end - c1 - 1))))
			continue;
		plen = (size_t)(end - c2 - 1);
		if (plen >= sizeof ci->path)
			continue;
		if (c1 - line == 1 && line[0] == '0' && c2 == c1 + 1) {
			memcpy(v2, c2 + 1, plen);
			v2[plen] = '\0';
		} else if (names_memory(c1 + 1, (size_t)(c2 - c1 - 1))) {
			memcpy(ci->path, c2 + 1, plen);
			ci->path[plen] = '\0';
			ci->v1 = 1;
		}
	}
	if (ci->v1 && (dir_of(cgroupfs, ci, dir, sizeof dir) || !is_dir(dir)))
		ci->v1 = 0;
	if (!ci->v1)
		snprintf(ci->path, sizeof ci->path, "%s", v2);
}

int cgroup_refresh(const char *cgroupfs, struct cgroup_info *ci)
{
	char dir[1200];
	size_t root;
	int err;

	ci->memory_limit = ci->memory_high = 0;
	ci->oom_kills = -1;
	if (!ci->path[0])
		return 0;
	if ((err = dir_of(cgroupfs, ci, dir, sizeof dir)))
		return err;
	if (!is_dir(dir))
		return -ENOENT;
	ci->oom_kills = cgroup_oom_kills(cgroupfs, ci);
	root = strlen(cgroupfs) + (ci->v1 ? strlen("/memory") : 0);
	/* Walk up to the mount: the tightest limit wins. */
	for (;;) {
		int64_t max = read_bytes(dir, ci->v1 ? "memory.limit_in_bytes"
						     : "memory.max");
		int64_t high = ci->v1 ? 0 : read_bytes(dir, "memory.high");
		char *slash;

		if (max > 0 && (!ci->memory_limit || max < ci->memory_limit))
			ci->memory_limit = max;
		if (high > 0 && (!ci->memory_high || high < ci->memory_high))
			ci->memory_high = high;
		if (strlen(dir) <= root || !(slash = strrchr(dir, '/')))
			break;
		*slash = '\0';
	}
	return 0;
}

int64_t cgroup_oom_kills(const char *cgroupfs, const struct cgroup_info *ci)
{
	char dir[1200];
	int64_t v;

	if (!ci->path[0] || dir_of(cgroupfs, ci, dir, sizeof dir))
		return -1;
	if (ci->v1)
		return read_key(dir, "memory.oom_control", "oom_kill");
	/* .local counts kills of this cgroup's own processes only; older
	 * kernels have just the hierarchical file. */
	if ((v = read_key(dir, "memory.events.local", "oom_kill")) >= 0)
		return v;
	return read_key(dir, "memory.events", "oom_kill");
}

int cgroup_read(const char *proc, const char *cgroupfs, int pid,
		struct cgroup_info *out)
{
	char buf[4096];
	long n = procfs_read(proc, pid, "cgroup", buf, sizeof buf);

	memset(out, 0, sizeof *out);
	out->oom_kills = -1;
	if (n < 0)
		return (int)n;
	pick_path(cgroupfs, buf, (size_t)n, out);
	cgroup_parse_ids(out->path, out->pod, sizeof out->pod, out->container,
			 sizeof out->container);
	cgroup_refresh(cgroupfs, out);
	return 0;
}

/* Copies the 64 hex digits at s, when that is what s starts with and no
 * more hex digits follow. */
static int hex64(const char *s, char *out, size_t len)
{
	size_t i;

	for (i = 0; i < 64; i++)
		if (!isxdigit((unsigned char)s[i]))
			return 0;
	if (isxdigit((unsigned char)s[64]) || len < 65)
		return 0;
	memcpy(out, s, 64);
	out[64] = '\0';
	return 1;
}

void cgroup_parse_ids(const char *path, char *pod, size_t podlen,
		      char *container, size_t containerlen)
{
	pod[0] = container[0] = '\0';
	for (const char *p = path; p && *p;) {
		const char *comp = p + (*p == '/');
		const char *end = strchr(comp, '/');
		size_t n = end ? (size_t)(end - comp) : strlen(comp);
		const char *pp = NULL;

		/* "pod<UID>" or "kubepods-burstable-pod<UID>.slice" */
		for (const char *q = comp; q + 3 <= comp + n; q++)
			if (memcmp(q, "pod", 3) == 0 && (q == comp || q[-1] == '-'))
				pp = q + 3;
		if (pp) {
			size_t k = 0;

			while (pp < comp + n && (isxdigit((unsigned char)*pp) ||
						 *pp == '-' || *pp == '_') &&
			       k + 1 < podlen) {
				pod[k++] = *pp == '_' ? '-' : *pp;
				pp++;
			}
			pod[k] = '\0';
			if (k < 32)
				pod[0] = '\0'; /* not a UID: a word like "pods" */
		}
		/* The container is the last component carrying an ID. */
		for (const char *q = comp; q + 64 <= comp + n; q++)
			if ((q == comp || q[-1] == '-') &&
			    hex64(q, container, containerlen))
				break;
		p = end;
	}
}

int64_t cgroup_memory_limit(const char *proc, const char *cgroupfs, int pid)
{
	struct cgroup_info ci;
	int err = cgroup_read(proc, cgroupfs, pid, &ci);

	return err ? err : ci.memory_limit;
}
