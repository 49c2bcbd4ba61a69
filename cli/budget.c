/* budget.c - what memtide run adds for mprof's workflow and for CI, kept
 * out of the sampling loop (cli/record.c calls these hooks):
 *   --python and the Python environment of the command: this package's
 *     python/ directory first on PYTHONPATH (import memtide, and the
 *     sitecustomize shim that makes @profile a builtin);
 *   -o FILE: the run also written as a file (.dat: mprof's);
 *   --max-peak / --max-growth: budgets, exit status EXIT_BUDGET when
 *     exceeded by a command that itself succeeded.
 */
#include "cli.h"

#include "memtide/text.h"
#include "memtide/units.h"
#include "../plot/decimate.h"
#include "../plot/slope.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TREND_COLS 1024

int run_extras_option(struct run_extras *x, int opt, const char *arg)
{
	char *slash;
	int64_t v;

	switch (opt) {
	case RUN_OPT_PYTHON:
		x->python = 1;
		return 0;
	case RUN_OPT_NOPYTHON:
		x->nopython = 1;
		return 0;
	case RUN_OPT_OUTPUT:
		x->output = arg;
		return 0;
	case RUN_OPT_MAX_PEAK:
		if (units_parse_bytes(arg, &v)) {
			cli_error("bad --max-peak '%s': give a size such as 200MiB", arg);
			return -1;
		}
		x->max_peak = v;
		return 0;
	case RUN_OPT_MAX_GROWTH: {
		char buf[64];

		snprintf(buf, sizeof buf, "%s", arg);
		slash = strchr(buf, '/');
		if (slash)
			*slash++ = '\0';
		if (units_parse_bytes(buf, &v) ||
		    (slash && strcmp(slash, "h") && strcmp(slash, "min") && strcmp(slash, "s"))) {
			cli_error("bad --max-growth '%s': give a size such as 10MiB, or a "
				  "rate such as 5MiB/h", arg);
			return -1;
		}
		if (!slash) {
			x->max_growth = v;
		} else {
			double per = strcmp(slash, "h") == 0 ? 3600 : strcmp(slash, "min") == 0 ? 60 : 1;

			x->max_rate = (double)v / per;
		}
		return 0;
	}
	}
	return -1;
}

int run_attach_flag(int argc, char **argv)
{
	/* run's options that take a value, so that a value is not taken for
	 * the command (run's options end at the command). */
	static const char *const valued[] = {"-T", "--interval", "-t", "--timeout",
					     "--backend", "--db", "--label", "--redact",
					     "-o", "--output", "--max-peak", "--max-growth"};

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		int takes = 0;

		if (strcmp(a, "-a") == 0 || strcmp(a, "--attach") == 0)
			return i;
		if (a[0] != '-' || strcmp(a, "--") == 0)
			return 0;
		for (size_t k = 0; k < sizeof valued / sizeof valued[0]; k++)
			takes |= strcmp(a, valued[k]) == 0;
		i += takes;
	}
	return 0;
}

/* The directory that holds this memtide's Python package: the source tree's
 * python/ next to build/, or PREFIX/lib/memtide/python when installed. */
static int python_dir(char *out, size_t len)
{
	static const char *const rel[] = {"../python", "../lib/memtide/python"};
	char self[PATH_MAX], path[PATH_MAX + 64];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	char *dir;

	if (n <= 0)
		return -1;
	self[n] = '\0';
	dir = dirname(self);
	for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++) {
		snprintf(path, sizeof path, "%s/%s/memtide/__init__.py", dir, rel[i]);
		if (access(path, R_OK) == 0) {
			snprintf(path, sizeof path, "%s/%s", dir, rel[i]);
			if (!realpath(path, out) || strlen(out) >= len)
				return -1;
			return 0;
		}
	}
	return -1;
}

void run_extras_env(const struct run_extras *x, int profile_builtin)
{
	char dir[PATH_MAX], *path;
	const char *old = getenv("PYTHONPATH");

	if (python_dir(dir, sizeof dir) == 0) {
		if (old && *old) {
			if (asprintf(&path, "%s:%s", dir, old) >= 0) {
				setenv("PYTHONPATH", path, 1);
				free(path);
			}
		} else {
			setenv("PYTHONPATH", dir, 1);
		}
	}
	if (x->python || profile_builtin)
		setenv("MEMTIDE_PROFILE_BUILTIN", "1", 1);
}

