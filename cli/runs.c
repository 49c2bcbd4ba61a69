/* runs.c - memtide list, peak, rm and clean: reading and pruning runs. */
#include "cli.h"

#include "memtide/units.h"

#include <getopt.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct common {
	const char *db;
	int dry_run;
	int first; /* index of the first operand */
};

/* Parses --db, --dry-run (when allowed) and --help.  Returns 0, 1 after
 * help, or EXIT_USAGE after a usage error. */
static int parse_common(int argc, char **argv, const char *cmd, const char *usage,
			int allow_dry, struct common *c)
{
	static const struct option opts[] = {
		{"db", required_argument, NULL, 'd'},
		{"dry-run", no_argument, NULL, 'n'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int o;

	optind = 1;
	opterr = 0;
	while ((o = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (o) {
		case 'd':
			c->db = optarg;
			break;
		case 'n':
			if (!allow_dry)
				goto unknown;
			c->dry_run = 1;
			break;
		case 'h':
			fputs(usage, stdout);
			return 1;
		case ':':
			cli_error("option '%s' needs a value", argv[optind - 1]);
			return cli_usage_error(cmd);
		default:
		unknown:
			cli_error("unknown option '%s'", argv[optind - 1]);
			return cli_usage_error(cmd);
		}
	}
	c->first = optind;
	return 0;
}

static const char peak_usage[] =
	"Usage: memtide peak [RUN|FILE.dat...] [--func NAME] [--db PATH]\n"
	"Print the peak memory of runs (default the last; -1 the last, -2 the one\n"
	"before, as mprof counts): the peak of the total (RSS, or PSS/USS for runs\n"
	"recorded with --backend psutil_pss/psutil_uss; the processes of a\n"
	"memtided session are not summed: its largest one), and the largest\n"
	"process's own kernel peak with its pid (VmHWM, or wait4's ru_maxrss when\n"
	"it waited for no child), which also catches peaks that fell between two\n"
	"samples; \"unknown\" when it cannot be known.  Then each child's peak as\n"
	"mprof prints them.  mprof files are read in place, their first line as\n"
	"mprof prints it.\n"
	"\n"
	"      --func NAME  also the peak inside the markers labelled NAME (mprof's\n"
	"                   --func; '*': every label): the marker's own exact\n"
	"                   peak or the sampled total inside, the higher\n"
	"      --db PATH    database (default $MEMTIDE_DB, else\n"
	"                   $XDG_DATA_HOME/memtide/memtide.db)\n"
	"  -h, --help       this help\n";

/* Resolves every RUN operand (default: the last run) before acting on any,
 * so one bad id changes nothing. */
static int resolve_runs(struct store *s, int argc, char **argv, int first,
			int64_t **ids, int *n)
{
	int count = argc > first ? argc - first : 1;

	*ids = calloc((size_t)count, sizeof **ids);
	if (!*ids)
		return -1;
	for (int i = 0; i < count; i++)
		if (store_run_resolve(s, argc > first ? argv[first + i] : NULL,
				      &(*ids)[i])) {
			cli_error("%s", store_errmsg(s));
			free(*ids);
			return -1;
		}
	*n = count;
	return 0;
}

int cmd_peak(int argc, char **argv)
{
	static const struct option opts[] = {
		{"db", required_argument, NULL, 'd'},
		{"func", required_argument, NULL, 'f'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *db = NULL, *func = NULL;
	char tmp_db[4200] = "";
	struct store *s;
	int64_t *ids;
	int n, c, files = 0, rc = EXIT_OK;

	cli_relative_runs(argc, argv);
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			db = optarg;
			break;
		case 'f':
			func = optarg;
			break;
		case 'h':
			fputs(peak_usage, stdout);
			return EXIT_OK;
		default:
			return cli_option_error("peak", c, argv);
		}
	}
	for (int i = optind; i < argc; i++)
		files += cli_is_dat(argv[i]);
	if (files && files != argc - optind) {
		cli_error("give runs or mprof files, not both");
		return cli_usage_error("peak");
	}
	if (files) {
		/* Files become runs 1..n of a throwaway database. */
		if (cli_dat_import(argv + optind, files, tmp_db, sizeof tmp_db))
			return EXIT_FAIL;
		db = tmp_db;
	}
	if (!(s = cli_open_store(db, STORE_READ))) {
		cli_dat_cleanup(tmp_db);
		return EXIT_FAIL;
	}
	if (files) {
		n = files;
		ids = calloc((size_t)n, sizeof *ids);
		for (int i = 0; ids && i < n; i++)
			ids[i] = i + 1;
	} else if (resolve_runs(s, argc, argv, optind, &ids, &n)) {
		store_close(s);
		return EXIT_FAIL;
	}
	for (int i = 0; ids && i < n; i++) {
		if (files)
			peak_file(s, ids[i], argv[optind + i]);
		else
			summary_print(s, ids[i], stdout, 0);
		peak_children(s, ids[i]);
		if (func && peak_func(s, ids[i], func))
			rc = EXIT_FAIL;
	}
	free(ids);
	store_close(s);
	cli_dat_cleanup(tmp_db);
	return rc;
}

static const char rm_usage[] =
	"Usage: memtide rm RUN... [--dry-run] [--db PATH]\n"
	"Delete runs with their processes and samples (-1: the last run).\n"
	"  --dry-run   say what would be deleted, delete nothing\n";

static int delete_runs(struct store *s, const int64_t *ids, int n, int dry)
{
	for (int i = 0; i < n; i++) {
		if (dry) {
			printf("would delete run %lld\n", (long long)ids[i]);
			continue;
		}
		if (store_run_delete(s, ids[i])) {
			cli_error("cannot delete run %lld: %s", (long long)ids[i],
				  store_errmsg(s));
			return EXIT_FAIL;
		}
		printf("deleted run %lld\n", (long long)ids[i]);
	}
	return EXIT_OK;
}

int cmd_rm(int argc, char **argv)
{
	struct common c = {0};
	struct store *s;
	int64_t *ids;
	int n, rc;

	cli_relative_runs(argc, argv);
	rc = parse_common(argc, argv, "rm", rm_usage, 1, &c);
	if (rc)
		return rc == 1 ? EXIT_OK : rc;
	if (c.first >= argc) {
		cli_error("rm needs at least one run id (see memtide list)");
		return cli_usage_error("rm");
	}
	if (!(s = cli_open_store(c.db, c.dry_run ? STORE_READ : STORE_UPDATE)))
		return EXIT_FAIL;
	if (resolve_runs(s, argc, argv, c.first, &ids, &n)) {
		store_close(s);
		return EXIT_FAIL;
	}
	rc = delete_runs(s, ids, n, c.dry_run);
	free(ids);
	store_close(s);
	return rc;
}

static const char clean_usage[] =
	"Usage: memtide clean [--dry-run] [--db PATH]\n"
	"Delete every run in the database.\n"
	"  --dry-run   say what would be deleted, delete nothing\n";

int cmd_clean(int argc, char **argv)
{
	struct common c = {0};
	struct store *s;
	sqlite3_stmt *st;
	int64_t *ids = NULL;
	int n = 0, cap = 0, rc = parse_common(argc, argv, "clean", clean_usage, 1, &c);

	if (rc)
		return rc == 1 ? EXIT_OK : rc;
	if (c.first < argc) {
		cli_error("unexpected argument '%s' (to delete some runs: memtide rm)",
			  argv[c.first]);
		return cli_usage_error("clean");
	}
	if (!(s = cli_open_store(c.db, c.dry_run ? STORE_READ : STORE_UPDATE)))
		return EXIT_FAIL;
	if (sqlite3_prepare_v2(store_db(s), "SELECT id FROM run ORDER BY id", -1, &st,
			       NULL) != SQLITE_OK) {
		cli_error("cannot read runs: %s", sqlite3_errmsg(store_db(s)));
		store_close(s);
		return EXIT_FAIL;
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (n == cap) {
			int64_t *v = realloc(ids, (size_t)(cap = cap ? cap * 2 : 64) * sizeof *v);

			if (!v)
				break;
			ids = v;
		}
		ids[n++] = sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	rc = delete_runs(s, ids, n, c.dry_run);
	if (n == 0)
		printf("no runs to delete\n");
	free(ids);
	store_close(s);
	return rc;
}
