/* service.c - what memtided knows of a tracked process as part of a
 * service: its cgroup, the memory limit over it, its metrics group, and how
 * it ended (an exit, a signal, or the OOM killer).
 *
 * The cgroup is read once, when the process is first tracked: at its exit
 * the kernel has already moved it out (cgroup_exit() runs before the proc
 * connector's exit event), so its OOM-kill counter is read from the path
 * remembered here.  The killer bumps that counter before it sends its
 * SIGKILL, so a SIGKILL exit that finds the counter above the value seen
 * at the start is an OOM kill; any other SIGKILL is a plain signal.
 */
#include "daemon.h"

#include "memtide/cgroup.h"
#include "memtide/grouptpl.h"
#include "memtide/metrics.h"
#include "memtide/procfs.h"
#include "memtide/rules.h"

#include <errno.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#define ROOT "/proc"
#define CGROUPFS "/sys/fs/cgroup"

/* The user name of uid ("" when none), into buf. */
static const char *user_name(long uid, char *buf, size_t len)
{
	struct passwd pw, *res = NULL;
	char tmp[1024];

	if (uid >= 0 && getpwuid_r((uid_t)uid, &pw, tmp, sizeof tmp, &res) == 0 && res)
		snprintf(buf, len, "%s", pw.pw_name);
	else if (uid >= 0)
		snprintf(buf, len, "%ld", uid);
	else
		buf[0] = '\0';
	return buf;
}

