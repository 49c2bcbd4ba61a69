/* where.c - memtide where: which Python code grew the memory of a run, from
 * the charges recorded with --stacks (store.h: charge, stack, frame). */
#include "cli.h"
#include "memtide/where.h"

#include "memtide/stackwatch.h"
#include "memtide/units.h"

#include "../plot/when.h"

#include <errno.h>
#include <getopt.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char usage[] =
	"Usage: memtide where [RUN] [OPTION...]\n"
	"Rank the Python code of a run recorded with --stacks by the memory\n"
	"(RSS) that grew while it ran, then show the stack at the peak.\n"
	"\n"
	"  RUN                 a run id, -1 the last (the default), -2 the one\n"
	"                      before\n"
	"      --pid N         only process N of the run\n"
	"      --since T       from T: 2h or 90s (ago), now, 2026-11-20T12:00,\n"
	"                      @UNIX_SECONDS\n"
	"      --until T       to T (same forms)\n"
	"      --functions     one row per function (default: per line)\n"
	"      --inclusive     count a function or line wherever it is on the\n"
	"                      stack (once per stack), not only innermost\n"
	"      --top N         the N rows that grew most (default 20; 0: all)\n"
	"      --csv           CSV: function,file,line,grown_bytes,released_bytes\n"
	"      --json          JSON: the rows and the stack at the peak\n"
	"      --flamegraph OUT.svg|OUT.png\n"
	"                      draw a flame graph of the growth instead\n"
	"      --db PATH       database\n"
	"  -h, --help          this help\n"
	"Sizes are bytes of RSS grown and released (a change of RSS between two\n"
	"stack samples, 2 ms apart, is charged to the code running around it).\n";

enum out_fmt { OUT_TABLE, OUT_CSV, OUT_JSON };

static int parse_when(const char *arg, const char *opt, double *t)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	if (when_parse(arg, (double)now.tv_sec + now.tv_nsec / 1e9, t)) {
		cli_error("bad %s '%s': give a duration such as 90s or 2h (ago), "
			  "'now', a date such as 2026-11-20T12:00, or @UNIX_SECONDS",
			  opt, arg);
		return -1;
	}
	return 0;
}

static int parse(int argc, char **argv, struct where_query *q, enum out_fmt *fmt,
		 const char **db, const char **flame)
{
	enum { O_PID = 256, O_SINCE, O_UNTIL, O_FUNCTIONS, O_INCLUSIVE, O_TOP,
	       O_CSV, O_JSON, O_FLAME, O_DB };
	static const struct option opts[] = {
		{"pid", required_argument, NULL, O_PID},
		{"since", required_argument, NULL, O_SINCE},
		{"until", required_argument, NULL, O_UNTIL},
		{"functions", no_argument, NULL, O_FUNCTIONS},
		{"inclusive", no_argument, NULL, O_INCLUSIVE},
		{"top", required_argument, NULL, O_TOP},
		{"csv", no_argument, NULL, O_CSV},
		{"json", no_argument, NULL, O_JSON},
		{"flamegraph", required_argument, NULL, O_FLAME},
		{"db", required_argument, NULL, O_DB},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;
	char *end;
	long v;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case O_PID:
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno || *end || v <= 0 || v > 4194304) {
				cli_error("bad --pid '%s': give a process id", optarg);
				return -1;
			}
			q->pid = (int)v;
			break;
		case O_SINCE:
			if (parse_when(optarg, "--since", &q->since))
				return -1;
			break;
		case O_UNTIL:
			if (parse_when(optarg, "--until", &q->until))
				return -1;
			break;
		case O_FUNCTIONS:
			q->functions = 1;
			break;
		case O_INCLUSIVE:
			q->inclusive = 1;
			break;
		case O_TOP:
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno || *end || v < 0 || v > 1000000) {
				cli_error("bad --top '%s': give a count, 0 for all", optarg);
				return -1;
			}
			q->top = (int)v;
			break;
		case O_CSV:
			*fmt = OUT_CSV;
			break;
		case O_JSON:
			*fmt = OUT_JSON;
			break;
		case O_FLAME:
			*flame = optarg;
			break;
		case O_DB:
			*db = optarg;
			break;
		case 'h':
			fputs(usage, stdout);
			return 1;
		default:
			cli_option_error("where", c, argv);
			return -2; /* the hint is said */
		}
	}
	if (argc - optind > 1) {
		cli_error("unexpected argument '%s': where reads one run", argv[optind + 1]);
		return -1;
	}
	if (q->since && q->until && q->until < q->since) {
		cli_error("--until is before --since");
		return -1;
	}
	return 0;
}

