/* query.c - memtide query: read-only SQL on the database, printed as an
 * aligned table, CSV (RFC 4180) or JSON.
 *
 * Read-only twice over: the connection is opened SQLITE_OPEN_READONLY with
 * PRAGMA query_only, and a statement that would write is refused before it
 * runs (sqlite3_stmt_readonly), with a message that says so.
 */
#include "cli.h"

#include "memtide/text.h"

#include <getopt.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum format { FMT_TABLE, FMT_CSV, FMT_JSON };

/* One result set held for the table format, which needs every width. */
struct table {
	int ncol;
	char **cells; /* row-major, header first; NULL for SQL NULL */
	unsigned char *numeric; /* per cell: right-aligned */
	size_t nrows, cap;      /* rows including the header */
};

static const char hex[] = "0123456789abcdef";

/* X'0a0b' for a blob, as SQL writes it. */
static char *blob_text(const unsigned char *b, int n)
{
	char *s = malloc((size_t)n * 2 + 4), *p = s;

	if (!s)
		return NULL;
	*p++ = 'X';
	*p++ = '\'';
	for (int i = 0; i < n; i++) {
		*p++ = hex[b[i] >> 4];
		*p++ = hex[b[i] & 15];
	}
	*p++ = '\'';
	*p = '\0';
	return s;
}

/* A cell as text: numbers as SQLite prints them, blobs as X'..'. */
static char *cell_text(sqlite3_stmt *st, int i, int *numeric)
{
	int type = sqlite3_column_type(st, i);

	*numeric = type == SQLITE_INTEGER || type == SQLITE_FLOAT;
	if (type == SQLITE_NULL)
		return NULL;
	if (type == SQLITE_BLOB)
		return blob_text(sqlite3_column_blob(st, i), sqlite3_column_bytes(st, i));
	return strdup((const char *)sqlite3_column_text(st, i));
}

/* The display width of UTF-8 text: code points, with control bytes shown
 * as two-character escapes. */
static size_t width(const char *s)
{
	size_t w = 0;

	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c & 0xc0) == 0x80)
			continue;
		w += c < ' ' ? 2 : 1;
	}
	return w;
}

/* Prints text on one line: control bytes as \n, \t, \r or ^X. */
static void put_display(const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c >= ' ') {
			putchar(c);
			continue;
		}
		putchar(c == '\n' || c == '\t' || c == '\r' ? '\\' : '^');
		putchar(c == '\n' ? 'n' : c == '\t' ? 't' : c == '\r' ? 'r' : c + '@');
	}
}

static void pad(size_t n)
{
	while (n--)
		putchar(' ');
}

static int table_add(struct table *t, char **row, const unsigned char *num)
{
	size_t n = (size_t)t->ncol;

	if (t->nrows == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		char **c = realloc(t->cells, cap * n * sizeof *c);
		unsigned char *u;

		if (!c)
			return -1;
		t->cells = c;
		if (!(u = realloc(t->numeric, cap * n)))
			return -1;
		t->numeric = u;
		t->cap = cap;
	}
	memcpy(t->cells + t->nrows * n, row, n * sizeof *row);
	memcpy(t->numeric + t->nrows * n, num, n);
	t->nrows++;
	return 0;
}

static void table_print(struct table *t)
{
	size_t n = (size_t)t->ncol, *w = calloc(n, sizeof *w);
	unsigned char *right = calloc(n, 1);

	if (!w || !right)
		goto out;
	/* A column is right-aligned when every value in it is a number. */
	for (size_t c = 0; c < n; c++) {
		int any = 0, all = 1;

		for (size_t r = 0; r < t->nrows; r++) {
			size_t k = r * n + c;
			size_t cw = width(t->cells[k]);

			if (cw > w[c])
				w[c] = cw;
			if (r && t->cells[k]) {
				any = 1;
				all &= t->numeric[k];
			}
		}
		right[c] = any && all;
	}
	/* Blanks are held back until something follows them: no line ends
	 * in spaces, whatever is NULL or empty at its end. */
	for (size_t r = 0; r < t->nrows; r++) {
		size_t blanks = 0;

		for (size_t c = 0; c < n; c++) {
			const char *s = t->cells[r * n + c];
			size_t cw = width(s);

			blanks += c ? 2 : 0;
			if (right[c])
				blanks += w[c] - cw;
			if (s && *s) {
				pad(blanks);
				blanks = 0;
				put_display(s);
			}
			if (!right[c])
				blanks += w[c] - cw;
		}
		putchar('\n');
	}
out:
	free(w);
	free(right);
}