/* /proc/PID/comm without its newline, into buf. */
static const char *comm_of(int pid, char *buf, size_t len)
{
	long n = procfs_read(ROOT, pid, "comm", buf, len);

	if (n <= 0)
		return NULL;
	if (buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	return buf;
}

/* The group of a process: the rule's template expanded, or its name;
 * fallback when the template names only facts that are unknown. */
static char *group_of(const struct config_rule *rule, const struct rules_facts *f,
		      const struct service_facts *sf, const struct cgroup_info *ci,
		      const char *fallback)
{
	struct grouptpl_facts g = {{0}};
	unsigned used;
	char user[256], comm[64], unit[256];
	const char *slash;
	char *out;

	if (!rule->group)
		return strdup(rule->name);
	used = grouptpl_fields(rule->group);
	g.v[GROUPTPL_RULE] = rule->name;
	g.v[GROUPTPL_NAME] = sf->name;
	g.v[GROUPTPL_SCRIPT] = sf->script;
	g.v[GROUPTPL_MODULE] = sf->module;
	g.v[GROUPTPL_UNIT] = f->unit;
	if (f->exe)
		g.v[GROUPTPL_EXEBASE] = (slash = strrchr(f->exe, '/')) ? slash + 1 : f->exe;
	g.v[GROUPTPL_CGROUP] = ci->path;
	g.v[GROUPTPL_POD] = ci->pod;
	g.v[GROUPTPL_CONTAINER] = ci->container;
	if (used & (1u << GROUPTPL_USER))
		g.v[GROUPTPL_USER] = user_name(f->uid, user, sizeof user);
	if (used & (1u << GROUPTPL_COMM))
		g.v[GROUPTPL_COMM] = comm_of(f->pid, comm, sizeof comm);
	if ((used & (1u << GROUPTPL_UNIT)) && !f->unit) {
		char cg[4096];
		long n = procfs_read(ROOT, f->pid, "cgroup", cg, sizeof cg);

		if (n > 0 && rules_cgroup_unit(cg, (size_t)n, unit, sizeof unit))
			g.v[GROUPTPL_UNIT] = unit;
	}
	out = grouptpl_expand(rule->group, &g);
	if (out && !*out) {
		/* Every fact it names is unknown: the rule's name (or the
		 * group it had) says more than an empty label. */
		free(out);
		out = strdup(fallback);
	}
	return out;
}

int service_read(struct service *sv, const struct config_rule *rule,
		 const struct rules_facts *f, const struct service_facts *sf,
		 const struct service *parent)
{
	const char *parent_group = parent ? parent->group : NULL;
	struct cgroup_info ci;

	memset(sv, 0, sizeof *sv);
	sv->oom_base = -1;
	if (parent && parent->cgroup && strlen(parent->cgroup) < sizeof ci.path) {
		/* A child forked by a tracked process starts in its cgroup:
		 * only the OOM counter is read, not every limit on the path
		 * again (a storm of forks would pay for them all). */
		memset(&ci, 0, sizeof ci);
		strcpy(ci.path, parent->cgroup);
		ci.v1 = parent->v1;
		cgroup_parse_ids(ci.path, ci.pod, sizeof ci.pod, ci.container,
				 sizeof ci.container);
		sv->v1 = parent->v1;
		sv->limit = parent->limit;
		sv->high = parent->high;
		sv->oom_base = cgroup_oom_kills(CGROUPFS, &ci);
		if (!(sv->cgroup = strdup(parent->cgroup)))
			return -ENOMEM;
	} else if (cgroup_read(ROOT, CGROUPFS, f->pid, &ci) == 0) {
		sv->v1 = ci.v1;
		sv->limit = ci.memory_limit;
		sv->high = ci.memory_high;
		sv->oom_base = ci.oom_kills;
		if (ci.path[0] && !(sv->cgroup = strdup(ci.path)))
			return -ENOMEM;
	} else {
		memset(&ci, 0, sizeof ci);
	}
	/* A child caught between its fork and its exec (a vfork child
	 * shows no argv of its own) is still its parent's. */
	if (!(sv->group = group_of(rule, f, sf, &ci,
				   parent_group ? parent_group : rule->name)))
		return -ENOMEM;
	return 0;
}

int service_regroup(struct service *sv, const struct config_rule *rule,
		    const struct rules_facts *f, const struct service_facts *sf)
{
	struct cgroup_info ci;
	char *g;

	memset(&ci, 0, sizeof ci);
	if (sv->cgroup && strlen(sv->cgroup) < sizeof ci.path) {
		strcpy(ci.path, sv->cgroup);
		cgroup_parse_ids(ci.path, ci.pod, sizeof ci.pod, ci.container,
				 sizeof ci.container);
	}
	/* Caught between a fork and an exec, a process may show neither
	 * its old argv nor its new one: it keeps the group it had. */
	if (!(g = group_of(rule, f, sf, &ci, sv->group ? sv->group : rule->name)))
		return -ENOMEM;
	if (sv->group && strcmp(g, sv->group) == 0) {
		free(g);
		return 0;
	}
	free(sv->group);
	sv->group = g;
	return 1;
}

void service_free(struct service *sv)
{
	free(sv->cgroup);
	free(sv->group);
	sv->cgroup = sv->group = NULL;
}

/* sv's cgroup as cgroup.h wants it. */
static int info_of(const struct service *sv, struct cgroup_info *ci)
{
	memset(ci, 0, sizeof *ci);
	if (!sv->cgroup || strlen(sv->cgroup) >= sizeof ci->path)
		return -ENOENT;
	strcpy(ci->path, sv->cgroup);
	ci->v1 = sv->v1;
	return 0;
}

int service_moved(struct service *sv, int pid)
{
	struct cgroup_info ci;

	if (cgroup_read(ROOT, CGROUPFS, pid, &ci) || !ci.path[0] ||
	    (sv->cgroup && strcmp(sv->cgroup, ci.path) == 0))
		return 0;
	free(sv->cgroup);
	if (!(sv->cgroup = strdup(ci.path)))
		return -ENOMEM;
	sv->v1 = ci.v1;
	sv->limit = ci.memory_limit;
	sv->high = ci.memory_high;
	sv->oom_base = ci.oom_kills;
	return 1;
}

int service_refresh(struct service *sv)
{
	struct cgroup_info ci;

	if (info_of(sv, &ci) || cgroup_refresh(CGROUPFS, &ci))
		return 0;
	if (ci.memory_limit == sv->limit && ci.memory_high == sv->high)
		return 0;
	sv->limit = ci.memory_limit;
	sv->high = ci.memory_high;
	return 1;
}

int service_how(struct service *sv, int status)
{
	struct cgroup_info ci;
	int64_t now;

	if (status < 0)
		return -1;
	if (WIFEXITED(status))
		return METRICS_HOW_EXIT;
	if (!WIFSIGNALED(status))
		return -1;
	if (WTERMSIG(status) != SIGKILL || sv->oom_base < 0 || info_of(sv, &ci))
		return METRICS_HOW_SIGNAL;
	now = cgroup_oom_kills(CGROUPFS, &ci);
	if (now > sv->oom_base) {
		/* One kill is one process's: a second SIGKILL in the cgroup
		 * needs a second kill to count as one. */
		sv->oom_base++;
		return METRICS_HOW_OOM;
	}
	return METRICS_HOW_SIGNAL;
}
