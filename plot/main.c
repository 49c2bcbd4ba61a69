/* main.c - memtide-plot: draws the memory of recorded runs as a PNG, SVG or
 * PDF chart.  Glue only: arguments and messages here; what the chart shows
 * is figure.c, where things go chart.c, the drawing render.c. */
#include "memtide/store.h"

#include "data.h"
#include "figure.h"
#include "render.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROG "memtide-plot"
#define FORMATS "(use .png, .svg or .pdf)"

enum { EXIT_RUNTIME = 1, EXIT_USAGE = 2 };

static const char usage_text[] =
	"Usage: " PROG " [--db PATH] [-o FILE] [-t TITLE] [-w T0,T1]"
	" [--size WxH] [RUN...]\n"
	"Draw the memory of recorded runs over time.\n"
	"\n"
	"  RUN                  a run id, or 'last' (the default)\n"
	"      --db PATH        the database (default: $MEMTIDE_DB, else\n"
	"                       ~/.local/share/memtide/memtide.db)\n"
	"  -o, --output FILE    .png, .svg or .pdf (default memtide_RUN.png)\n"
	"  -t, --title TITLE    title instead of the run's command\n"
	"  -w, --window T0,T1   only seconds T0 to T1 after the start\n"
	"      --size WxH       canvas in pixels (points for SVG and PDF),\n"
	"                       200x150 to 16000x16000, default 1200x600\n"
	"  -h, --help           show this help\n"
	"  -V, --version        show the version\n"
	"\n"
	"Prints the path of the file it wrote.  Several runs are drawn over\n"
	"each other, aligned at their starts.\n";

/* What the command line asked for. */
struct args {
	struct figure_opts fig;
	const char *db;     /* --db, or NULL for the default */
	const char *output; /* -o, or NULL for memtide_RUN.png */
	enum render_format format;
	char **runs; /* the RUN arguments */
	size_t nruns;
};

