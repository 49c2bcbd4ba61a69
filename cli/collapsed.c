/* collapsed.c - memtide export --format collapsed: the stacks of runs
 * recorded with --stacks, one line each, "outer;...;inner BYTES", weighted
 * by the bytes of RSS grown while that stack ran: the input of
 * flamegraph.pl and speedscope. */
#include "cli.h"

#include "memtide/where.h"

#include <sqlite3.h>
#include <stdio.h>

/* A frame as "function (file:line)"; ';' separates frames and a line ends
 * a stack, so neither may appear inside one. */
static void put_frame(FILE *f, const struct where_frame *fr)
{
	char buf[64];

	for (const char *p = fr->function; *p; p++)
		fputc(*p == ';' || *p == '\n' || *p == '\r' ? '_' : *p, f);
	fputs(" (", f);
	for (const char *p = fr->file; *p; p++)
		fputc(*p == ';' || *p == '\n' || *p == '\r' ? '_' : *p, f);
	snprintf(buf, sizeof buf, ":%d)", fr->line);
	fputs(buf, f);
}

static int put_stack(void *ctx, const struct where_frame *frames, size_t n,
		     int64_t grown, int64_t released)
{
	FILE *f = ctx;

	(void)released;
	if (grown <= 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (i)
			fputc(';', f);
		put_frame(f, &frames[i]);
	}
	fprintf(f, " %lld\n", (long long)grown);
	return ferror(f) ? -1 : 0;
}

int export_collapsed(sqlite3 *db, FILE *f, const int64_t *runs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct where_query q = {.run = runs[i]};

		if (where_stacks(db, &q, put_stack, f) != SQLITE_OK) {
			cli_error("export: %s", sqlite3_errmsg(db));
			return -1;
		}
	}
	return 0;
}
