/* grouptpl.h - a process's group name from a template over its facts.
 *
 * A [track] rule's "group =" key names the group of each process it
 * tracks, as process-exporter's name templates do: the text is copied, and
 * each {{.Field}} is replaced by that fact of the process (empty when
 * unknown):
 *   {{.Rule}}       the rule's name          {{.Name}}    memtide's name
 *   {{.Comm}}       /proc/PID/comm           {{.ExeBase}} basename of exe
 *   {{.Script}}     the Python script        {{.Module}}  python -m module
 *   {{.Unit}}       systemd unit             {{.User}}    user name (or uid)
 *   {{.Cgroup}}     the cgroup path          {{.Pod}}     Kubernetes pod UID
 *   {{.Container}}  container ID
 * Without a group key, a process's group is its rule's name.
 */
#ifndef MEMTIDE_GROUPTPL_H
#define MEMTIDE_GROUPTPL_H

#include <stddef.h>

enum grouptpl_field {
	GROUPTPL_RULE,
	GROUPTPL_NAME,
	GROUPTPL_COMM,
	GROUPTPL_EXEBASE,
	GROUPTPL_SCRIPT,
	GROUPTPL_MODULE,
	GROUPTPL_UNIT,
	GROUPTPL_USER,
	GROUPTPL_CGROUP,
	GROUPTPL_POD,
	GROUPTPL_CONTAINER,
	GROUPTPL_NFIELDS
};

/* The facts of one process, indexed by enum grouptpl_field; NULL unknown. */
struct grouptpl_facts {
	const char *v[GROUPTPL_NFIELDS];
};

/* NULL when tpl is a valid template, else why not (a static string). */
const char *grouptpl_check(const char *tpl);

/* The fields tpl uses, a bit (1u << field) each: facts that cost a read
 * are read only when used. */
unsigned grouptpl_fields(const char *tpl);

/* Expands tpl (checked) over f into a malloc'd string, or NULL (ENOMEM). */
char *grouptpl_expand(const char *tpl, const struct grouptpl_facts *f);

#endif
