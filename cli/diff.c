/* diff.c - memtide diff: two runs compared span by span (tests, markers)
 * and in total, peak and growth, for CI to compare a branch with main. */
#include "cli.h"

#include "memtide/text.h"
#include "memtide/units.h"

#include <getopt.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One label's spans in one run: the highest peak, the summed growth. */
struct side {
	int n;
	int64_t peak, grown;
};

struct row {
	const char *label;
	struct side a, b;
};

static double change_pct(const struct row *r)
{
	if (!r->a.n || !r->b.n || r->a.peak <= 0)
		return 0;
	return 100.0 * (double)(r->b.peak - r->a.peak) / (double)r->a.peak;
}

static int by_change(const void *pa, const void *pb)
{
	const struct row *a = pa, *b = pb;
	int64_t x = a->a.n && a->b.n ? a->b.peak - a->a.peak : 0;
	int64_t y = b->a.n && b->b.n ? b->b.peak - b->a.peak : 0;

	if (x != y)
		return x < y ? 1 : -1;
	return strcmp(a->label, b->label);
}

static struct row *find_or_add(struct row **v, size_t *n, size_t *cap, const char *label)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp((*v)[i].label, label) == 0)
			return &(*v)[i];
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 64;
		struct row *nv = realloc(*v, c * sizeof *nv);

		if (!nv)
			return NULL;
		*v = nv;
		*cap = c;
	}
	memset(&(*v)[*n], 0, sizeof **v);
	(*v)[*n].label = label;
	return &(*v)[(*n)++];
}

static int add_spans(struct row **v, size_t *n, size_t *cap, const struct span *sp,
		     size_t ns, int which)
{
	for (size_t i = 0; i < ns; i++) {
		struct row *r = find_or_add(v, n, cap, sp[i].label ? sp[i].label : "");
		struct side *sd;

		if (!r)
			return -1;
		sd = which ? &r->b : &r->a;
		sd->n++;
		if (sp[i].peak > sd->peak)
			sd->peak = sp[i].peak;
		sd->grown += span_grown(&sp[i]);
	}
	return 0;
}

/* The run as a whole: its peak (sampled total or kernel's, the higher) and
 * its growth (last sampled total minus the first). */
static int run_side(struct store *s, int64_t run, struct side *sd)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(
		store_db(s),
		"WITH t AS (SELECT s.tick, sum(s.rss) * r.page_size AS v FROM sample s"
		" JOIN proc p ON p.id = s.proc JOIN run r ON r.id = p.run WHERE p.run = ?1"
		" AND " CLI_IN_TOTAL " GROUP BY s.tick)"
		" SELECT (SELECT max(peak_rss * page_size, coalesce(kernel_peak_rss, 0))"
		" FROM run WHERE id = ?1), (SELECT v FROM t ORDER BY tick DESC LIMIT 1) -"
		" (SELECT v FROM t ORDER BY tick LIMIT 1)",
		-1, &st, NULL);

	if (rc != SQLITE_OK) {
		cli_error("cannot read run %lld: %s", (long long)run, sqlite3_errmsg(store_db(s)));
		return -1;
	}
	sqlite3_bind_int64(st, 1, run);
	if (sqlite3_step(st) == SQLITE_ROW) {
		sd->n = 1;
		sd->peak = sqlite3_column_int64(st, 0);
		sd->grown = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	return 0;
}

static void fmt_side(const struct side *sd, char *peak, char *grown)
{
	if (!sd->n) {
		strcpy(peak, "-");
		strcpy(grown, "-");
		return;
	}
	units_format_bytes(sd->peak, peak, 32);
	units_format_bytes(sd->grown < 0 ? -sd->grown : sd->grown, grown + 1, 31);
	grown[0] = sd->grown < 0 ? '-' : '+';
}

static void print_row(const struct row *r)
{
	char pa[32], ga[32], pb[32], gb[32], ch[32];

	fmt_side(&r->a, pa, ga);
	fmt_side(&r->b, pb, gb);
	if (r->a.n && r->b.n)
		snprintf(ch, sizeof ch, "%+.1f %%", change_pct(r));
	else
		snprintf(ch, sizeof ch, "%s", r->a.n ? "only A" : "only B");
	printf("%10s  %10s  %10s  %10s  %10s  ", ch, pa, pb, ga, gb);
	span_print_label(stdout, r->label);
	putchar('\n');
}

