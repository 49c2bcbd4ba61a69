/* peak.c - what memtide peak adds for mprof users: each child's peak (as
 * mprof peak prints them), the peak inside markers (mprof peak --func), and
 * mprof files read in place. */
#include "cli.h"

#include "memtide/text.h"
#include "memtide/units.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIB (1024.0 * 1024.0)

int peak_children(struct store *s, int64_t run)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(
		store_db(s),
		"SELECT p.pid, max(coalesce(p.peak_rss, 0) * r.page_size, coalesce(p.hwm, 0)),"
		" r.kind = 'import' FROM proc p JOIN run r ON r.id = p.run WHERE p.run = ?1"
		" AND p.id <> (SELECT min(id) FROM proc WHERE run = ?1 AND"
		" (parent IS NULL OR parent = 0)) GROUP BY p.id ORDER BY p.id",
		-1, &st, NULL);

	if (rc != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, run);
	while (sqlite3_step(st) == SQLITE_ROW)
		printf("  Child %d\t\t\t%.3f MiB\n", sqlite3_column_int(st, 0),
		       (double)sqlite3_column_int64(st, 1) / MIB);
	sqlite3_finalize(st);
	return 0;
}

int peak_func(struct store *s, int64_t run, const char *func)
{
	sqlite3_stmt *st;
	int n = 0, rc = sqlite3_prepare_v2(
		store_db(s),
		"WITH spans AS (SELECT label, start, coalesce(end, start) AS end,"
		"  coalesce(mem_peak, max(coalesce(mem_start, 0), coalesce(mem_end, 0)))"
		"  AS mp FROM mark WHERE run = ?1 AND (?2 = '*' OR label = ?2)),"
		" totals AS (SELECT r.started + s.tick * r.interval AS t,"
		"  sum(s.rss * r.page_size) AS v FROM sample s JOIN proc p ON p.id = s.proc"
		"  JOIN run r ON r.id = p.run WHERE p.run = ?1 AND " CLI_IN_TOTAL
		"  GROUP BY s.tick)"
		" SELECT label, count(*), max(mp), (SELECT max(v) FROM totals, spans s2"
		"  WHERE s2.label = spans.label AND t >= s2.start AND t <= s2.end)"
		" FROM spans GROUP BY label ORDER BY max(mp) DESC, label",
		-1, &st, NULL);

	if (rc != SQLITE_OK) {
		cli_error("cannot read markers: %s", sqlite3_errmsg(store_db(s)));
		return -1;
	}
	sqlite3_bind_int64(st, 1, run);
	sqlite3_bind_text(st, 2, func, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		int64_t own = sqlite3_column_int64(st, 2), sampled = sqlite3_column_int64(st, 3);
		char a[32];

		n++;
		/* The sender's own peak, or the run's sampled total inside
		 * (children included), whichever is higher. */
		fputs("  ", stdout);
		span_print_label(stdout, (const char *)sqlite3_column_text(st, 0));
		printf("\t%d call%s\tpeak %s\n", sqlite3_column_int(st, 1),
		       sqlite3_column_int(st, 1) == 1 ? "" : "s",
		       units_format_bytes(own > sampled ? own : sampled, a, sizeof a));
	}
	sqlite3_finalize(st);
	if (n == 0 && strcmp(func, "*") != 0) {
		char *shown = text_argv(func, strlen(func), 0);

		cli_error("run %lld has no marker '%s' (see the marks view)", (long long)run,
			  shown ? shown : "?");
		free(shown);
		return -1;
	}
	return 0;
}

int peak_file(struct store *s, int64_t run, const char *file)
{
	sqlite3_stmt *st;
	/* mprof's peak of a file is that of its MEM lines alone (the run's
	 * total adds the CHLD lines of an -M file). */
	int rc = sqlite3_prepare_v2(store_db(s),
				    "SELECT coalesce((SELECT max(peak_rss) FROM proc WHERE run = ?1"
				    " AND start_ticks = 0), peak_rss) * page_size FROM run"
				    " WHERE id = ?1", -1, &st, NULL);

	if (rc != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, run);
	if (sqlite3_step(st) == SQLITE_ROW)
		printf("%s\t%.3f MiB\n", file, (double)sqlite3_column_int64(st, 0) / MIB);
	sqlite3_finalize(st);
	return 0;
}