char **run_extras_argv(const struct run_extras *x, char **argv, int argc, int *builtin)
{
	char **cmd = calloc((size_t)argc + 3, sizeof *cmd);
	int k = 0;

	*builtin = 0;
	if (!cmd)
		return NULL;
	if (text_ends_with(argv[0], strlen(argv[0]), ".py")) {
		cmd[k++] = (char *)"python3";
		*builtin = !x->nopython;
	} else if (x->python && strncmp(text_base_name(argv[0]), "python", 6) != 0) {
		/* mprof run --python MODULE: the module under python3 -m. */
		cmd[k++] = (char *)"python3";
		cmd[k++] = (char *)"-m";
	}
	memcpy(cmd + k, argv, (size_t)argc * sizeof *cmd);
	return cmd;
}

/* The run's total at each tick (bytes) into d, over [t0, t1] seconds. */
static int run_totals(sqlite3 *db, int64_t run, int64_t *first, int64_t *last,
		      struct decimate *d)
{
	sqlite3_stmt *st;
	int rc, n = 0;

	rc = sqlite3_prepare_v2(db,
				"SELECT s.tick * r.interval, sum(s.rss) * r.page_size FROM sample s"
				" JOIN proc p ON p.id = s.proc JOIN run r ON r.id = p.run"
				" WHERE p.run = ? GROUP BY s.tick ORDER BY s.tick",
				-1, &st, NULL);
	if (rc != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, run);
	while (sqlite3_step(st) == SQLITE_ROW) {
		int64_t v = sqlite3_column_int64(st, 1);

		if (n++ == 0)
			*first = v;
		*last = v;
		if (d)
			decimate_add(d, sqlite3_column_double(st, 0), (double)v);
	}
	sqlite3_finalize(st);
	return n;
}

/* The run's duration in seconds (first to last sample). */
static double run_span(sqlite3 *db, int64_t run)
{
	sqlite3_stmt *st;
	double span = 0;

	if (sqlite3_prepare_v2(db, "SELECT last_tick * interval FROM run WHERE id = ?", -1,
			       &st, NULL) != SQLITE_OK)
		return 0;
	sqlite3_bind_int64(st, 1, run);
	if (sqlite3_step(st) == SQLITE_ROW)
		span = sqlite3_column_double(st, 0);
	sqlite3_finalize(st);
	return span;
}

/* Checks the budgets; prints one line per budget exceeded.  Returns how many
 * were. */
static int check_budgets(const struct run_extras *x, struct store *s, int64_t run)
{
	sqlite3 *db = store_db(s);
	sqlite3_stmt *st;
	int64_t peak = 0, first = 0, last = 0;
	char a[32], b[32], c[32], d2[32];
	int over = 0;

	if (x->max_peak >= 0 &&
	    sqlite3_prepare_v2(db, "SELECT max(peak_rss * page_size, coalesce(kernel_peak_rss, 0))"
				   " FROM run WHERE id = ?", -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, run);
		if (sqlite3_step(st) == SQLITE_ROW)
			peak = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
		if (peak > x->max_peak) {
			cli_error("budget exceeded: peak %s > --max-peak %s",
				  units_format_bytes(peak, a, sizeof a),
				  units_format_bytes(x->max_peak, b, sizeof b));
			over++;
		}
	}
	if (x->max_growth >= 0 && run_totals(db, run, &first, &last, NULL) > 0 &&
	    last - first > x->max_growth) {
		cli_error("budget exceeded: grew %s (%s at the first sample, %s at the last) > "
			  "--max-growth %s", units_format_bytes(last - first, a, sizeof a),
			  units_format_bytes(first, b, sizeof b),
			  units_format_bytes(last, c, sizeof c),
			  units_format_bytes(x->max_growth, d2, sizeof d2));
		over++;
	}
	if (x->max_rate >= 0) {
		double span = run_span(db, run);
		struct decimate d;
		struct slope sl;

		if (span <= 0)
			return over;
		if (decimate_init(&d, 0, span, TREND_COLS, 0, span) == 0 &&
		    run_totals(db, run, &first, &last, &d) > 1 &&
		    slope_of_decimate(&d, &sl) == 0 && sl.per_s > x->max_rate) {
			cli_error("budget exceeded: the trend (Theil-Sen, as plot -s) grows "
				  "%.1f MiB/h > --max-growth %.1f MiB/h",
				  sl.per_s * 3600 / 1048576.0, x->max_rate * 3600 / 1048576.0);
			over++;
		}
		decimate_free(&d);
	}
	return over;
}

int run_extras_finish(const struct run_extras *x, struct store *s, int64_t run,
		      int exit_code)
{
	if (x->output && cli_export_file(s, run, x->output) && exit_code == EXIT_OK)
		exit_code = EXIT_FAIL;
	if (check_budgets(x, s, run) && exit_code == EXIT_OK)
		exit_code = EXIT_BUDGET;
	return exit_code;
}
