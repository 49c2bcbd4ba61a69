/* cli.h - the memtide command's subcommands and their shared helpers. */
#ifndef MEMTIDE_CLI_H
#define MEMTIDE_CLI_H

#include "memtide/store.h"

#include <stdio.h>

/* Exit codes (a run returns its command's own status instead).
 * EXIT_BUDGET: a memory budget (run --max-peak/--max-growth) or a diff's
 * --fail-over threshold was exceeded. */
enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2, EXIT_BUDGET = 3 };

int cmd_run(int argc, char **argv);
int cmd_attach(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_peak(int argc, char **argv);
int cmd_rm(int argc, char **argv);
int cmd_clean(int argc, char **argv);
int cmd_plot(int argc, char **argv);
int cmd_query(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_mark(int argc, char **argv);
int cmd_where(int argc, char **argv);
int cmd_tests(int argc, char **argv);
int cmd_diff(int argc, char **argv);

/* Writes run to path in the format its name asks for (.csv, .json, else
 * mprof's .dat), printing one line on failure (the file is then removed).
 * Returns 0 or -1. */
int cli_export_file(struct store *s, int64_t run, const char *path);

/* memtide peak's lines (cli/peak.c): each child's peak as mprof prints
 * it ("  Child PID\t\t\tX.XXX MiB"); the peak inside the markers labelled
 * func ("*": every label), one line a label; an mprof file's peak as mprof
 * prints it ("FILE\tX.XXX MiB").  Return 0 or -1 (after one line). */
int peak_children(struct store *s, int64_t run);
int peak_func(struct store *s, int64_t run, const char *func);
int peak_file(struct store *s, int64_t run, const char *file);

/* memtide import's work: the files into the database db (NULL: the
 * default), labelled label (NULL: each file's name).  Returns an exit code. */
int cli_import_files(const char *db, const char *label, int quiet, char **files,
		     int n);
/* Imports mprof files into a new database in a new private temporary
 * directory (its path into db, at most len bytes), for commands that read
 * .dat files directly without touching the user's database.  The runs get
 * ids 1..n in the order given.  Prints one line on failure; returns 0 or
 * -1.  cli_dat_cleanup() removes the directory. */
int cli_dat_import(char **files, int n, char *db, size_t len);
void cli_dat_cleanup(const char *db);
/* An operand that names an mprof file rather than a run: ends in .dat and
 * exists. */
int cli_is_dat(const char *arg);
/* Rewrites each operand "-N" (mprof's relative index: -1 the last run) in
 * place to "~N", which store_run_resolve() reads the same, so that getopt
 * does not take it for an option.  Call before getopt. */
void cli_relative_runs(int argc, char **argv);
int cmd_ps(int argc, char **argv);

/* Runs memtide-plot (beside this executable, else on PATH) with args;
 * returns only when exec failed, after one line (cli/plot.c). */
void cli_exec_plot(char **args);

/* Prints "memtide: <message>" and a newline on stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Opens the database named by --db (or the defaults of store.h), printing
 * one line on failure.  Returns the store, or NULL. */
struct store *cli_open_store(const char *db_arg, enum store_mode mode);

struct marksock;
/* For memtide run: binds a marker socket in a new private directory (its
 * path, at most len bytes, into dir) and names it in $MEMTIDE_MARK_SOCKET
 * for the command.  Returns NULL (and dir "") when that fails: the run then
 * records without markers. */
struct marksock *mark_listen(char *dir, size_t len);
/* Closes the socket, removes its directory and the variable. */
void mark_unlisten(struct marksock *m, const char *dir);
/* The thread that empties the socket into memory as datagrams arrive
 * (cli/markq.c; mark_listen/mark_unlisten start and stop it), and the
 * sampling loop's side: stores at most max queued markers (all that are
 * left, unread ones included, when max >= 1 << 20) in one transaction.
 * Returns how many, or -errno (they stay queued). */
void mark_reader_start(struct marksock *m);
void mark_reader_stop(void);
int mark_drain(struct marksock *m, struct store *s, int64_t run, int max);

/* exits.c: memtide run's record of each process's cgroup, memory limit and
 * how it ended.  NULL (no memory) is accepted by every call, as a no-op. */
struct run_exits;
struct run_exits *run_exits_new(void);
void run_exits_free(struct run_exits *x);
/* Takes the pending exit events of the processes recorded. */
void run_exits_poll(struct run_exits *x);
/* A process recorded as proc (pid) at Unix time t: stores its cgroup and
 * limit.  0 or a store code. */
int run_exits_seen(struct run_exits *x, struct store *st, int64_t proc, int pid,
		   double t);
/* Takes the pending exit events (run_exits_poll), then reads every live
 * one's cgroup again, storing moves and limit changes.  Called each second. */
int run_exits_refresh(struct run_exits *x, struct store *st, double t);
/* proc ended at t with wait status status (-1: from its exit event, if
 * any): stores how, and an OOM kill as a marker and a line on stderr
 * (*oom = 1).  wait: it was seen to end (not merely no longer recorded), so
 * its exit event, a moment behind, is waited for up to 50 ms. */
int run_exits_ended(struct run_exits *x, struct store *st, int64_t run, int64_t proc,
		    int status, int wait, double t, int *oom);

/* Writes s as one CSV field (RFC 4180: quoted when it holds a comma, a
 * quote, CR or LF); NULL writes nothing. */
void cli_csv_field(FILE *f, const char *s);
/* Writes s as a JSON string, escaped. */
void cli_json_string(FILE *f, const char *s);

/* Writes the stacks of runs as collapsed stacks weighted by bytes grown
 * (cli/collapsed.c).  Returns 0, or -1 after printing why. */
struct sqlite3;
int export_collapsed(struct sqlite3 *db, FILE *f, const int64_t *runs, size_t n);

/* Prints "try 'memtide CMD --help'" after a usage error; returns EXIT_USAGE. */
int cli_usage_error(const char *cmd);
/* After getopt_long() returned opt ':' (a missing value) or '?' (an
 * unknown option; its ':'-leading optstring asks for both): one line naming
 * the option, then the --help hint.  Returns EXIT_USAGE. */
int cli_option_error(const char *cmd, int opt, char **argv);

/* SQL: the series of proc p (of run r) that make its run's total: every
 * process of a recorded run; of an import, the MEM series only (its CHLD
 * lines are children mprof -M draws apart; MEM with -C already counts
 * them). */
#define CLI_IN_TOTAL "NOT (r.kind = 'import' AND p.start_ticks <> 0)"

/* A span of a run: a marker with an end (cli/spans.c). */
struct span {
	char *label, *outcome; /* outcome NULL for none */
	double start, end;     /* Unix seconds */
	int64_t mem_start, mem_end; /* bytes, -1 unknown */
	int64_t peak;          /* bytes: see spans.c */
	int pid;
};
/* Which spans: all; pytest's tests alone (not their phases nor other
 * markers); all but pytest's phases. */
enum spans_which { SPANS_ALL, SPANS_TESTS, SPANS_NO_PHASES };
/* The run's spans in start order.  Returns 0 or -1 (after one line). */
int spans_load(struct store *s, int64_t run, enum spans_which which,
	       struct span **out, size_t *n);
void spans_free(struct span *v, size_t n);
/* Writes a marker's label (a program's bytes) with control bytes and
 * invalid UTF-8 escaped, so a row stays one line on a terminal. */
void span_print_label(FILE *f, const char *label);
/* mem_end - mem_start, 0 when either is unknown. */
int64_t span_grown(const struct span *v);

/* memtide attach NAME: the pid of the one process whose name contains
 * name; -1 after one line when none does (or name is a number: not a pid
 * then), -2 after the list of candidates when several do
 * (cli/attachname.c).  Both are usage errors. */
int attach_by_name(const char *name);

/* What memtide run adds to recording (cli/budget.c). */
struct run_extras {
	int python;           /* --python */
	int nopython;         /* --nopython: a bare script.py without @profile */
	const char *output;   /* -o FILE: also write the run there */
	int64_t max_peak;     /* bytes, -1: none */
	int64_t max_growth;   /* bytes, last sample's total minus the first's */
	double max_rate;      /* bytes/s of the run's trend, -1: none */
};
#define RUN_EXTRAS_INIT {0, 0, NULL, -1, -1, -1}
enum { RUN_OPT_PYTHON = 400, RUN_OPT_OUTPUT = 'o', RUN_OPT_MAX_PEAK = 401,
       RUN_OPT_MAX_GROWTH = 402, RUN_OPT_NOPYTHON = 403 };
/* The index of mprof's "-a"/"--attach" among run's options (before the
 * command), or 0: "memtide run -a PID" is "memtide attach PID". */
int run_attach_flag(int argc, char **argv);
/* Takes one of the options above; returns 0, or -1 after one line. */
int run_extras_option(struct run_extras *x, int opt, const char *arg);
/* The command to run for argv (argc words): script.py under python3 (and
 * *builtin set: it gets @profile), --python MODULE under python3 -m.
 * NULL-terminated, calloc'd (free it; the words are argv's). */
char **run_extras_argv(const struct run_extras *x, char **argv, int argc, int *builtin);
/* Sets up the command's environment: PYTHONPATH, $MEMTIDE_PROFILE_BUILTIN. */
void run_extras_env(const struct run_extras *x, int profile_builtin);
/* After the run ended: the -o file and the budgets.  Returns the exit code:
 * exit_code, or EXIT_FAIL / EXIT_BUDGET when it was EXIT_OK and the file
 * could not be written / a budget was exceeded. */
int run_extras_finish(const struct run_extras *x, struct store *s, int64_t run,
		      int exit_code);
/* peaks.c: the own kernel peaks of memtide run's processes. */
struct sampler;
struct sampler_proc;
struct own_peak {
	int known;  /* the command's zombie was read before it was reaped */
	int waited; /* it had waited for children: ru_maxrss may be theirs */
};
/* Before reaping pid: when it has exited (a zombie), notes whether it
 * waited for any child. */
void peaks_check_zombie(struct own_peak *o, int pid);
/* Writes every process's own kernel peak (bytes) to the store, the
 * command's ru_maxrss (KiB, <= 0 unknown) among them when it is its own.
 * Returns ru_maxrss in bytes when it is not its own but above it (a
 * descendant's peak), else -1. */
int64_t peaks_store(struct store *st, struct sampler *sm, struct sampler_proc *root,
		    const struct own_peak *o, int64_t ru_maxrss_kib);
/* Without -C: one line when a descendant's peak (from peaks_store) is far
 * above the command's own, suggesting -C. */
void peaks_suggest_children(int64_t waited_peak, const struct sampler_proc *root);

/* summary.c: prints the figures of run as memtide peak does, from the
 * store: one line on stderr after memtide run, one on stdout for peak. */
int summary_print(struct store *s, int64_t run, FILE *f, int after_run);

#endif