static void table_free(struct table *t)
{
	for (size_t i = 0; i < t->nrows * (size_t)t->ncol; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t->numeric);
	memset(t, 0, sizeof *t);
}

void cli_csv_field(FILE *f, const char *s)
{
	if (!s)
		return;
	if (!strpbrk(s, ",\"\r\n")) {
		fputs(s, f);
		return;
	}
	putc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			putc('"', f);
		putc(*s, f);
	}
	putc('"', f);
}

void cli_json_string(FILE *f, const char *s)
{
	putc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			putc('\\', f);
			putc(c, f);
		} else if (c == '\n') {
			fputs("\\n", f);
		} else if (c == '\t') {
			fputs("\\t", f);
		} else if (c < ' ' || c == 0x7f) {
			fprintf(f, "\\u%04x", c);
		} else if (c < 0x80) {
			putc(c, f);
		} else {
			/* JSON is UTF-8: a byte that is not part of a valid
			 * sequence (a process's argv, a label) becomes U+FFFD. */
			size_t u = text_utf8_len((const unsigned char *)s, strnlen(s, 4));

			if (u) {
				fwrite(s, 1, u, f);
				s += u - 1;
			} else {
				fputs("\\ufffd", f);
			}
		}
	}
	putc('"', f);
}

static void json_value(sqlite3_stmt *st, int i)
{
	int type = sqlite3_column_type(st, i);
	char *b;

	switch (type) {
	case SQLITE_NULL:
		fputs("null", stdout);
		break;
	case SQLITE_INTEGER:
		printf("%lld", (long long)sqlite3_column_int64(st, i));
		break;
	case SQLITE_FLOAT:
		/* inf - inf and nan - nan are not 0: JSON has no such numbers. */
		if (sqlite3_column_double(st, i) - sqlite3_column_double(st, i) != 0)
			fputs("null", stdout);
		else
			fputs((const char *)sqlite3_column_text(st, i), stdout);
		break;
	case SQLITE_BLOB:
		if ((b = blob_text(sqlite3_column_blob(st, i), sqlite3_column_bytes(st, i)))) {
			cli_json_string(stdout, b);
			free(b);
		}
		break;
	default:
		cli_json_string(stdout, (const char *)sqlite3_column_text(st, i));
	}
}

