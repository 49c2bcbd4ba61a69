/* cli.h - the memtide command's subcommands and their shared helpers. */
#ifndef MEMTIDE_CLI_H
#define MEMTIDE_CLI_H

#include "memtide/store.h"

#include <stdio.h>

/* Exit codes (a run returns its command's own status instead). */
enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

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
/* Reads every live one's cgroup again, storing moves and limit changes. */
int run_exits_refresh(struct run_exits *x, struct store *st, double t);
/* proc ended at t with wait status status (-1: from its exit event, if
 * any): stores how, and an OOM kill as a marker and a line on stderr
 * (*oom = 1). */
int run_exits_ended(struct run_exits *x, struct store *st, int64_t run, int64_t proc,
		    int status, double t, int *oom);

/* Writes s as one CSV field (RFC 4180: quoted when it holds a comma, a
 * quote, CR or LF); NULL writes nothing. */
void cli_csv_field(FILE *f, const char *s);
/* Writes s as a JSON string, escaped. */
void cli_json_string(FILE *f, const char *s);

/* Prints "try 'memtide CMD --help'" after a usage error; returns EXIT_USAGE. */
int cli_usage_error(const char *cmd);
/* After getopt_long() returned opt ':' (a missing value) or '?' (an
 * unknown option; its ':'-leading optstring asks for both): one line naming
 * the option, then the --help hint.  Returns EXIT_USAGE. */
int cli_option_error(const char *cmd, int opt, char **argv);

#endif
