/* main.c - memtide-plot: draws the memory, CPU and threads of recorded runs
 * or of daemon history as a PNG, SVG or PDF chart.  Glue only: arguments
 * and messages here; what the chart shows is figure.c, where things go
 * chart.c, the drawing render.c. */
#include "memtide/store.h"

#include "data.h"
#include "figure.h"
#include "render.h"
#include "when.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <regex.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PROG "memtide-plot"
#define FORMATS "(use .png, .svg or .pdf)"
#define WHEN_FORMS \
	"(want a duration such as 2h or 1d, 'now', or a date such as" \
	" 2026-11-20T12:00)"

enum { EXIT_RUNTIME = 1, EXIT_USAGE = 2 };

/* After "Usage: NAME [OPTION...] [RUN...]" and its second form, each
 * under the name we were run as (see prog). */
static const char usage_text[] =
	"Draw the memory of recorded runs, or of memtided's history, over"
	" time.\n"
	"\n"
	"  RUN                  a run id, or 'last' (the default)\n"
	"      --db PATH        the database (default: $MEMTIDE_DB, else\n"
	"                       ~/.local/share/memtide/memtide.db)\n"
	"  -o, --output FILE    .png, .svg or .pdf (default memtide_RUN.png)\n"
	"  -t, --title TITLE    title instead of the run's command\n"
	"  -w, --window T0,T1   only seconds T0 to T1 after the start\n"
	"      --panels LIST    mem, cpu, threads, comma-separated (default"
	" mem)\n"
	"      --metric M       rss, pss, uss or swap (default: rss, or the\n"
	"                       pss/uss of runs recorded with that backend)\n"
	"      --stacked        processes as stacked areas\n"
	"      --top N          the N largest processes (memory x time),"
	" the rest\n"
	"                       as 'others'\n"
	"  -s, --slope          draw the trend (Theil-Sen), per s or per h\n"
	"  -f, --flame          markers' spans as nested bars (flame)\n"
	"  -n, --no-function-ts no markers\n"
	"History (wall-clock time):\n"
	"      --pid N          the processes with pid N, across runs\n"
	"      --match REGEX    the processes whose name or command matches\n"
	"      --since T        from T: 2h, 1d (ago), now, 2026-11-20T12:00\n"
	"      --until T        to T (default: now, or the last sample)\n"
	"Canvas:\n"
	"      --size WxH       canvas in pixels (points for SVG and PDF),\n"
	"                       200x150 to 16000x16000, default 1200x600\n"
	"      --dpi N          PNG resolution, 96 (default) = one pixel a"
	" unit\n"
	"      --theme T        light (default) or dark\n"
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
	double dpi;
	int pid;            /* --pid, 0 for none */
	const char *match;  /* --match, or NULL */
	char **runs; /* the RUN arguments */
	size_t nruns;
};

/* The name messages start with: "memtide plot" when memtide plot ran us
 * (it says so in argv[0]), else our own. */
static const char *prog = PROG;

__attribute__((format(printf, 1, 2))) static void fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
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

/* An integer in [lo, hi]. */
static int parse_int(const char *s, long lo, long hi, long *v)
{
	char *end;

	errno = 0;
	*v = strtol(s, &end, 10);
	return end == s || *end || errno || *v < lo || *v > hi ? -EINVAL : 0;
}

/* "mem,cpu,threads": each kind once, in the order given. */
static int parse_panels(const char *s, struct figure_opts *o)
{
	static const char *const names[] = {"mem", "cpu", "threads"};

	o->npanels = 0;
	for (;;) {
		size_t len = strcspn(s, ","), k;

		for (k = 0; k < 3; k++)
			if (strlen(names[k]) == len &&
			    !strncmp(s, names[k], len))
				break;
		if (k == 3 || o->npanels == 3)
			return -EINVAL;
		for (size_t i = 0; i < o->npanels; i++)
			if (o->panel[i] == (enum figure_panel)k)
				return -EINVAL;
		o->panel[o->npanels++] = (enum figure_panel)k;
		if (!s[len])
			return 0;
		s += len + 1;
	}
}

enum {
	OPT_DB = 256,
	OPT_SIZE,
	OPT_PANELS,
	OPT_METRIC,
	OPT_STACKED,
	OPT_TOP,
	OPT_SINCE,
	OPT_UNTIL,
	OPT_PID,
	OPT_MATCH,
	OPT_DPI,
	OPT_THEME,
};

/* Fills a from the command line.  Returns -1 to go on, or the status to
 * exit with (0 after --help or --version, EXIT_USAGE after a message). */
