/* tests.c - memtide tests: one row per pytest test of a run, with its
 * duration, growth and peak (python/memtide/pytest.py marks them). */
#include "cli.h"

#include "memtide/units.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum sort { SORT_PEAK, SORT_GROWTH, SORT_DURATION };
enum out { OUT_TEXT, OUT_CSV, OUT_JSON };

static enum sort sort_by;

static int cmp(const void *pa, const void *pb)
{
	const struct span *a = pa, *b = pb;
	double x, y;

	switch (sort_by) {
	case SORT_GROWTH:
		x = (double)span_grown(a), y = (double)span_grown(b);
		break;
	case SORT_DURATION:
		x = a->end - a->start, y = b->end - b->start;
		break;
	default:
		x = (double)a->peak, y = (double)b->peak;
	}
	return x < y ? 1 : x > y ? -1 : a->start < b->start ? -1 : a->start > b->start;
}

static void print_text(const struct span *v, size_t n)
{
	char peak[32], grown[32], dur[32];

	printf("%10s  %10s  %10s  %-8s  %s\n", "PEAK", "GROWN", "DURATION", "OUTCOME", "TEST");
	for (size_t i = 0; i < n; i++) {
		int64_t g = span_grown(&v[i]);

		units_format_bytes(v[i].peak, peak, sizeof peak);
		units_format_bytes(g < 0 ? -g : g, grown + 1, sizeof grown - 1);
		grown[0] = g < 0 ? '-' : '+';
		snprintf(dur, sizeof dur, "%.3f s", v[i].end - v[i].start);
		printf("%10s  %10s  %10s  %-8s  ", peak, grown, dur,
		       v[i].outcome ? v[i].outcome : "");
		span_print_label(stdout, v[i].label);
		putchar('\n');
	}
}

static void print_csv(const struct span *v, size_t n)
{
	fputs("test,outcome,duration_s,start_bytes,end_bytes,grown_bytes,peak_bytes,pid\r\n",
	      stdout);
	for (size_t i = 0; i < n; i++) {
		cli_csv_field(stdout, v[i].label);
		putchar(',');
		cli_csv_field(stdout, v[i].outcome);
		printf(",%.6f,%lld,%lld,%lld,%lld,%d\r\n", v[i].end - v[i].start,
		       (long long)v[i].mem_start, (long long)v[i].mem_end,
		       (long long)span_grown(&v[i]), (long long)v[i].peak, v[i].pid);
	}
}

static void print_json(const struct span *v, size_t n)
{
	putchar('[');
	for (size_t i = 0; i < n; i++) {
		fputs(i ? ",\n {\"test\": " : "\n {\"test\": ", stdout);
		cli_json_string(stdout, v[i].label);
		fputs(", \"outcome\": ", stdout);
		if (v[i].outcome)
			cli_json_string(stdout, v[i].outcome);
		else
			fputs("null", stdout);
		printf(", \"duration_s\": %.6f, \"start_bytes\": %lld, \"end_bytes\": %lld,"
		       " \"grown_bytes\": %lld, \"peak_bytes\": %lld, \"pid\": %d}",
		       v[i].end - v[i].start, (long long)v[i].mem_start,
		       (long long)v[i].mem_end, (long long)span_grown(&v[i]),
		       (long long)v[i].peak, v[i].pid);
	}
	fputs("\n]\n", stdout);
}

static const char usage[] =
	"Usage: memtide tests [RUN] [--top N] [--sort peak|growth|duration]\n"
	"                     [--csv|--json] [--db PATH]\n"
	"One row per pytest test of a run (default the last; -1 the last, -2 the one\n"
	"before) recorded with the plugin ('memtide run -- python3 -m pytest -p\n"
	"memtide.pytest'): its peak (the worker's own, exact even for a test\n"
	"shorter than the interval), growth (memory at its end minus at its\n"
	"start), duration and outcome, the largest first.\n"
	"\n"
	"      --top N      the first N rows only\n"
	"      --sort KEY   peak (default), growth or duration, largest first\n"
	"      --csv        CSV: test,outcome,duration_s,start_bytes,end_bytes,\n"
	"                   grown_bytes,peak_bytes,pid (bytes, seconds)\n"
	"      --json       a JSON array of the same\n"
	"      --db PATH    database (default $MEMTIDE_DB, else\n"
	"                   $XDG_DATA_HOME/memtide/memtide.db)\n"
	"  -h, --help       this help\n";

int cmd_tests(int argc, char **argv)
{
	static const struct option opts[] = {
		{"top", required_argument, NULL, 'n'}, {"sort", required_argument, NULL, 's'},
		{"csv", no_argument, NULL, 'c'},       {"json", no_argument, NULL, 'j'},
		{"db", required_argument, NULL, 'd'},  {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *db = NULL;
	enum out out = OUT_TEXT;
	struct store *s;
	struct span *v;
	size_t n, shown;
	long top = -1;
	int64_t run;
	char *end;
	int c;

	cli_relative_runs(argc, argv);
	optind = 1;
	opterr = 0;
	sort_by = SORT_PEAK;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			top = strtol(optarg, &end, 10);
			if (*end || end == optarg || top < 0) {
				cli_error("bad --top '%s': give a count", optarg);
				return cli_usage_error("tests");
			}
			break;
		case 's':
			if (strcmp(optarg, "peak") == 0)
				sort_by = SORT_PEAK;
			else if (strcmp(optarg, "growth") == 0)
				sort_by = SORT_GROWTH;
			else if (strcmp(optarg, "duration") == 0)
				sort_by = SORT_DURATION;
			else {
				cli_error("unknown sort '%s' (use peak, growth or duration)",
					  optarg);
				return cli_usage_error("tests");
			}
			break;
		case 'c':
			out = OUT_CSV;
			break;
		case 'j':
			out = OUT_JSON;
			break;
		case 'd':
			db = optarg;
			break;
		case 'h':
			fputs(usage, stdout);
			return EXIT_OK;
		default:
			return cli_option_error("tests", c, argv);
		}
	}
	if (argc - optind > 1) {
		cli_error("tests takes one run: unexpected '%s'", argv[optind + 1]);
		return cli_usage_error("tests");
	}
	if (!(s = cli_open_store(db, STORE_READ)))
		return EXIT_FAIL;
	if (store_run_resolve(s, optind < argc ? argv[optind] : NULL, &run)) {
		cli_error("%s", store_errmsg(s));
		store_close(s);
		return EXIT_FAIL;
	}
	if (spans_load(s, run, SPANS_TESTS, &v, &n)) {
		store_close(s);
		return EXIT_FAIL;
	}
	if (n == 0 && out == OUT_TEXT) {
		cli_error("run %lld has no tests: record pytest with 'memtide run -- python3 "
			  "-m pytest -p memtide.pytest'", (long long)run);
		spans_free(v, n);
		store_close(s);
		return EXIT_FAIL;
	}
	qsort(v, n, sizeof *v, cmp);
	shown = top >= 0 && (size_t)top < n ? (size_t)top : n;
	if (out == OUT_CSV)
		print_csv(v, shown);
	else if (out == OUT_JSON)
		print_json(v, shown);
	else
		print_text(v, shown);
	spans_free(v, n);
	store_close(s);
	return EXIT_OK;
}
