/* main.c - memtide: dispatch to a subcommand. */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
	"Usage: memtide COMMAND [OPTION...] [ARG...]\n"
	"Record the memory of programs over time into SQLite, mprof-style.\n"
	"\n"
	"Commands:\n"
	"  run [-T SEC] [-C] [-t SEC] [--] COMMAND [ARG...]\n"
	"                        run COMMAND and record it (a bare script.py runs\n"
	"                        under python3)\n"
	"  attach PID            record a running process until it exits\n"
	"  list [--since T]      list recorded runs\n"
	"  ps [RUN]              list the processes of a run, or of a window\n"
	"  peak [RUN...]         print the peak memory of runs\n"
	"  rm RUN...             delete runs\n"
	"  clean                 delete every run\n"
	"  plot [RUN...]         chart runs to PNG, SVG or PDF\n"
	"  query SQL             run read-only SQL on the database (memtide-sql(7))\n"
	"  export [RUN...]       write runs as mprof .dat, CSV or JSON\n"
	"  import FILE.dat...    read mprof files in as runs\n"
	"  mark LABEL [--end]    mark a moment, or the start and end of a span\n"
	"  tests [RUN]           one row per pytest test: peak, growth, duration\n"
	"  diff RUN_A RUN_B      compare two runs span by span (CI: --fail-over)\n"
	"\n"
	"Every command takes --db PATH (default $MEMTIDE_DB, else\n"
	"$XDG_DATA_HOME/memtide/memtide.db) and --help.  RUN is an id from\n"
	"'memtide list' (-1 the last, -2 the one before, as mprof counts); the\n"
	"default is the last run.  plot and peak also read mprof .dat files.\n"
	"The views runs, processes, samples and marks answer SQL: see memtide-sql(7).\n";

void cli_error(const char *fmt, ...)
{
	va_list ap;

	fputs("memtide: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int cli_usage_error(const char *cmd)
{
	fprintf(stderr, "Try 'memtide %s --help'.\n", cmd);
	return EXIT_USAGE;
}

int cli_option_error(const char *cmd, int opt, char **argv)
{
	if (opt == ':')
		cli_error("option '%s' needs a value", argv[optind - 1]);
	else if (optopt)
		cli_error("unknown option '-%c'", optopt);
	else
		cli_error("unknown option '%s'", argv[optind - 1]);
	return cli_usage_error(cmd);
}

struct store *cli_open_store(const char *db_arg, enum store_mode mode)
{
	char *path = store_default_path(db_arg);
	struct store *s = NULL;
	int err;

	if (!path) {
		cli_error("no database path: set --db, $MEMTIDE_DB or $HOME");
		return NULL;
	}
	/* Only the default directory is made: a --db or $MEMTIDE_DB naming
	 * a missing one is a typo to report, not a tree to create. */
	if (mode == STORE_WRITE && store_path_is_default(db_arg) &&
	    (err = store_make_dir(path)) < 0) {
		cli_error("cannot create the directory of '%s': %s", path, strerror(-err));
		free(path);
		return NULL;
	}
	err = store_open(path, mode, &s);
	if (err) {
		if (mode != STORE_WRITE && err == -ENOENT)
			cli_error("cannot open database '%s': it does not exist yet "
				  "(record something with 'memtide run')", path);
		else
			cli_error("cannot open database '%s': %s", path, store_errmsg(s));
		store_close(s);
		free(path);
		return NULL;
	}
	free(path);
	return s;
}

static const struct {
	const char *name;
	int (*fn)(int, char **);
} commands[] = {
	{"run", cmd_run},     {"attach", cmd_attach}, {"list", cmd_list},
	{"peak", cmd_peak},   {"rm", cmd_rm},         {"clean", cmd_clean},
	{"plot", cmd_plot},
	{"query", cmd_query}, {"export", cmd_export}, {"import", cmd_import},
	{"mark", cmd_mark},   {"ps", cmd_ps},         {"tests", cmd_tests},
	{"diff", cmd_diff},
};

int main(int argc, char **argv)
{
	if (argc < 2) {
		fputs(usage, stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		fputs(usage, stdout);
		return EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
		printf("memtide %s\n", MEMTIDE_VERSION);
		return EXIT_OK;
	}
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].fn(argc - 1, argv + 1);
	cli_error("unknown command '%s'", argv[1]);
	fputs("Try 'memtide --help'.\n", stderr);
	return EXIT_USAGE;
}
