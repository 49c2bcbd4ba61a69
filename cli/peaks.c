/* peaks.c - memtide run: each process's own kernel peak, and the figure of
 * the children a run without -C leaves unrecorded.
 *
 * wait4()'s ru_maxrss is the largest peak among the child and every
 * descendant it waited for, so it is the child's own only when it waited for
 * none.  The zombie tells, read between its exit and its reaping: the page
 * faults of the children it waited for (stat fields 11 and 13) are 0 only
 * when there were none, as every process that runs faults at least once.
 * Otherwise the own peak is the last VmHWM read while it lived (the sampler
 * reads it whenever the sampled peak passes what is known), never below the
 * sampled peak.
 */
#include "cli.h"

#include "memtide/procfs.h"
#include "memtide/sampler.h"
#include "memtide/units.h"

#include <stdio.h>
#include <sys/wait.h>

void peaks_check_zombie(struct own_peak *o, int pid)
{
	siginfo_t si = {0};
	struct procfs_stat ps;

	if (o->known || pid <= 0)
		return;
	if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0 ||
	    si.si_pid != pid)
		return;
	if (procfs_read_stat("/proc", pid, &ps))
		return;
	o->known = 1;
	o->waited = ps.cminflt || ps.cmajflt;
}

int64_t peaks_store(struct store *st, struct sampler *sm, struct sampler_proc *root,
		    const struct own_peak *o, int64_t ru_maxrss_kib)
{
	int64_t waited_peak = -1;

	for (size_t i = 0; i < sampler_count(sm); i++) {
		struct sampler_proc *p = sampler_get(sm, i);

		if (p->id && p->hwm_kib > 0)
			store_proc_hwm(st, p->id, p->hwm_kib * 1024);
	}
	if (!root || !root->id || ru_maxrss_kib <= 0)
		return -1;
	if (o->known && !o->waited)
		store_proc_hwm(st, root->id, ru_maxrss_kib * 1024);
	else if (ru_maxrss_kib > root->hwm_kib)
		waited_peak = ru_maxrss_kib * 1024;
	return waited_peak;
}

void peaks_suggest_children(int64_t waited_peak, const struct sampler_proc *root)
{
	char a[32], b[32];

	/* "Far above": more than half as much again, and by 10 MiB at least,
	 * not a few pages of a short-lived helper. */
	if (!root || waited_peak <= 0 || root->hwm_kib <= 0 ||
	    waited_peak < root->hwm_kib * 1024 * 3 / 2 ||
	    waited_peak - root->hwm_kib * 1024 < (10 << 20))
		return;
	units_format_bytes(waited_peak, a, sizeof a);
	units_format_bytes(root->hwm_kib * 1024, b, sizeof b);
	fprintf(stderr, "memtide: a child of the command reached %s (kernel peak), "
		"the command itself %s: record children too with -C\n", a, b);
}