static const char usage[] =
	"Usage: memtide diff RUN_A RUN_B [--fail-over PCT] [--db PATH]\n"
	"Compare two runs (ids, -1 the last, -2 the one before, or mprof .dat files\n"
	"read in place) span by span: each pytest test and each marker label (its\n"
	"highest peak and summed growth over its spans), and the runs in total.\n"
	"Rows come largest peak increase first; CHANGE is the peak's, B against A.\n"
	"\n"
	"      --fail-over PCT  exit 3 when a span's (or the total's) peak grew more\n"
	"                       than PCT percent from A to B\n"
	"      --db PATH        database (default $MEMTIDE_DB, else\n"
	"                       $XDG_DATA_HOME/memtide/memtide.db)\n"
	"  -h, --help           this help\n";

int cmd_diff(int argc, char **argv)
{
	static const struct option opts[] = {
		{"fail-over", required_argument, NULL, 'f'},
		{"db", required_argument, NULL, 'd'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *db = NULL;
	char tmp_db[4200] = "", *end;
	double fail_over = -1;
	struct span *sp[2] = {NULL, NULL};
	size_t ns[2] = {0, 0}, nrows = 0, cap = 0;
	struct row *rows = NULL, total = {"(run total)", {0, 0, 0}, {0, 0, 0}};
	struct store *s = NULL;
	int64_t run[2];
	int c, files, code = EXIT_FAIL, over = 0;

	cli_relative_runs(argc, argv);
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			fail_over = strtod(optarg, &end);
			if (*end == '%')
				end++;
			if (*end || end == optarg || !(fail_over >= 0)) {
				cli_error("bad --fail-over '%s': give a percentage such as 20",
					  optarg);
				return cli_usage_error("diff");
			}
			break;
		case 'd':
			db = optarg;
			break;
		case 'h':
			fputs(usage, stdout);
			return EXIT_OK;
		default:
			return cli_option_error("diff", c, argv);
		}
	}
	if (argc - optind != 2) {
		cli_error("diff needs two runs, such as 'memtide diff -2 -1'");
		return cli_usage_error("diff");
	}
	files = cli_is_dat(argv[optind]) + cli_is_dat(argv[optind + 1]);
	if (files == 1) {
		cli_error("give two runs or two mprof files (import a file to compare it "
			  "with a run)");
		return cli_usage_error("diff");
	}
	if (files) {
		if (cli_dat_import(argv + optind, 2, tmp_db, sizeof tmp_db))
			return EXIT_FAIL;
		db = tmp_db;
	}
	if (!(s = cli_open_store(db, STORE_READ)))
		goto out;
	for (int i = 0; i < 2; i++) {
		if (files) {
			run[i] = i + 1;
		} else if (store_run_resolve(s, argv[optind + i], &run[i])) {
			cli_error("%s", store_errmsg(s));
			goto out;
		}
		if (spans_load(s, run[i], SPANS_NO_PHASES, &sp[i], &ns[i]) ||
		    add_spans(&rows, &nrows, &cap, sp[i], ns[i], i) ||
		    run_side(s, run[i], i ? &total.b : &total.a))
			goto out;
	}
	qsort(rows, nrows, sizeof *rows, by_change);
	if (files)
		printf("A: %s   B: %s\n", argv[optind], argv[optind + 1]);
	else
		printf("A: run %lld   B: run %lld\n", (long long)run[0], (long long)run[1]);
	printf("%10s  %10s  %10s  %10s  %10s  %s\n", "CHANGE", "PEAK A", "PEAK B", "GROWN A",
	       "GROWN B", "SPAN");
	print_row(&total);
	for (size_t i = 0; i < nrows; i++)
		print_row(&rows[i]);
	if (fail_over >= 0) {
		for (size_t i = 0; i <= nrows; i++) {
			const struct row *r = i < nrows ? &rows[i] : &total;
			char a[32], b[32];

			if (r->a.n && r->b.n && change_pct(r) > fail_over) {
				char *shown = text_argv(r->label, strlen(r->label), 0);

				cli_error("'%s' peaked %.1f %% higher (%s -> %s): over "
					  "--fail-over %g %%", shown ? shown : "?", change_pct(r),
					  units_format_bytes(r->a.peak, a, sizeof a),
					  units_format_bytes(r->b.peak, b, sizeof b), fail_over);
				free(shown);
				over++;
			}
		}
	}
	code = over ? EXIT_BUDGET : EXIT_OK;
out:
	free(rows);
	spans_free(sp[0], ns[0]);
	spans_free(sp[1], ns[1]);
	store_close(s);
	cli_dat_cleanup(tmp_db);
	return code;
}
