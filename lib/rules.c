/* rules.c - facts of a process and rule matching (see include/memtide/rules.h). */
#include "memtide/rules.h"

#include "memtide/cgroup.h"
#include "memtide/procfs.h"
#include "memtide/pyinfo.h"
#include "memtide/text.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_ARGV (128 * 1024)
#define MAX_MAPS (4 << 20)

unsigned rules_needs(const struct config *c)
{
	unsigned need = 0;

	for (size_t i = 0; i < c->nrules; i++) {
		if (c->rules[i].unit)
			need |= RULES_NEED_UNIT;
		if (c->rules[i].python >= 0)
			need |= RULES_NEED_PYTHON;
		if (c->rules[i].cgroup)
			need |= RULES_NEED_CGROUP;
	}
	return need;
}

int rules_cgroup_unit(const char *cgroup, size_t len, char *out, size_t outlen)
{
	const char *p = cgroup, *end = cgroup + len;
	int found = 0;

	/* Prefer the unified hierarchy ("0::"), else the named systemd one. */
	for (int pass = 0; pass < 2 && !found; pass++) {
		for (p = cgroup; p < end && !found;) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			const char *eol = nl ? nl : end, *path;

			if (pass == 0 ? (eol - p > 3 && memcmp(p, "0::", 3) == 0)
				      : memmem(p, (size_t)(eol - p), ":name=systemd:", 14) != NULL) {
				path = memchr(p, '/', (size_t)(eol - p));
				/* Innermost first: a service's own sub-cgroups. */
				for (const char *e = eol; path && e > path;) {
					const char *s = e;

					while (s > path && s[-1] != '/')
						s--;
					if (text_ends_with(s, (size_t)(e - s), ".service") ||
					    text_ends_with(s, (size_t)(e - s), ".scope")) {
						snprintf(out, outlen, "%.*s", (int)(e - s), s);
						found = 1;
						break;
					}
					e = s > path ? s - 1 : path;
				}
			}
			p = eol + 1;
		}
	}
	return found;
}

void rules_facts_free(struct rules_facts *f)
{
	free(f->exe);
	free(f->cmdline);
	free(f->argv);
	free(f->unit);
	free(f->cgroup);
	f->exe = f->cmdline = f->argv = f->unit = f->cgroup = NULL;
	f->argv_len = 0;
}

int rules_read_facts(const char *root, int pid, unsigned need, struct rules_facts *f)
{
	char path[256], exe[4096];
	struct procfs_stat st;
	size_t len;
	ssize_t n;

	memset(f, 0, sizeof *f);
	f->pid = pid;
	if (procfs_read_stat(root, pid, &st) || st.state == 'Z' || st.state == 'X')
		return -ESRCH;
	f->ppid = st.ppid;
	f->start_ticks = st.start_ticks;
	if ((f->uid = procfs_uid(root, pid)) < 0)
		return -ESRCH;
	snprintf(path, sizeof path, "%s/%d/exe", root, pid);
	n = readlink(path, exe, sizeof exe - 1);
	if (n > 0) {
		exe[n] = '\0';
		if (!(f->exe = strdup(exe)))
			return -ENOMEM;
	}
	if ((f->argv = procfs_read_all(root, pid, "cmdline", MAX_ARGV, &len))) {
		/* Kept as read (the sampler takes it), and joined by spaces,
		 * the trailing NUL dropped. */
		f->argv_len = len;
		if (!(f->cmdline = malloc(len + 1)))
			return -ENOMEM;
		memcpy(f->cmdline, f->argv, len);
		while (len && f->cmdline[len - 1] == '\0')
			len--;
		for (size_t i = 0; i < len; i++)
			if (f->cmdline[i] == '\0')
				f->cmdline[i] = ' ';
		f->cmdline[len] = '\0';
	}
	if (f->exe && pyinfo_exe_is_python(f->exe))
		f->python = PYINFO_EXE;
	return rules_complete(root, f, need);
}

int rules_complete(const char *root, struct rules_facts *f, unsigned need)
{
	size_t len;

	need &= ~f->have;
	if (need & RULES_NEED_UNIT) {
		char *cg = procfs_read_all(root, f->pid, "cgroup", 8192, &len);
		char unit[256];

		if (cg && rules_cgroup_unit(cg, len, unit, sizeof unit))
			f->unit = strdup(unit);
		free(cg);
	}
	if (need & RULES_NEED_CGROUP) {
		struct cgroup_info ci;

		if (cgroup_read(root, "/sys/fs/cgroup", f->pid, &ci) == 0)
			f->cgroup = strdup(ci.path);
	}
	if ((need & RULES_NEED_PYTHON) && f->exe && !f->python) {
		char *maps = procfs_read_all(root, f->pid, "maps", MAX_MAPS, &len);

		if (maps && pyinfo_maps_libpython(maps, len, f->interpreter,
						  sizeof f->interpreter))
			f->python = PYINFO_EMBEDDED;
		free(maps);
	}
	f->have |= need;
	return 0;
}

static int rule_matches(const struct config_rule *r, const struct rules_facts *f)
{
	/* Without maps read, a non-Python exe may still embed Python. */
	if (r->python >= 0 && (f->python != 0) != r->python &&
	    (f->python || (f->have & RULES_NEED_PYTHON)))
		return 0;
	if (r->pid && r->pid != f->pid)
		return 0;
	if (r->uid >= 0 && r->uid != f->uid)
		return 0;
	if (r->unit && (f->have & RULES_NEED_UNIT) &&
	    (!f->unit || strcmp(r->unit, f->unit) != 0))
		return 0;
	if (r->cmdline && (!f->cmdline || regexec(&r->cmdline_re, f->cmdline, 0, NULL, 0)))
		return 0;
	if (r->cgroup && (f->have & RULES_NEED_CGROUP) &&
	    (!f->cgroup || regexec(&r->cgroup_re, f->cgroup, 0, NULL, 0)))
		return 0;
	return 1;
}

int rules_match(const struct config *c, const struct rules_facts *f, int parent_rule)
{
	if (parent_rule >= 0 && (size_t)parent_rule < c->nrules &&
	    c->rules[parent_rule].children)
		return parent_rule;
	for (size_t i = 0; i < c->nrules; i++)
		if (rule_matches(&c->rules[i], f))
			return (int)i;
	return -1;
}