/* 1 when a row is the pseudo-function of changes the sampler did not see
 * (stackwatch.h), which the table then explains. */
static int shows_not_sampled(const struct where_rows *w)
{
	for (size_t i = 0; i < w->n; i++)
		if (!w->row[i].file[0] && strcmp(w->row[i].function, STACKWATCH_NOT_SAMPLED) == 0)
			return 1;
	return 0;
}

static void print_table(const struct where_rows *w, const struct where_query *q)
{
	char g[32], r[32], place[4096];

	printf("%10s %10s %6s  %-32s %s\n", "grown", "released", "share", "function",
	       q->functions ? "file" : "file:line");
	for (size_t i = 0; i < w->n; i++) {
		const struct where_row *x = &w->row[i];

		units_format_bytes(x->grown, g, sizeof g);
		units_format_bytes(x->released, r, sizeof r);
		if (q->functions || !x->file[0])
			snprintf(place, sizeof place, "%s", x->file);
		else
			snprintf(place, sizeof place, "%s:%d", x->file, x->line);
		printf("%10s %10s %5.1f%%  %-32s %s\n", g, r,
		       w->total_grown ? 100.0 * (double)x->grown / (double)w->total_grown : 0.0,
		       x->function, place);
	}
	units_format_bytes(w->total_grown, g, sizeof g);
	units_format_bytes(w->total_released, r, sizeof r);
	printf("%10s %10s %5.1f%%  (all code, self)\n", g, r, 100.0);
	if (shows_not_sampled(w))
		printf("\n%s: changes between two stack samples too far apart (a busy\n"
		       "machine held the sampler back) to tell which code ran between them.\n",
		       STACKWATCH_NOT_SAMPLED);
}

static void print_peak(const struct where_peak *p)
{
	char b[32];

	if (!p->n) {
		printf("\nNo stack at the peak was recorded.\n");
		return;
	}
	units_format_bytes(p->rss, b, sizeof b);
	printf("\nStack at the peak (process %d, RSS %s), innermost first:\n", p->pid, b);
	for (size_t i = 0; i < p->n; i++)
		if (p->frame[i].file[0])
			printf("  %-32s %s:%d\n", p->frame[i].function, p->frame[i].file,
			       p->frame[i].line);
		else
			printf("  %s\n", p->frame[i].function);
}

static void print_csv(const struct where_rows *w, const struct where_query *q)
{
	printf("function,file,line,grown_bytes,released_bytes\n");
	for (size_t i = 0; i < w->n; i++) {
		const struct where_row *x = &w->row[i];

		cli_csv_field(stdout, x->function);
		putchar(',');
		cli_csv_field(stdout, x->file);
		putchar(',');
		if (!q->functions)
			printf("%d", x->line);
		printf(",%lld,%lld\n", (long long)x->grown, (long long)x->released);
	}
}

static void print_json(const struct where_rows *w, const struct where_query *q,
		       const struct where_peak *p)
{
	printf("{\"run\": %lld, \"grown_bytes\": %lld, \"released_bytes\": %lld,"
	       " \"rows\": [", (long long)q->run, (long long)w->total_grown,
	       (long long)w->total_released);
	for (size_t i = 0; i < w->n; i++) {
		const struct where_row *x = &w->row[i];

		printf("%s\n  {\"function\": ", i ? "," : "");
		cli_json_string(stdout, x->function);
		printf(", \"file\": ");
		cli_json_string(stdout, x->file);
		if (q->functions)
			printf(", \"line\": null");
		else
			printf(", \"line\": %d", x->line);
		printf(", \"grown_bytes\": %lld, \"released_bytes\": %lld}",
		       (long long)x->grown, (long long)x->released);
	}
	printf("],\n \"peak\": ");
	if (!p->n) {
		printf("null}\n");
		return;
	}
	printf("{\"pid\": %d, \"rss_bytes\": %lld, \"stack\": [", p->pid, (long long)p->rss);
	for (size_t i = 0; i < p->n; i++) {
		printf("%s{\"function\": ", i ? ", " : "");
		cli_json_string(stdout, p->frame[i].function);
		printf(", \"file\": ");
		cli_json_string(stdout, p->frame[i].file);
		printf(", \"line\": %d}", p->frame[i].line);
	}
	printf("]}}\n");
}

