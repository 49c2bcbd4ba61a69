/* cli_stacks.h - memtide run/attach --stacks (cli/stacks.c). */
#ifndef MEMTIDE_CLI_STACKS_H
#define MEMTIDE_CLI_STACKS_H

#include "memtide/sampler.h"
#include "memtide/store.h"

#include <stdint.h>

struct cli_stacks;

/* Starts the stack sampler of a run whose tick 0 is t0_ns (monotonic) and
 * ticks interval_ns long.  Returns 0 or -errno. */
int cli_stacks_start(int64_t t0_ns, int64_t interval_ns, int attach, int quiet,
		     struct cli_stacks **out);
/* Hands the Python processes of sm that have a proc.id to the sampler;
 * says in one line (stderr) why one cannot be read. */
void cli_stacks_sync(struct cli_stacks *c, struct sampler *sm,
		     struct sampler_proc *root);
/* While the command (root) is not yet a python found by the sampler (it
 * has not exec'd python yet, or not mapped its libpython: a pyenv build)
 * and is younger than stackwatch_settled()'s 0.3 s, looks for it again
 * every CLI_STACKS_RETRY_NS until deadline_ns (monotonic: the next tick),
 * not only at the next -T tick: its imports, in its first 100 ms, are
 * often what grows.  Returns early on a signal. */
#define CLI_STACKS_RETRY_NS (5 * 1000 * 1000LL)
void cli_stacks_find_root(struct cli_stacks *c, struct sampler_proc *root, int64_t deadline_ns);
/* Writes the charges so far, in the caller's transaction. */
int cli_stacks_drain(struct cli_stacks *c, struct store *st);
/* Stops sampling, writes the rest in its own transaction, says when the
 * command was not Python, and prints the sampler's cost unless quiet. */
void cli_stacks_finish(struct cli_stacks *c, struct store *st);
void cli_stacks_free(struct cli_stacks *c);

#endif
