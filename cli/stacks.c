/* stacks.c - memtide run/attach --stacks: which processes get their Python
 * stacks read (stackwatch.h), what is said when they cannot, and the
 * sampler's own cost at the end. */
#include "cli_stacks.h"

#include "memtide/idmap.h"
#include "memtide/procfs.h"
#include "memtide/pyinfo.h"
#include "memtide/stackstore.h"
#include "memtide/stackwatch.h"
#include "memtide/store.h"
#include "memtide/ticker.h"
#include "memtide/units.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct cli_stacks {
	struct stackwatch *w;
	struct idmap tried; /* proc.id -> 1 once handed to the watcher */
	int attach, quiet;
	int64_t root; /* proc.id of the command or attached process */
	int root_pid;
	char root_why[160]; /* why the root has no stacks, "" while unknown */
	char root_exe[4096]; /* the root's exe when last looked at */
};

int cli_stacks_start(int64_t t0_ns, int64_t interval_ns, int attach, int quiet,
		     struct cli_stacks **out)
{
	struct cli_stacks *c = calloc(1, sizeof *c);
	int err;

	if (!c)
		return -ENOMEM;
	if ((err = stackwatch_new(t0_ns, interval_ns, 0, &c->w))) {
		free(c);
		return err;
	}
	c->attach = attach;
	c->quiet = quiet;
	*out = c;
	return 0;
}

/* A libpython mapped into a program that is not python itself (uwsgi). */
static int embeds_python(int pid)
{
	size_t len = 0;
	char ver[32];
	char *maps = procfs_read_all("/proc", pid, "maps", 1 << 22, &len);
	int yes = maps && pyinfo_maps_libpython(maps, len, ver, sizeof ver);

	free(maps);
	return yes;
}


/* The command as it is now: a pyenv shim or a wrapper script execs python
 * a moment after memtide started it, and the sampler re-reads exe only
 * once a second; the stacks of that second are worth a readlink a tick. */
static int exe_is_python_now(int pid)
{
	char path[64], exe[4096];
	ssize_t n;

	snprintf(path, sizeof path, "/proc/%d/exe", pid);
	n = readlink(path, exe, sizeof exe - 1);
	if (n <= 0)
		return 0;
	exe[n] = 0;
	return pyinfo_exe_is_python(exe);
}

static void add(struct cli_stacks *c, struct sampler_proc *p)
{
	char text[160];
	int err, final;

	final = stackwatch_settled(p->started);
	err = stackwatch_add(c->w, p->pid, p->id, final, text, sizeof text);
	if (err == -ENOTSUP && !final)
		return;
	idmap_put(&c->tried, p->id, 1);
	if (err == -ESRCH)
		return; /* it ended first: nothing to say */
	if (err)
		fprintf(stderr, "memtide: cannot read the Python stacks of process %d: "
			"%s; recording it without stacks\n", p->pid, text);
}

void cli_stacks_sync(struct cli_stacks *c, struct sampler *sm,
		     struct sampler_proc *root)
{
	if (root && root->id && !c->root) {
		c->root = root->id;
		c->root_pid = root->pid;
	}
	for (size_t i = 0; i < sampler_count(sm); i++) {
		struct sampler_proc *p = sampler_get(sm, i);
		int is_root = p == root;

		if (!p->id || !p->alive || idmap_get(&c->tried, p->id, NULL))
			continue;
		/* A child that is not Python (a shell, a pyenv shim before it
		 * execs python) is looked at again when its exe changes. */
		if ((p->exe && pyinfo_exe_is_python(p->exe)) ||
		    (is_root && !c->attach && exe_is_python_now(p->pid)))
			add(c, p);
		else if (is_root && c->attach)
			add(c, p); /* attach: say at once what it is */
		else if (is_root && strcmp(c->root_exe, p->exe ? p->exe : "?")) {
			snprintf(c->root_exe, sizeof c->root_exe, "%s", p->exe ? p->exe : "?");
			if (embeds_python(p->pid))
				add(c, p);
			else
				snprintf(c->root_why, sizeof c->root_why,
					 "not a Python interpreter (%.120s)", c->root_exe);
		}
	}
}

void cli_stacks_find_root(struct cli_stacks *c, struct sampler_proc *root, int64_t deadline_ns)
{
	const struct timespec step = {0, CLI_STACKS_RETRY_NS};

	if (!root || !root->id || c->attach)
		return;
	while (root->alive && !idmap_get(&c->tried, root->id, NULL) &&
	       !stackwatch_settled(root->started) &&
	       ticker_now_mono() + CLI_STACKS_RETRY_NS < deadline_ns) {
		if (nanosleep(&step, NULL))
			return; /* a signal: the caller sees to it */
		if (exe_is_python_now(root->pid))
			add(c, root);
	}
}

int cli_stacks_drain(struct cli_stacks *c, struct store *st)
{
	return stackwatch_drain(c->w, st);
}

/* ", N late" when some intervals were late (STACKWATCH_LATE_NS: their
 * changes may be charged to "(not sampled)"), else "". */
static const char *late_note(const struct stackwatch_stats *s, char *buf, size_t len)
{
	if (!s->late)
		return "";
	snprintf(buf, len, ", %lld intervals late (a busy machine: see (not sampled))",
		 (long long)s->late);
	return buf;
}

void cli_stacks_finish(struct cli_stacks *c, struct store *st)
{
	struct stackwatch_stats s;
	struct stackstore *ss;
	char mem[32], late[96];

	stackwatch_stop(c->w);
	if (c->root && !idmap_get(&c->tried, c->root, NULL)) {
		const char *why = c->root_why[0] ? c->root_why : "not a Python interpreter";

		fprintf(stderr, "memtide: process %d is %s; recorded without stacks\n",
			c->root_pid, why);
		if (stackstore_open(st, &ss) == 0) {
			stackstore_proc_stacks(ss, c->root, why);
			stackstore_close(ss);
		}
	}
	if (store_begin(st) == 0) {
		if (stackwatch_drain(c->w, st) || store_commit(st)) {
			fprintf(stderr, "memtide: cannot save the last stack charges: %s\n",
				store_errmsg(st));
			store_rollback(st);
		}
	}
	stackwatch_stats(c->w, &s);
	if (!c->quiet && s.samples) {
		units_format_bytes((int64_t)s.memory, mem, sizeof mem);
		fprintf(stderr, "memtide: stacks: %lld samples every %.0f ms, %.1f us CPU "
			"each (%.2f%% of a core), deepest %d frames, reader %s%s\n",
			(long long)s.samples, (double)s.period_ns / 1e6,
			(double)s.cpu_ns / 1e3 / (double)s.samples,
			s.wall_ns ? 100.0 * (double)s.cpu_ns / (double)s.wall_ns : 0.0,
			s.max_depth, mem, late_note(&s, late, sizeof late));
	}
}

void cli_stacks_free(struct cli_stacks *c)
{
	if (!c)
		return;
	stackwatch_free(c->w);
	idmap_free(&c->tried);
	free(c);
}
