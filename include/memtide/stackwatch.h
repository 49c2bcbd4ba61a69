/* stackwatch.h - the stack sampler: a thread that reads, on its own fast
 * grid, the Python stack and the RSS of each watched process, and charges
 * each RSS change to the code running around it (charge.h).
 *
 * Why a grid of its own: at -T 0.1 one RSS sample covers 100 ms, in which a
 * program runs many functions; the tick cannot say which one grew memory.
 * Every period (STACKWATCH_PERIOD_NS, 2 ms; longer when the sweeps over
 * many processes would cost more than STACKWATCH_CPU_BUDGET of a core)
 * the thread reads, per process,
 * the stack of the thread holding the GIL (pystack.h: mostly one
 * process_vm_readv once code objects are cached) and, right after,
 * the RSS from a kept-open /proc/PID/statm (one pread, ~5 us).  Each RSS
 * change between two such samples is charged to the stacks of its two ends
 * (charge.h) and summed per -T tick of the run (tick = the tick whose
 * sample closes the interval).  An interval that is late, longer than
 * STACKWATCH_LATE_NS or two grid steps, whichever is longer (the thread
 * starved on a busy machine, or reads that failed), whose ends differ may
 * hide a whole call: its change goes to the one-frame stack "(not
 * sampled)", not to either end.  The target is never stopped.
 *
 * What a sample costs (bench i, 2-vCPU VM): the timed wake-up, 15 to 40
 * us of CPU by itself, which is the floor; then mostly the one read of
 * the ten or so pages of the target a 3.10 sample touches (each page of
 * another process costs a few us to reach after a sleep, however few of
 * its bytes are copied) and the statm pread.  A process that did not run
 * since the last sweep is read all the same: its CPU clock
 * (clock_getcpuclockid()) cannot tell, since another process's clock moves
 * only at a scheduler tick while it runs (4 ms at HZ=250: half the reads 2
 * ms apart saw the clock of a process spinning all along unchanged).
 *
 * The caller (memtide run/attach, memtided) adds processes once they have a
 * proc.id and calls stackwatch_drain() with its other writes; the thread
 * finds for itself the processes that ended.  While no process is being
 * read (none added yet, none Python, all ended) the thread sleeps until
 * one is added: no wake-ups.  Thread-safe: every call takes the watcher's
 * lock, which the thread holds only during one sweep.
 */
#ifndef MEMTIDE_STACKWATCH_H
#define MEMTIDE_STACKWATCH_H

#include <stddef.h>
#include <stdint.h>

#define STACKWATCH_PERIOD_NS 2000000LL
/* The thread may take this share of a core at most, wake-ups included
 * (measured over 16 sweeps: its CPU clock is a system call): with many
 * processes the grid step grows (up to STACKWATCH_MAX_PERIOD_NS) instead. */
#define STACKWATCH_CPU_BUDGET 0.10
#define STACKWATCH_MAX_PERIOD_NS 50000000LL
#define STACKWATCH_MAX_DEPTH 128 /* frames kept per stack, innermost first */
/* An interval between two samples of a process is late past this, or past
 * two grid steps when that is longer.  Shorter delays are a scheduler's
 * ordinary ones: on a busy 2-core machine (the target's own threads
 * competing with the sampler for the cores) 4 to 6 ms come and go, and a
 * call hidden in one is short; the starved sampler of a loaded CI machine
 * left 50 ms gaps, longer than whole 10-30 ms allocating calls. */
#define STACKWATCH_LATE_NS 10000000LL
/* The function of the one-frame stack (file "", line 0) charged with the
 * change of an interval the thread was too late to see: shown as what it
 * is, never given to a line that may not have made it. */
#define STACKWATCH_NOT_SAMPLED "(not sampled)"

struct store;
struct stackwatch;

/* Creates a watcher and starts its thread.  t0_ns (CLOCK_MONOTONIC) and
 * interval_ns are the run's tick 0 and tick length; period_ns the stack
 * grid (0: STACKWATCH_PERIOD_NS).  Returns 0 or -errno. */
int stackwatch_new(int64_t t0_ns, int64_t interval_ns, int64_t period_ns,
		   struct stackwatch **out);

/* Sums the charges of step ticks into one row, at the last tick of each
 * step (step * k): memtided's base tick is 10 ms, and a row per stack
 * every 10 ms, all day, is more than anyone reads.  Default 1. */
void stackwatch_set_tick_step(struct stackwatch *w, int64_t step);

/* Stops the thread, charges what is still pending and frees everything;
 * call stackwatch_stop() and stackwatch_drain() first to keep the charges. */
void stackwatch_free(struct stackwatch *w);

/* Stops the thread (no more samples) and charges what is still pending. */
void stackwatch_stop(struct stackwatch *w);

/* 1 when a process started at started (Unix seconds) is old enough for a
 * failed stackwatch_add() to be final: a python just exec'd maps its
 * libpython a moment later (a pyenv build), so an interpreter not found is
 * looked for again until the process is 0.3 s old. */
int stackwatch_settled(double started);

/* Starts reading the stacks of pid, whose proc.id is proc.  Returns 0 with
 * the interpreter in text ("CPython 3.11.2"), or a negative errno with the
 * reason in text, one line (pystack_open(): -ESRCH, -EPERM with what to do,
 * -ENOTSUP).  On success, or on failure when final, proc.stacks gets text
 * at the next drain; a failure that is not final leaves no trace, for the
 * caller to try again (a python just exec'd has not mapped its libpython
 * yet). */
int stackwatch_add(struct stackwatch *w, int pid, int64_t proc, int final,
		   char *text, size_t len);

/* 1 when proc was added (read or not), else 0. */
int stackwatch_has(struct stackwatch *w, int64_t proc);

/* Stops reading proc (its series ended for another reason). */
void stackwatch_end(struct stackwatch *w, int64_t proc);

/* Writes what was charged since the last drain: frames and stacks first
 * seen, charge rows, proc.stacks and proc.peak_stack, inside the caller's
 * transaction.  Forgets processes that ended.  Returns 0 or a negative
 * code (sqlite3_errmsg(store_db(s)) says why); what failed is kept for the
 * next call. */
int stackwatch_drain(struct stackwatch *w, struct store *s);

/* The same for a caller whose processes were added under keys of its own
 * (memtided's local ids): map gives the proc.id of a key, 0 while it has
 * none yet (its rows wait) or no longer has one (an ended process: its
 * rows are dropped). */
typedef int64_t (*stackwatch_map_fn)(void *ctx, int64_t key);
int stackwatch_drain_mapped(struct stackwatch *w, struct store *s,
			    stackwatch_map_fn map, void *ctx);

struct stackwatch_stats {
	int64_t samples;   /* stack samples taken (one process, one read) */
	int64_t failed;    /* samples given up: a torn read, retried next */
	int64_t sweeps;    /* wake-ups of the thread, each with a process to read */
	int64_t missed;    /* grid points skipped: the thread woke too late */
	int64_t late;      /* late intervals of a process (see
			    * STACKWATCH_LATE_NS): where the stack
			    * changed, their change is charged to "(not
			    * sampled)" (charge.h) */
	int64_t cpu_ns;    /* CPU time of the thread */
	int64_t wall_ns;   /* since the thread started */
	size_t memory;     /* bytes held: readers' caches and the stack table */
	int max_depth;     /* deepest stack seen, frames */
	int64_t period_ns; /* the grid step now (longer with many processes) */
};

void stackwatch_stats(struct stackwatch *w, struct stackwatch_stats *out);

#endif
