/* summary.c - the figures of one run in words, read from the store: the
 * line memtide run ends with and the line of memtide peak say the same
 * numbers (totals.h), each named for what it is. */
#include "cli.h"

#include "memtide/totals.h"
#include "memtide/units.h"

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

/* The metric's name where it is not the usual RSS. */
static const char *metric_word(enum totals_metric m)
{
	return m == TOTALS_RSS ? "" : m == TOTALS_PSS ? " PSS" : " USS";
}

/* The figures of t, joined with sep, into buf. */
static void figures(const struct totals_run *t, const char *sep, char *buf, size_t len)
{
	char peak[32], kpeak[32], top[32], kpart[96];

	units_format_bytes(t->peak, peak, sizeof peak);
	units_format_bytes(t->top_peak, top, sizeof top);
	if (t->kernel_peak > 0 && t->nprocs > 1)
		snprintf(kpart, sizeof kpart, "largest own kernel peak %s (pid %d)",
			 units_format_bytes(t->kernel_peak, kpeak, sizeof kpeak),
			 t->kernel_pid);
	else if (t->kernel_peak > 0)
		snprintf(kpart, sizeof kpart, "kernel peak %s",
			 units_format_bytes(t->kernel_peak, kpeak, sizeof kpeak));
	else
		snprintf(kpart, sizeof kpart, "kernel peak unknown");
	if (t->daemon)
		/* The processes of a memtided session are not one program:
		 * their sum would mean nothing. */
		snprintf(buf, len, "%lld process%s%slargest peak%s %s (pid %d)%s%s",
			 (long long)t->nprocs, t->nprocs == 1 ? "" : "es", sep,
			 metric_word(t->metric), t->top_peak >= 0 ? top : "unknown",
			 t->top_pid, sep, kpart);
	else if (t->nprocs > 1)
		snprintf(buf, len, "peak of the total%s %s (%lld processes)%s%s",
			 metric_word(t->metric), peak, (long long)t->nprocs, sep, kpart);
	else
		snprintf(buf, len, "peak%s %s%s%s", metric_word(t->metric), peak, sep,
			 kpart);
}

int summary_print(struct store *s, int64_t run, FILE *f, int after_run)
{
	sqlite3 *db = store_db(s);
	struct totals_run t;
	sqlite3_stmt *st;
	char fig[256], el[32];
	int err = totals_run_read(db, run, &t);

	if (err)
		return err;
	if (sqlite3_prepare_v2(db, "SELECT coalesce(ended - started, last_tick * interval, 0),"
			       " samples, command FROM run WHERE id = ?1",
			       -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, run);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		return -1;
	}
	figures(&t, after_run ? ", " : "\t", fig, sizeof fig);
	if (after_run) {
		long long n = sqlite3_column_int64(st, 1);

		units_format_duration(sqlite3_column_double(st, 0), el, sizeof el);
		fprintf(f, "memtide: run %lld: %s, %lld sample%s, %s\n", (long long)run,
			el, n, n == 1 ? "" : "s", fig);
	} else {
		fprintf(f, "run %lld\t%s\t%s\n", (long long)run, fig,
			(const char *)sqlite3_column_text(st, 2));
	}
	sqlite3_finalize(st);
	return 0;
}