static int metric_given; /* --metric was given */

/* The metric of runs recorded with --backend psutil_pss or psutil_uss is
 * their headline, as in mprof: the chart's default when every run drawn
 * has it. */
static enum data_metric backend_metric(sqlite3 *db, const struct data_run *runs,
				       size_t n)
{
	enum data_metric m = DATA_RSS;
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(db, "SELECT backend FROM run WHERE id = ?1", -1, &st,
			       NULL) != SQLITE_OK)
		return DATA_RSS;
	for (size_t i = 0; i < n; i++) {
		const char *b;
		enum data_metric here = DATA_RSS;

		sqlite3_bind_int64(st, 1, runs[i].id);
		if (sqlite3_step(st) == SQLITE_ROW &&
		    (b = (const char *)sqlite3_column_text(st, 0)))
			here = !strcmp(b, "pss") ? DATA_PSS : !strcmp(b, "uss") ? DATA_USS
										: DATA_RSS;
		sqlite3_reset(st);
		if (here == DATA_RSS || (i && here != m)) {
			m = DATA_RSS;
			break;
		}
		m = here;
	}
	sqlite3_finalize(st);
	return m;
}

static int parse_args(int argc, char **argv, struct args *a, double now)
{
	static const struct option longopts[] = {
		{"db", required_argument, NULL, OPT_DB},
		{"output", required_argument, NULL, 'o'},
		{"title", required_argument, NULL, 't'},
		{"window", required_argument, NULL, 'w'},
		{"size", required_argument, NULL, OPT_SIZE},
		{"panels", required_argument, NULL, OPT_PANELS},
		{"metric", required_argument, NULL, OPT_METRIC},
		{"stacked", no_argument, NULL, OPT_STACKED},
		{"top", required_argument, NULL, OPT_TOP},
		{"slope", no_argument, NULL, 's'},
		{"flame", no_argument, NULL, 'f'},
		{"no-function-ts", no_argument, NULL, 'n'},
		{"since", required_argument, NULL, OPT_SINCE},
		{"until", required_argument, NULL, OPT_UNTIL},
		{"pid", required_argument, NULL, OPT_PID},
		{"match", required_argument, NULL, OPT_MATCH},
		{"dpi", required_argument, NULL, OPT_DPI},
		{"theme", required_argument, NULL, OPT_THEME},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{0, 0, 0, 0},
	};
	struct figure_opts *o = &a->fig;
	int opt, f = -1, m;
	long v;

	/* getopt's own messages start with argv[0]: make it the name. */
	if (argv[0] && !strcmp(argv[0], "memtide plot"))
		prog = argv[0];
	argv[0] = (char *)prog;
	while ((opt = getopt_long(argc, argv, "o:t:w:sfnhV", longopts,
				  NULL)) != -1) {
		switch (opt) {
		case OPT_DB: a->db = optarg; break;
		case 'o': a->output = optarg; break;
		case 't': o->title = optarg; break;
		case 's': o->slope = 1; break;
		case 'f': o->flame = 1; break;
		case 'n': o->no_markers = 1; break;
		case OPT_STACKED: o->stacked = 1; break;
		case 'w':
			if (parse_window(optarg, &o->w0, &o->w1) < 0) {
				fail("bad window '%s' (want T0,T1 in seconds,"
				     " T0 < T1)",
				     optarg);
				return EXIT_USAGE;
			}
			o->window = 1;
			break;
		case OPT_SIZE:
			if (parse_size(optarg, &o->width, &o->height) < 0) {
				fail("bad size '%s' (want WxH, from 200x150 to"
				     " 16000x16000)",
				     optarg);
				return EXIT_USAGE;
			}
			break;
		case OPT_PANELS:
			if (parse_panels(optarg, o) < 0) {
				fail("bad panels '%s' (want mem, cpu, threads,"
				     " comma-separated, each once)",
				     optarg);
				return EXIT_USAGE;
			}
			break;
		case OPT_METRIC:
			m = data_metric_of(optarg);
			if (m < 0 || !data_metric_is_bytes((enum data_metric)m)) {
				fail("unknown metric '%s' (use rss, pss, uss or"
				     " swap)",
				     optarg);
				return EXIT_USAGE;
			}
			o->metric = (enum data_metric)m;
			metric_given = 1;
			break;
		case OPT_TOP:
			if (parse_int(optarg, 1, 100, &v) < 0) {
				fail("bad --top '%s' (want 1 to 100)", optarg);
				return EXIT_USAGE;
			}
			o->top = (int)v;
			break;
		case OPT_SINCE:
		case OPT_UNTIL:
			if (when_parse(optarg, now,
				       opt == OPT_SINCE ? &o->since
							: &o->until) < 0) {
				fail("bad %s '%s' " WHEN_FORMS,
				     opt == OPT_SINCE ? "--since" : "--until",
				     optarg);
				return EXIT_USAGE;
			}
			if (opt == OPT_SINCE)
				o->has_since = 1;
			else
				o->has_until = 1;
			break;
		case OPT_PID:
			if (parse_int(optarg, 1, 0x7fffffff, &v) < 0) {
				fail("bad pid '%s'", optarg);
				return EXIT_USAGE;
			}
			a->pid = (int)v;
			break;
		case OPT_MATCH: a->match = optarg; break;
		case OPT_DPI:
			if (parse_int(optarg, 24, 1200, &v) < 0) {
				fail("bad --dpi '%s' (want 24 to 1200)", optarg);
				return EXIT_USAGE;
			}
			a->dpi = (double)v;
			break;
		case OPT_THEME:
			if (strcmp(optarg, "light") && strcmp(optarg, "dark")) {
				fail("unknown theme '%s' (use light or dark)",
				     optarg);
				return EXIT_USAGE;
			}
			o->dark = !strcmp(optarg, "dark");
			break;
		case 'h':
			printf("Usage: %s [OPTION...] [RUN...]\n"
			       "       %s [OPTION...] --pid N | --match REGEX |"
			       " --since T [--until T]\n",
			       prog, prog);
			fputs(usage_text, stdout);
			return 0;
		case 'V': puts(PROG " " MEMTIDE_VERSION); return 0;
		default:
			fprintf(stderr, "Try '%s --help'.\n", prog);
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
	if ((a->pid || a->match) && a->nruns) {
		fail("--pid and --match select history across runs: give"
		     " them without RUN");
		return EXIT_USAGE;
	}
	if (o->has_since && o->has_until && !(o->since < o->until)) {
		fail("--since must be before --until");
		return EXIT_USAGE;
	}
	o->history = a->pid || a->match ||
		     (!a->nruns && (o->has_since || o->has_until));
	if (o->history && o->window) {
		fail("-w counts seconds from a run's start: use --since and"
		     " --until with history");
		return EXIT_USAGE;
	}
	return -1;
}

/* memtide_12.png, memtide_12_14.png for several runs; malloc'd. */
static char *default_output(const struct data_run *runs, size_t n)
{
	size_t cap = 24 + 21 * n, used;
	char *s = malloc(cap);

	if (!s)
		return NULL;
	if (n == 1 && runs[0].id == 0) {
		snprintf(s, cap, "memtide_history.png");
		return s;
	}
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

/* "pid 4242", "processes matching 'celery'", or both. */
static void describe(const struct args *a, char *buf, size_t len)
{
	if (a->pid && a->match)
		snprintf(buf, len, "pid %d matching '%s'", a->pid, a->match);
	else if (a->pid)
		snprintf(buf, len, "pid %d", a->pid);
	else if (a->match)
		snprintf(buf, len, "processes matching '%s'", a->match);
	else
		snprintf(buf, len, "all processes");
}

/* Loads the history a asks for into r and settles the window: --since
 * (else the first sample), --until (else now after a --since, or the last
 * sample).  Returns 0 or the exit status after a message. */
static int load_history(struct store *s, const char *db_path, struct args *a,
			struct data_run *r, double now)
{
	struct figure_opts *o = &a->fig;
	struct data_select sel = {.pid = a->pid,
				  .t0 = o->has_since ? o->since : -1e18,
				  .t1 = o->has_until ? o->until : 1e18};
	regex_t re;
	char what[300], err_buf[128];
	double first, last;
	int err;

	if (a->match) {
		err = regcomp(&re, a->match, REG_EXTENDED | REG_NOSUB);
		if (err) {
			regerror(err, &re, err_buf, sizeof err_buf);
			fail("bad --match '%s': %s", a->match, err_buf);
			return EXIT_USAGE;
		}
		sel.re = &re;
	}
	describe(a, what, sizeof what);
	err = data_history_load(store_db(s), &sel, what, r);
	if (a->match)
		regfree(&re);
	if (err < 0) {
		fail("cannot read history from '%s': %s", db_path,
		     err == -EIO ? sqlite3_errmsg(store_db(s))
				 : strerror(-err));
		return EXIT_RUNTIME;
	}
	if (r->nprocs == 0) {
		fail("no samples of %s in this window", what);
		return EXIT_RUNTIME;
	}
	data_run_span(r, &first, &last);
	if (!o->has_since)
		o->since = first;
	if (!o->has_until)
		o->until = o->has_since ? fmax(now, o->since + 1) : last;
	if (!(o->until > o->since))
		o->until = o->since + 1;
	o->has_since = o->has_until = 1;
	return 0;
}

static const char *metric_upper(enum data_metric m)
{
	return m == DATA_PSS ? "PSS" : m == DATA_USS ? "USS" : "swap";
}

int main(int argc, char **argv)
{
	struct args a = {.fig = {.width = 1200, .height = 600},
			 .format = RENDER_PNG,
			 .dpi = 96};
	char *db_path = NULL, *out_path = NULL;
	struct store *s = NULL;
	struct data_run *runs = NULL;
	size_t loaded = 0;
	struct figure fig = {0};
	struct timespec ts;
	double now;
	int rc, err;

	/* Every connection is used by one thread at a time: SQLite's own
	 * mutexes are only a cost (a few % of reading a million rows). */
	sqlite3_config(SQLITE_CONFIG_MULTITHREAD);
	clock_gettime(CLOCK_REALTIME, &ts);
	now = (double)ts.tv_sec + ts.tv_nsec / 1e9;
	if ((rc = parse_args(argc, argv, &a, now)) >= 0)
		return rc;
	rc = EXIT_RUNTIME;
	if (!(db_path = store_default_path(a.db))) {
		fail("no database path: set --db, $MEMTIDE_DB or $HOME");
		goto out;
	}
	if ((err = store_open(db_path, STORE_READ, &s)) < 0) {
		/* Worded as memtide list words it. */
		if (err == -ENOENT)
			fail("cannot open database '%s': it does not exist yet"
			     " (record something with 'memtide run')",
			     db_path);
		else
			fail("cannot open database '%s': %s", db_path,
			     store_errmsg(s));
		goto out;
	}
	if (!(runs = calloc(a.nruns ? a.nruns : 1, sizeof *runs))) {
		fail("out of memory");
		goto out;
	}
	if (a.fig.history) {
		loaded = 1;
		if ((err = load_history(s, db_path, &a, runs, now))) {
			rc = err;
			goto out;
		}
	} else if ((err = load_runs(s, db_path, &a, runs, &loaded))) {
		rc = err;
		goto out;
	}
	/* A daemon's run, or a window of the clock, is drawn on the clock. */
	a.fig.wall = a.fig.history ||
		     (loaded == 1 && (!strcmp(runs[0].kind, "daemon") ||
				      a.fig.has_since || a.fig.has_until));
	if (a.fig.wall && a.fig.window) {
		fail("-w counts seconds from the start: use --since and"
		     " --until on a wall-clock chart");
		rc = EXIT_USAGE;
		goto out;
	}
	if (!metric_given && !a.fig.history)
		a.fig.metric = backend_metric(store_db(s), runs, loaded);
	for (size_t i = 0; i < loaded && a.fig.metric != DATA_RSS; i++)
		if (!data_run_has(&runs[i], a.fig.metric)) {
			if (runs[i].id)
				fail("run %lld has no %s samples (record it"
				     " with --backend psutil_pss)",
				     (long long)runs[i].id,
				     metric_upper(a.fig.metric));
			else
				fail("no %s samples of %s",
				     metric_upper(a.fig.metric),
				     runs[i].command);
			goto out;
		}
	if ((err = figure_build(&fig, store_db(s), runs, loaded, &a.fig))) {
		fail("cannot read samples from '%s': %s", db_path,
		     err == -EIO ? sqlite3_errmsg(store_db(s))
				 : strerror(-err));
		goto out;
	}
	if (a.fig.wall && !fig.any) {
		fail("no samples of %s in this window",
		     a.fig.history ? runs[0].command : "the run");
		goto out;
	}
	if (!a.output)
		a.output = out_path = default_output(runs, loaded);
	if (!a.output) {
		fail("out of memory");
		goto out;
	}
	if ((err = render_panels(fig.panel, fig.n, a.output, a.format,
				 a.dpi / 96))) {
		fail("cannot write '%s': %s", a.output, strerror(-err));
		goto out;
	}
	printf("%s\n", a.output);
	rc = 0;
out:
	figure_free(&fig);
	for (size_t i = 0; i < loaded; i++)
		data_run_free(&runs[i]);
	free(runs);
	store_close(s);
	free(db_path);
	free(out_path);
	return rc;
}
