/* spans.c - the spans of a run (markers with an end, pytest's tests among
 * them) with their memory, for memtide tests and memtide diff. */
#include "cli.h"

#include "memtide/text.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* pytest's phases (python/memtide/pytest.py) are spans inside each test's
 * span, labelled "<node id> [setup]" and so on. */
#define NOT_PHASE                                                              \
	"m.label NOT LIKE '% [setup]' AND m.label NOT LIKE '% [call]' AND"     \
	" m.label NOT LIKE '% [teardown]'"

/* A marker's peak: its sender's own (exact, python/memtide), else the
 * largest of its ends and of the samples inside it, of its sender or, for a
 * marker without one (an mprof FUNC line), of the run's MEM series. */
static const char spans_sql[] =
	"SELECT m.label, m.outcome, m.start, coalesce(m.end, m.start), m.mem_start,"
	" m.mem_end, max(coalesce(m.mem_peak, 0), coalesce(m.mem_start, 0),"
	"  coalesce(m.mem_end, 0), coalesce((SELECT max(s.rss) * r.page_size"
	"  FROM proc p JOIN sample s ON s.proc = p.id WHERE p.run = m.run AND"
	"  (CASE WHEN m.pid > 0 THEN p.pid = m.pid"
	"   ELSE " CLI_IN_TOTAL " END) AND"
	"  s.tick BETWEEN CAST((m.start - r.started) / r.interval + 0.999999 AS INTEGER)"
	"  AND CAST((coalesce(m.end, m.start) - r.started) / r.interval AS INTEGER)), 0)),"
	" m.pid"
	" FROM mark m JOIN run r ON r.id = m.run WHERE m.run = ?1 AND m.end IS NOT NULL";

void spans_free(struct span *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].label);
		free(v[i].outcome);
	}
	free(v);
}

static char *dup_col(sqlite3_stmt *st, int i)
{
	const unsigned char *s = sqlite3_column_text(st, i);

	return s ? strdup((const char *)s) : NULL;
}

int spans_load(struct store *s, int64_t run, enum spans_which which,
	       struct span **out, size_t *n)
{
	sqlite3 *db = store_db(s);
	sqlite3_stmt *st;
	size_t cap = 0;
	char *sql;
	int rc;

	*out = NULL;
	*n = 0;
	if (asprintf(&sql, "%s%s ORDER BY m.start, m.id", spans_sql,
		     which == SPANS_TESTS       ? " AND m.outcome IS NOT NULL AND " NOT_PHASE
		     : which == SPANS_NO_PHASES ? " AND " NOT_PHASE
						: "") < 0)
		return -1;
	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	free(sql);
	if (rc != SQLITE_OK) {
		cli_error("cannot read markers: %s", sqlite3_errmsg(db));
		return -1;
	}
	sqlite3_bind_int64(st, 1, run);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct span *v;

		if (*n == cap) {
			cap = cap ? cap * 2 : 64;
			if (!(v = realloc(*out, cap * sizeof *v))) {
				rc = SQLITE_NOMEM;
				break;
			}
			*out = v;
		}
		v = &(*out)[(*n)++];
		v->label = dup_col(st, 0);
		v->outcome = dup_col(st, 1);
		v->start = sqlite3_column_double(st, 2);
		v->end = sqlite3_column_double(st, 3);
		v->mem_start = sqlite3_column_type(st, 4) == SQLITE_NULL ? -1
								       : sqlite3_column_int64(st, 4);
		v->mem_end = sqlite3_column_type(st, 5) == SQLITE_NULL ? -1
								     : sqlite3_column_int64(st, 5);
		v->peak = sqlite3_column_int64(st, 6);
		v->pid = sqlite3_column_int(st, 7);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		cli_error("cannot read markers: %s", sqlite3_errmsg(db));
		spans_free(*out, *n);
		*out = NULL;
		*n = 0;
		return -1;
	}
	return 0;
}

int64_t span_grown(const struct span *v)
{
	return v->mem_start >= 0 && v->mem_end >= 0 ? v->mem_end - v->mem_start : 0;
}

void span_print_label(FILE *f, const char *label)
{
	char *shown = label ? text_argv(label, strlen(label), 0) : NULL;

	fputs(shown ? shown : "", f);
	free(shown);
}
