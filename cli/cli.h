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
int cmd_ps(int argc, char **argv);

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