__attribute__((format(printf, 1, 2))) static void fail(const char *fmt, ...)
{
	va_list ap;

	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* "T0,T1": two finite numbers of seconds, T0 < T1. */
static int parse_window(const char *s, double *t0, double *t1)
{
	char *end;

	errno = 0;
	*t0 = strtod(s, &end);
	if (end == s || *end != ',' || errno)
		return -EINVAL;
	s = end + 1;
	*t1 = strtod(s, &end);
	if (end == s || *end || errno || !isfinite(*t0) || !isfinite(*t1) ||
	    !(*t0 < *t1))
		return -EINVAL;
	return 0;
}

/* "WxH" within what cairo and a readable layout allow. */
static int parse_size(const char *s, int *w, int *h)
{
	char *end;
	long a, b;

	errno = 0;
	a = strtol(s, &end, 10);
	if (end == s || (*end != 'x' && *end != 'X') || errno)
		return -EINVAL;
	s = end + 1;
	b = strtol(s, &end, 10);
	if (end == s || *end || errno || a < 200 || b < 150 || a > 16000 ||
	    b > 16000)
		return -EINVAL;
	*w = (int)a;
	*h = (int)b;
	return 0;
}

/* Fills a from the command line.  Returns -1 to go on, or the status to
 * exit with (0 after --help or --version, EXIT_USAGE after a message). */
static int parse_args(int argc, char **argv, struct args *a)
{
	static const struct option longopts[] = {
		{"db", required_argument, NULL, 'd'},
		{"output", required_argument, NULL, 'o'},
		{"title", required_argument, NULL, 't'},
		{"window", required_argument, NULL, 'w'},
		{"size", required_argument, NULL, 's'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{0, 0, 0, 0},
	};
	int opt, f = -1;

	/* getopt's own messages start with argv[0]: make it the name. */
	argv[0] = (char *)PROG;
	while ((opt = getopt_long(argc, argv, "o:t:w:hV", longopts, NULL)) !=
	       -1) {
		switch (opt) {
		case 'd': a->db = optarg; break;
		case 'o': a->output = optarg; break;
		case 't': a->fig.title = optarg; break;
		case 'w':
			if (parse_window(optarg, &a->fig.w0, &a->fig.w1) < 0) {
				fail("bad window '%s' (want T0,T1 in seconds,"
				     " T0 < T1)",
				     optarg);
				return EXIT_USAGE;
			}
			a->fig.window = 1;
			break;
		case 's':
			if (parse_size(optarg, &a->fig.width, &a->fig.height) <
			    0) {
				fail("bad size '%s' (want WxH, from 200x150 to"
				     " 16000x16000)",
				     optarg);
				return EXIT_USAGE;
			}
			break;
		case 'h': fputs(usage_text, stdout); return 0;
		case 'V': puts(PROG " " MEMTIDE_VERSION); return 0;
		default:
			fputs("Try '" PROG " --help'.\n", stderr);
			return EXIT_USAGE;
		}
	}
	if (a->output && (f = render_format_of(a->output)) < 0) {
		const char *dot = strrchr(a->output, '.');

		if (dot && !strchr(dot, '/'))
			fail("unknown output format '%s' " FORMATS, dot);
		else
			fail("output file '%s' has no extension " FORMATS,
			     a->output);
		return EXIT_USAGE;
	}
	if (a->output)
		a->format = (enum render_format)f;
	a->runs = argv + optind;
	a->nruns = (size_t)(argc - optind);
	return -1;
}

/* memtide_12.png, memtide_12_14.png for several runs; malloc'd. */
static char *default_output(const struct data_run *runs, size_t n)
{
	size_t cap = 16 + 21 * n, used;
	char *s = malloc(cap);

	if (!s)
		return NULL;
	used = (size_t)snprintf(s, cap, "memtide");
	for (size_t i = 0; i < n; i++)
		used += (size_t)snprintf(s + used, cap - used, "_%lld",
					 (long long)runs[i].id);
	snprintf(s + used, cap - used, ".png");
	return s;
}

/* Resolves and loads each RUN argument (none: the last run) into runs,
 * counting those to free in *loaded.  Returns 0 or the exit status after
 * a message. */
static int load_runs(struct store *s, const char *db_path, const struct args *a,
		     struct data_run *runs, size_t *loaded)
{
	size_t n = a->nruns ? a->nruns : 1;

	for (size_t i = 0; i < n; i++) {
		int64_t id;
		int err;

		err = store_run_resolve(s, a->nruns ? a->runs[i] : NULL, &id);
		if (err < 0) {
			fail("%s", store_errmsg(s));
			return err == -EINVAL ? EXIT_USAGE : EXIT_RUNTIME;
		}
		err = data_run_load(store_db(s), id, &runs[i]);
		*loaded = i + 1;
		if (err < 0) {
			fail("cannot read run %lld from '%s': %s",
			     (long long)id, db_path,
			     err == -EIO ? sqlite3_errmsg(store_db(s))
					 : strerror(-err));
			return EXIT_RUNTIME;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct args a = {.fig = {.width = 1200, .height = 600},
			 .format = RENDER_PNG};
	char *db_path = NULL, *out_path = NULL;
	struct store *s = NULL;
	struct data_run *runs = NULL;
	size_t loaded = 0;
	struct chart chart = {0};
	int rc, err;

	if ((rc = parse_args(argc, argv, &a)) >= 0)
		return rc;
	rc = EXIT_RUNTIME;
	if (!(db_path = store_default_path(a.db))) {
		fail("no database: give --db PATH or set MEMTIDE_DB");
		goto out;
	}
	if (store_open(db_path, STORE_READ, &s) < 0) {
		fail("cannot open database '%s': %s", db_path, store_errmsg(s));
		goto out;
	}
	if (!(runs = calloc(a.nruns ? a.nruns : 1, sizeof *runs))) {
		fail("out of memory");
		goto out;
	}
	if ((err = load_runs(s, db_path, &a, runs, &loaded))) {
		rc = err;
		goto out;
	}
	if ((err = figure_build(&chart, store_db(s), runs, loaded, &a.fig))) {
		fail("cannot read samples from '%s': %s", db_path,
		     err == -EIO ? sqlite3_errmsg(store_db(s))
				 : strerror(-err));
		goto out;
	}
	if (!a.output)
		a.output = out_path = default_output(runs, loaded);
	if (!a.output) {
		fail("out of memory");
		goto out;
	}
	if ((err = render_file(&chart, a.output, a.format))) {
		fail("cannot write '%s': %s", a.output, strerror(-err));
		goto out;
	}
	printf("%s\n", a.output);
	rc = 0;
out:
	chart_free(&chart);
	for (size_t i = 0; i < loaded; i++)
		data_run_free(&runs[i]);
	free(runs);
	store_close(s);
	free(db_path);
	free(out_path);
	return rc;
}