/* The first word of a statement, for the message about writes. */
static void first_word(const char *sql, char *buf, size_t len)
{
	size_t n = 0;

	while (*sql == ' ' || *sql == '\t' || *sql == '\n' || *sql == '\r')
		sql++;
	while (sql[n] && n + 1 < len && sql[n] != ' ' && sql[n] != '\t' &&
	       sql[n] != '\n' && sql[n] != '(' && sql[n] != ';')
		n++;
	memcpy(buf, sql, n);
	buf[n] = '\0';
	for (char *p = buf; *p; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
}

static int read_only_error(const char *word)
{
	cli_error("query: the database is opened read-only; this %s%sstatement "
		  "would change it (memtide query only reads: use 'memtide rm' to "
		  "delete runs)",
		  word ? word : "", word && *word ? " " : "");
	return EXIT_FAIL;
}

/* Runs one prepared statement and prints its rows. */
static int run_stmt(sqlite3 *db, sqlite3_stmt *st, enum format fmt, int *json_sets)
{
	int ncol = sqlite3_column_count(st), rc, nrows = 0;
	struct table t = {.ncol = ncol};
	char **row = NULL;
	unsigned char *num = NULL;

	if (ncol > 0 && fmt == FMT_TABLE) {
		row = calloc((size_t)ncol, sizeof *row);
		num = calloc((size_t)ncol, 1);
		if (!row || !num)
			goto nomem;
		for (int i = 0; i < ncol; i++)
			if (!(row[i] = strdup(sqlite3_column_name(st, i))))
				goto nomem;
		if (table_add(&t, row, num))
			goto nomem;
	} else if (ncol > 0 && fmt == FMT_CSV) {
		for (int i = 0; i < ncol; i++) {
			if (i)
				putchar(',');
			cli_csv_field(stdout, sqlite3_column_name(st, i));
		}
		fputs("\r\n", stdout);
	} else if (ncol > 0 && fmt == FMT_JSON) {
		if ((*json_sets)++)
			putchar('\n');
		putchar('[');
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (fmt == FMT_TABLE) {
			for (int i = 0; i < ncol; i++) {
				int n;

				row[i] = cell_text(st, i, &n);
				num[i] = (unsigned char)n;
			}
			if (table_add(&t, row, num))
				goto nomem;
		} else if (fmt == FMT_CSV) {
			for (int i = 0; i < ncol; i++) {
				int n;
				char *s = cell_text(st, i, &n);

				if (i)
					putchar(',');
				cli_csv_field(stdout, s);
				free(s);
			}
			fputs("\r\n", stdout);
		} else {
			fputs(nrows ? ",\n {" : "\n {", stdout);
			for (int i = 0; i < ncol; i++) {
				if (i)
					fputs(", ", stdout);
				cli_json_string(stdout, sqlite3_column_name(st, i));
				fputs(": ", stdout);
				json_value(st, i);
			}
			putchar('}');
		}
		nrows++;
	}
	if (fmt == FMT_TABLE && ncol > 0)
		table_print(&t);
	else if (fmt == FMT_JSON && ncol > 0)
		fputs(nrows ? "\n]\n" : "]\n", stdout);
	table_free(&t);
	free(row);
	free(num);
	if (rc != SQLITE_DONE) {
		if ((rc & 0xff) == SQLITE_READONLY)
			return read_only_error(NULL);
		cli_error("query: %s", sqlite3_errmsg(db));
		return EXIT_FAIL;
	}
	return EXIT_OK;
nomem:
	table_free(&t);
	free(row);
	free(num);
	cli_error("query: out of memory");
	return EXIT_FAIL;
}

static const char usage[] =
	"Usage: memtide query [--csv | --json] [--db PATH] SQL\n"
	"Run SQL on the database, read-only, and print the rows: an aligned table\n"
	"(numbers right-aligned), CSV (RFC 4180, with a header) or a JSON array of\n"
	"objects, one per row.  NULL prints as nothing (null in JSON), a blob as\n"
	"X'hex'.  The views runs, processes, samples, samples_mem, samples_minute\n"
	"and marks are described, with worked queries, in memtide-sql(7).\n"
	"\n"
	"      --csv        CSV output\n"
	"      --json       JSON output\n"
	"      --db PATH    database (default $MEMTIDE_DB, else\n"
	"                   $XDG_DATA_HOME/memtide/memtide.db)\n"
	"  -h, --help       this help\n";

int cmd_query(int argc, char **argv)
{
	static const struct option opts[] = {
		{"csv", no_argument, NULL, 'c'},
		{"json", no_argument, NULL, 'j'},
		{"db", required_argument, NULL, 'd'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	enum format fmt = FMT_TABLE;
	const char *db_arg = NULL, *sql, *tail;
	struct store *s;
	sqlite3 *db;
	int c, code = EXIT_OK, json_sets = 0, nstmt = 0;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			fmt = FMT_CSV;
			break;
		case 'j':
			fmt = FMT_JSON;
			break;
		case 'd':
			db_arg = optarg;
			break;
		case 'h':
			fputs(usage, stdout);
			return EXIT_OK;
		default:
			return cli_option_error("query", c, argv);
		}
	}
	if (optind >= argc) {
		cli_error("query needs SQL, such as 'SELECT * FROM runs'");
		return cli_usage_error("query");
	}
	if (optind + 1 < argc) {
		cli_error("query takes one SQL argument (quote it): unexpected '%s'",
			  argv[optind + 1]);
		return cli_usage_error("query");
	}
	sql = argv[optind];
	if (!(s = cli_open_store(db_arg, STORE_READ)))
		return EXIT_FAIL;
	db = store_db(s);
	sqlite3_exec(db, "PRAGMA query_only = ON", NULL, NULL, NULL);
	while (code == EXIT_OK && sql && *sql) {
		sqlite3_stmt *st = NULL;

		if (sqlite3_prepare_v2(db, sql, -1, &st, &tail) != SQLITE_OK) {
			cli_error("query: %s", sqlite3_errmsg(db));
			code = EXIT_FAIL;
			break;
		}
		if (!st) { /* only blanks or a comment were left */
			sql = tail;
			continue;
		}
		nstmt++;
		if (!sqlite3_stmt_readonly(st)) {
			char word[32];

			first_word(sql, word, sizeof word);
			code = read_only_error(word);
		} else {
			code = run_stmt(db, st, fmt, &json_sets);
		}
		sqlite3_finalize(st);
		sql = tail;
	}
	if (code == EXIT_OK && nstmt == 0) {
		cli_error("query: no SQL statement in '%s'", argv[optind]);
		code = EXIT_USAGE;
	}
	store_close(s);
	fflush(stdout);
	return code;
}