/* The flame graph is drawn by memtide-plot, which has cairo (the recorder
 * never maps it). */
static int run_flamegraph(int argc, char **argv)
{
	char **args = calloc((size_t)argc + 2, sizeof *args);

	if (!args)
		return EXIT_FAIL;
	args[0] = (char *)"memtide-plot";
	args[1] = (char *)"--where-flamegraph";
	for (int i = 1; i < argc; i++)
		args[i + 1] = argv[i];
	cli_exec_plot(args);
	free(args);
	return EXIT_FAIL;
}

/* Says why a run has nothing to show: not recorded with --stacks, or
 * every interpreter unreadable (proc.stacks holds why). */
static void explain_empty(sqlite3 *db, const struct where_query *q)
{
	sqlite3_stmt *st;
	int said = 0;

	if (sqlite3_prepare_v2(db, "SELECT pid, stacks FROM proc WHERE run = ?1 AND"
			       " stacks IS NOT NULL AND (?2 = 0 OR pid = ?2) ORDER BY id",
			       -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, q->run);
		sqlite3_bind_int(st, 2, q->pid);
		while (sqlite3_step(st) == SQLITE_ROW && said < 5) {
			const char *why = (const char *)sqlite3_column_text(st, 1);

			if (why && strncmp(why, "CPython", 7) == 0)
				continue;
			cli_error("run %lld: process %d has no stacks: %s", (long long)q->run,
				  sqlite3_column_int(st, 0), why ? why : "?");
			said++;
		}
		sqlite3_finalize(st);
	}
	if (!said)
		cli_error("run %lld has no growth charged to Python code%s", (long long)q->run,
			  q->since || q->until || q->pid ? " in what was selected"
							 : " (record it with 'memtide run --stacks')");
}

int cmd_where(int argc, char **argv)
{
	struct where_query q = {.top = 20};
	struct where_rows rows = {0};
	struct where_peak peak = {0};
	enum out_fmt fmt = OUT_TABLE;
	const char *db = NULL, *flame = NULL;
	struct store *s;
	int err, code = EXIT_FAIL;

	cli_relative_runs(argc, argv); /* "-1": the last run, as mprof counts */
	if ((err = parse(argc, argv, &q, &fmt, &db, &flame)))
		return err > 0 ? EXIT_OK : err == -2 ? EXIT_USAGE : cli_usage_error("where");
	if (flame)
		return run_flamegraph(argc, argv);
	if (!(s = cli_open_store(db, STORE_READ)))
		return EXIT_FAIL;
	if (store_run_resolve(s, optind < argc ? argv[optind] : NULL, &q.run)) {
		cli_error("%s", store_errmsg(s));
		goto out;
	}
	if (where_rank(store_db(s), &q, &rows) || where_peak_stack(store_db(s), &q, &peak)) {
		cli_error("where: %s", sqlite3_errmsg(store_db(s)));
		goto out;
	}
	if (rows.n == 0 && fmt == OUT_TABLE) {
		explain_empty(store_db(s), &q);
		goto out;
	}
	if (fmt == OUT_CSV)
		print_csv(&rows, &q);
	else if (fmt == OUT_JSON)
		print_json(&rows, &q, &peak);
	else {
		print_table(&rows, &q);
		print_peak(&peak);
	}
	code = fflush(stdout) == 0 ? EXIT_OK : EXIT_FAIL;
out:
	where_rows_free(&rows);
	where_peak_free(&peak);
	store_close(s);
	return code;
}
