/* rules.h - which [track] rule, if any, a process falls under.
 *
 * The facts of a process are read once from /proc (exe, argv, uid, the
 * systemd unit of its cgroup, Python or not) and matched against the rules
 * of a config in file order: every key a rule has must match.  A process
 * whose parent is tracked under a rule with children = yes belongs to that
 * rule first, whatever it runs (a pid = N rule could never match its
 * children by the other keys).
 */
#ifndef MEMTIDE_RULES_H
#define MEMTIDE_RULES_H

#include <stddef.h>
#include <stdint.h>

#include "memtide/config.h"

struct rules_facts {
	int pid, ppid;
	uint64_t start_ticks; /* /proc/PID/stat field 22 */
	long uid;             /* the owner of /proc/PID (its effective uid) */
	char *exe;            /* /proc/PID/exe target, malloc'd, or NULL */
	char *cmdline;        /* argv joined by spaces (raw bytes), malloc'd */
	char *argv;           /* argv as read (NUL-separated), malloc'd, or NULL */
	size_t argv_len;
	char *unit;           /* systemd unit, malloc'd, or NULL */
	char *cgroup;         /* cgroup path (cgroup.h), malloc'd, or NULL */
	int python;           /* pyinfo_kind: 0 not, 1 exe, 2 embedded */
	char interpreter[64]; /* of an embedded interpreter, from maps */
	unsigned have;        /* RULES_NEED_* facts read so far */
};

/* What reading facts costs depends on the rules: the cgroup is read only
 * when a rule has unit = (cgroup = for its path), maps only when one has python = and exe is not
 * Python. */
enum {
	RULES_NEED_UNIT = 1,
	RULES_NEED_PYTHON = 2,
	RULES_NEED_CGROUP = 4,
};
unsigned rules_needs(const struct config *c);

/* Reads the facts of pid below root.  Returns 0, -ESRCH when it is gone (or
 * a zombie), or -ENOMEM.  Free with rules_facts_free(). */
int rules_read_facts(const char *root, int pid, unsigned need, struct rules_facts *f);
/* Reads the facts of need that f does not have yet.  Reading with need 0
 * first, matching, and completing only when a rule may still match keeps
 * maps (the costly one) unread for most processes. */
int rules_complete(const char *root, struct rules_facts *f, unsigned need);
void rules_facts_free(struct rules_facts *f);

/* The index of the rule f falls under, or -1.  parent_rule: the rule its
 * parent is tracked under, -1 when untracked.  A fact not read yet (see
 * have) is taken to match: the answer is final only once f is complete. */
int rules_match(const struct config *c, const struct rules_facts *f, int parent_rule);

/* The systemd unit in a /proc/PID/cgroup text: the innermost path
 * component ending in .service or .scope ("myapp.service" for
 * "0::/system.slice/myapp.service").  Returns 1 and the unit in out, or 0. */
int rules_cgroup_unit(const char *cgroup, size_t len, char *out, size_t outlen);

#endif
