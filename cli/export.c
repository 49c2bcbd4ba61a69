/* export.c - memtide export: runs out of the database as mprof .dat files
 * (that mprof plot draws), CSV or JSON.
 *
 * mprof: CMDLINE, then for each tick a MEM line (the run's total; for an
 * imported run, its MEM series as it was) followed by one CHLD line per
 * child process, then a FUNC line per marker.  A marker that does not know
 * its memory (memtide mark, Python markers) takes the MEM value of the
 * latest tick at or before its start and end.
 */
#include "cli.h"

#include "memtide/text.h"
#include "memtide/totals.h"

#include "memtide/mprof.h"

#include <errno.h>
#include <getopt.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum format { FMT_CSV, FMT_JSON, FMT_MPROF };

struct run_info {
	int64_t id;
	int imported;
	char *command;
	double started, interval;
	int64_t page_size;
	enum totals_metric metric; /* what MEM lines carry: RSS, PSS or USS */
};

struct proc_info {
	int64_t id;
	int pid;
	int is_mem;   /* the MEM series of an import */
	int is_child; /* written as CHLD */
	char *cmdline;
	int64_t held; /* bytes: its last PSS or USS reading, -1 none yet */
};

/* MEM values in time order, for the memory at a marker. */
struct mem_series {
	int64_t *t, *bytes;
	size_t n, cap;
};

static int prep(sqlite3 *db, const char *sql, sqlite3_stmt **st)
{
	if (sqlite3_prepare_v2(db, sql, -1, st, NULL) != SQLITE_OK) {
		cli_error("export: %s", sqlite3_errmsg(db));
		return -1;
	}
	return 0;
}

static char *col_dup(sqlite3_stmt *st, int i)
{
	const unsigned char *s = sqlite3_column_text(st, i);

	return s ? strdup((const char *)s) : NULL;
}

static int load_run(sqlite3 *db, int64_t id, struct run_info *r)
{
	sqlite3_stmt *st;
	int rc;

	if (prep(db, "SELECT kind = 'import', command, started, interval, page_size,"
		     " backend FROM run WHERE id = ?", &st))
		return -1;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		r->id = id;
		r->imported = sqlite3_column_int(st, 0);
		r->command = col_dup(st, 1);
		r->started = sqlite3_column_double(st, 2);
		r->interval = sqlite3_column_double(st, 3);
		r->page_size = sqlite3_column_int64(st, 4);
		r->metric = totals_metric_of((const char *)sqlite3_column_text(st, 5));
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW) {
		cli_error("export: no run %lld", (long long)id);
		return -1;
	}
	return 0;
}

/* The run's processes, and which is MEM or CHLD: in an import the process
 * with start_ticks 0 is MEM; in a recorded run, every process but the first
 * root is a child when there are several. */
static int load_procs(sqlite3 *db, const struct run_info *r,
		      struct proc_info **out, size_t *n)
{
	sqlite3_stmt *st;
	size_t cap = 0;
	int rc, root_seen = 0;

	*out = NULL;
	*n = 0;
	if (prep(db, "SELECT id, pid, parent IS NULL, start_ticks, cmdline FROM proc"
		     " WHERE run = ? ORDER BY id", &st))
		return -1;
	sqlite3_bind_int64(st, 1, r->id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct proc_info *p;

		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			if (!(p = realloc(*out, cap * sizeof *p)))
				break;
			*out = p;
		}
		p = &(*out)[(*n)++];
		memset(p, 0, sizeof *p);
		p->id = sqlite3_column_int64(st, 0);
		p->pid = sqlite3_column_int(st, 1);
		p->cmdline = col_dup(st, 4);
		p->held = -1;
		if (r->imported) {
			p->is_mem = sqlite3_column_int64(st, 3) == 0;
			p->is_child = !p->is_mem;
		} else if (sqlite3_column_int(st, 2) && !root_seen) {
			root_seen = 1;
		} else {
			p->is_child = 1;
		}
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		cli_error("export: %s", sqlite3_errmsg(db));
		return -1;
	}
	return 0;
}

static void procs_free(struct proc_info *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(p[i].cmdline);
	free(p);
}

static struct proc_info *find_proc(struct proc_info *p, size_t n, int64_t id)
{
	/* Ids are ascending: a binary search. */
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (p[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && p[lo].id == id ? &p[lo] : NULL;
}

/* x rounded to the nearest integer (half away from zero), without libm. */
static int64_t round_i64(double x)
{
	return x < 0 ? -(int64_t)(0.5 - x) : (int64_t)(x + 0.5);
}

/* A time of the run in mprof's 1e-4 s units. */
static int64_t t4(const struct run_info *r, int64_t tick)
{
	return round_i64(r->started * 1e4 + (double)tick * r->interval * 1e4);
}

static int mem_push(struct mem_series *m, int64_t t, int64_t bytes)
{
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 1024;
		int64_t *a = realloc(m->t, cap * sizeof *a), *b;

		if (!a)
			return -1;
		m->t = a;
		if (!(b = realloc(m->bytes, cap * sizeof *b)))
			return -1;
		m->bytes = b;
		m->cap = cap;
	}
	m->t[m->n] = t;
	m->bytes[m->n++] = bytes;
	return 0;
}

/* The MEM value at time t: the latest at or before it, else the first. */
static int64_t mem_at(const struct mem_series *m, int64_t t)
{
	size_t lo = 0, hi = m->n;

	if (m->n == 0)
		return 0;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (m->t[mid] <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return m->bytes[lo ? lo - 1 : 0];
}

static int write_marks_mprof(sqlite3 *db, FILE *f, const struct run_info *r,
			     const struct mem_series *mem)
{
	sqlite3_stmt *st;
	char *line = NULL;
	size_t cap = 0;
	int rc;

	if (prep(db, "SELECT label, start, end, level, mem_start, mem_end FROM mark"
		     " WHERE run = ? ORDER BY start, id", &st))
		return -1;
	sqlite3_bind_int64(st, 1, r->id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *label = (const char *)sqlite3_column_text(st, 0);
		size_t len = (size_t)sqlite3_column_bytes(st, 0);
		int64_t ts = round_i64(sqlite3_column_double(st, 1) * 1e4);
		int64_t te = sqlite3_column_type(st, 2) == SQLITE_NULL
				     ? ts
				     : round_i64(sqlite3_column_double(st, 2) * 1e4);
		int64_t ms = sqlite3_column_type(st, 4) == SQLITE_NULL
				     ? mem_at(mem, ts)
				     : sqlite3_column_int64(st, 4);
		int64_t me = sqlite3_column_type(st, 5) == SQLITE_NULL
				     ? mem_at(mem, te)
				     : sqlite3_column_int64(st, 5);

		if (len + MPROF_LINE_MAX > cap) {
			char *nl = realloc(line, cap = len + MPROF_LINE_MAX);

			if (!nl)
				break;
			line = nl;
		}
		fwrite(line, 1,
		       mprof_format_func(line, label ? label : "", label ? len : 0, ms, ts,
					 me, te, sqlite3_column_int(st, 3)),
		       f);
	}
	free(line);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		cli_error("export: %s", sqlite3_errmsg(db));
		return -1;
	}
	return 0;
}

/* The CHLD lines of the tick being gathered wait for its MEM line. */
struct pending {
	char *buf;
	size_t len, cap;
};

static int pending_add(struct pending *p, const char *s, size_t n)
{
	if (p->len + n > p->cap) {
		size_t cap = (p->len + n) * 2;
		char *b = realloc(p->buf, cap);

		if (!b)
			return -1;
		p->buf = b;
		p->cap = cap;
	}
	memcpy(p->buf + p->len, s, n);
	p->len += n;
	return 0;
}

static int export_mprof(sqlite3 *db, FILE *f, int64_t run)
{
	struct run_info r = {0};
	struct proc_info *procs = NULL;
	struct mem_series mem = {0};
	struct pending chld = {0};
	sqlite3_stmt *st = NULL;
	size_t nprocs = 0;
	char line[MPROF_LINE_MAX];
	int64_t cur = -1, total = 0;
	int have_mem = 0, rc, err = -1;
	const char *cmd;

	if (load_run(db, run, &r) || load_procs(db, &r, &procs, &nprocs))
		goto out;
	cmd = r.command;
	if (r.imported) {
		/* An import keeps the file's CMDLINE on its MEM process; a file
		 * without one gets none back. */
		cmd = NULL;
		for (size_t i = 0; i < nprocs; i++)
			if (procs[i].is_mem)
				cmd = procs[i].cmdline;
	}
	if (cmd) {
		size_t n = strlen(cmd);
		char *buf = malloc(n + MPROF_LINE_MAX);

		if (!buf)
			goto out;
		fwrite(buf, 1, mprof_format_cmdline(buf, cmd, n), f);
		free(buf);
	}
	/* With --backend psutil_pss or psutil_uss, MEM and CHLD carry PSS or
	 * USS, as mprof's do; smaps_rollup is read at its own pace, so each
	 * process's last reading stands between two. */
	if (prep(db, "SELECT s.tick, s.proc, s.rss, m.pss, m.uss FROM sample s"
		     " JOIN proc p ON p.id = s.proc LEFT JOIN sample_mem m ON"
		     " m.proc = s.proc AND m.tick = s.tick WHERE p.run = ?"
		     " ORDER BY s.tick, s.proc", &st))
		goto out;
	sqlite3_bind_int64(st, 1, run);
	for (;;) {
		int64_t tick = 0, bytes = 0;
		struct proc_info *p = NULL;

		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			tick = sqlite3_column_int64(st, 0);
			p = find_proc(procs, nprocs, sqlite3_column_int64(st, 1));
			bytes = sqlite3_column_int64(st, 2) * r.page_size;
			if (p && r.metric != TOTALS_RSS) {
				int col = r.metric == TOTALS_PSS ? 3 : 4;

				if (sqlite3_column_type(st, col) != SQLITE_NULL)
					p->held = sqlite3_column_int64(st, col) * 1024;
				if (p->held >= 0)
					bytes = p->held;
			}
		}
		if (cur >= 0 && (rc != SQLITE_ROW || tick != cur)) {
			if (have_mem) {
				fwrite(line, 1, mprof_format_mem(line, total, t4(&r, cur)), f);
				if (mem_push(&mem, t4(&r, cur), total))
					goto out;
			}
			if (chld.len)
				fwrite(chld.buf, 1, chld.len, f);
			chld.len = 0;
			total = 0;
			have_mem = 0;
		}
		if (rc != SQLITE_ROW)
			break;
		cur = tick;
		if (!p)
			continue;
		if (!r.imported || p->is_mem) {
			total += bytes;
			have_mem = 1;
		}
		if (p->is_child &&
		    pending_add(&chld, line,
				mprof_format_chld(line, p->pid, bytes, t4(&r, tick))))
			goto out;
	}
	if (rc != SQLITE_DONE) {
		cli_error("export: %s", sqlite3_errmsg(db));
		goto out;
	}
	err = write_marks_mprof(db, f, &r, &mem);
out:
	sqlite3_finalize(st);
	procs_free(procs, nprocs);
	free(r.command);
	free(mem.t);
	free(mem.bytes);
	free(chld.buf);
	return err;
}

static int export_csv(sqlite3 *db, FILE *f, const int64_t *runs, size_t n)
{
	sqlite3_stmt *st;
	int rc = SQLITE_DONE;

	fputs("run,pid,t,rss,cpu,threads\r\n", f);
	if (prep(db, "SELECT run, pid, t, rss, cpu, threads FROM samples"
		     " WHERE run = ? ORDER BY tick, proc", &st))
		return -1;
	for (size_t i = 0; i < n && rc == SQLITE_DONE; i++) {
		sqlite3_bind_int64(st, 1, runs[i]);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW)
			fprintf(f, "%lld,%d,%.6f,%lld,%.1f,%d\r\n",
				(long long)sqlite3_column_int64(st, 0),
				sqlite3_column_int(st, 1), sqlite3_column_double(st, 2),
				(long long)sqlite3_column_int64(st, 3),
				sqlite3_column_double(st, 4), sqlite3_column_int(st, 5));
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		cli_error("export: %s", sqlite3_errmsg(db));
		return -1;
	}
	return 0;
}

/* One JSON value of a column: null, a number, or a string. */
static void json_col(FILE *f, sqlite3_stmt *st, int i)
{
	switch (sqlite3_column_type(st, i)) {
	case SQLITE_NULL:
		fputs("null", f);
		break;
	case SQLITE_INTEGER:
		fprintf(f, "%lld", (long long)sqlite3_column_int64(st, i));
		break;
	case SQLITE_FLOAT:
		if (sqlite3_column_double(st, i) - sqlite3_column_double(st, i) == 0)
			fprintf(f, "%.6f", sqlite3_column_double(st, i));
		else
			fputs("null", f);
		break;
	default:
		cli_json_string(f, (const char *)sqlite3_column_text(st, i));
	}
}

/* Writes the rows of st as objects ({"col": value, ...}) separated by
 * commas; returns the step's last result code. */
static int json_objects(FILE *f, sqlite3_stmt *st, const char *indent)
{
	int rc, n = 0;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		fprintf(f, "%s%s{", n++ ? ",\n" : "\n", indent);
		for (int i = 0; i < sqlite3_column_count(st); i++) {
			if (i)
				fputs(", ", f);
			cli_json_string(f, sqlite3_column_name(st, i));
			fputs(": ", f);
			json_col(f, st, i);
		}
		putc('}', f);
	}
	return rc;
}

static int json_run(sqlite3 *db, FILE *f, int64_t run)
{
	sqlite3_stmt *st = NULL, *ps = NULL, *ss = NULL;
	int rc, err = -1, np = 0;

	if (prep(db, "SELECT run, kind, command, label, started, ended, interval,"
		     " peak_rss, kernel_peak_rss, exit_status FROM runs WHERE run = ?", &st) ||
	    prep(db, "SELECT proc, pid, ppid, command, started, ended, exe, peak_rss,"
		     " kernel_peak_rss FROM processes WHERE run = ? ORDER BY proc", &ps) ||
	    prep(db, "SELECT t, rss, cpu, threads FROM samples WHERE proc = ?"
		     " ORDER BY tick", &ss))
		goto out;
	sqlite3_bind_int64(st, 1, run);
	if (sqlite3_step(st) != SQLITE_ROW)
		goto out;
	putc('{', f);
	for (int i = 0; i < sqlite3_column_count(st); i++) {
		cli_json_string(f, sqlite3_column_name(st, i));
		fputs(": ", f);
		json_col(f, st, i);
		fputs(", ", f);
	}
	fputs("\n  \"processes\": [", f);
	sqlite3_bind_int64(ps, 1, run);
	while ((rc = sqlite3_step(ps)) == SQLITE_ROW) {
		static const char *const cols[] = {"t", "rss", "cpu", "threads"};

		fputs(np++ ? ",\n   {" : "\n   {", f);
		for (int i = 1; i < sqlite3_column_count(ps); i++) {
			cli_json_string(f, sqlite3_column_name(ps, i));
			fputs(": ", f);
			json_col(f, ps, i);
			fputs(", ", f);
		}
		fputs("\"samples\": {", f);
		/* Columns, not rows: a sample costs its numbers only. */
		for (int c = 0; c < 4; c++) {
			int k = 0;

			fprintf(f, "%s\"%s\": [", c ? ", " : "", cols[c]);
			sqlite3_bind_int64(ss, 1, sqlite3_column_int64(ps, 0));
			while (sqlite3_step(ss) == SQLITE_ROW) {
				if (k++)
					putc(',', f);
				if (c == 0)
					fprintf(f, "%.6f", sqlite3_column_double(ss, 0));
				else if (c == 2)
					fprintf(f, "%.1f", sqlite3_column_double(ss, 2));
				else
					fprintf(f, "%lld", (long long)sqlite3_column_int64(ss, c));
			}
			sqlite3_reset(ss);
			putc(']', f);
		}
		fputs("}}", f);
	}
	if (rc != SQLITE_DONE)
		goto out;
	fputs("],\n  \"marks\": [", f);
	sqlite3_finalize(st);
	if (prep(db, "SELECT label, start, end, level, pid, mem_start, mem_end"
		     " FROM marks WHERE run = ? ORDER BY start, mark", &st))
		goto out;
	sqlite3_bind_int64(st, 1, run);
	if (json_objects(f, st, "   ") != SQLITE_DONE)
		goto out;
	fputs("]}", f);
	err = 0;
out:
	if (err)
		cli_error("export: %s", sqlite3_errmsg(db));
	sqlite3_finalize(st);
	sqlite3_finalize(ps);
	sqlite3_finalize(ss);
	return err;
}

static int export_json(sqlite3 *db, FILE *f, const int64_t *runs, size_t n)
{
	putc('[', f);
	for (size_t i = 0; i < n; i++) {
		fputs(i ? ",\n " : "\n ", f);
		if (json_run(db, f, runs[i]))
			return -1;
	}
	fputs("\n]\n", f);
	return 0;
}

/* The format a file's name asks for: .csv, .json, else mprof's. */
static enum format format_of(const char *path)
{
	if (path && text_ends_with(path, strlen(path), ".csv"))
		return FMT_CSV;
	if (path && text_ends_with(path, strlen(path), ".json"))
		return FMT_JSON;
	return FMT_MPROF;
}

int cli_export_file(struct store *s, int64_t run, const char *path)
{
	FILE *f = fopen(path, "w");
	enum format fmt = format_of(path);
	int err;

	if (!f) {
		cli_error("cannot write '%s': %s", path, strerror(errno));
		return -1;
	}
	err = fmt == FMT_MPROF  ? export_mprof(store_db(s), f, run)
	      : fmt == FMT_JSON ? export_json(store_db(s), f, &run, 1)
				: export_csv(store_db(s), f, &run, 1);
	if (fflush(f) != 0 || ferror(f)) {
		cli_error("cannot write '%s': %s", path, strerror(errno));
		err = -1;
	}
	fclose(f);
	if (err)
		unlink(path);
	return err;
}

static const char usage[] =
	"Usage: memtide export [RUN...] [--format csv|json|mprof] [-o FILE] [--db PATH]\n"
	"Write runs (default: the last) out of the database.\n"
	"\n"
	"  mprof  an mprof .dat file, one run: CMDLINE, MEM (the run's total) and\n"
	"         CHLD (each child) every tick, FUNC for each marker; mprof plot\n"
	"         draws it.  An imported file comes back as it was.\n"
	"  csv    run,pid,t,rss,cpu,threads: one row a sample (RFC 4180)\n"
	"  json   an array of runs, each with its processes (samples as columns\n"
	"         t, rss, cpu, threads) and its marks\n"
	"Times are Unix seconds, sizes bytes (MiB in mprof files).\n"
	"\n"
	"  -f, --format F    csv, json or mprof (default: from -o's extension,\n"
	"                    .csv, .json, else mprof, as 'memtide export > x.dat'\n"
	"                    expects)\n"
	"  -o, --output FILE write to FILE instead of standard output\n"
	"      --db PATH     database (default $MEMTIDE_DB, else\n"
	"                    $XDG_DATA_HOME/memtide/memtide.db)\n"
	"  -h, --help        this help\n";

int cmd_export(int argc, char **argv)
{
	static const struct option opts[] = {
		{"format", required_argument, NULL, 'f'},
		{"output", required_argument, NULL, 'o'},
		{"db", required_argument, NULL, 'd'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *db_arg = NULL, *out_path = NULL, *fmt_arg = NULL;
	enum format fmt = FMT_MPROF;
	struct store *s = NULL;
	int64_t *runs = NULL;
	size_t nruns = 0;
	FILE *f = stdout;
	int c, code = EXIT_FAIL, err;

	cli_relative_runs(argc, argv);
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":f:o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			fmt_arg = optarg;
			break;
		case 'o':
			out_path = optarg;
			break;
		case 'd':
			db_arg = optarg;
			break;
		case 'h':
			fputs(usage, stdout);
			return EXIT_OK;
		default:
			return cli_option_error("export", c, argv);
		}
	}
	if (fmt_arg) {
		if (strcmp(fmt_arg, "csv") == 0)
			fmt = FMT_CSV;
		else if (strcmp(fmt_arg, "json") == 0)
			fmt = FMT_JSON;
		else if (strcmp(fmt_arg, "mprof") == 0 || strcmp(fmt_arg, "dat") == 0)
			fmt = FMT_MPROF;
		else {
			cli_error("unknown format '%s' (use csv, json or mprof)", fmt_arg);
			return cli_usage_error("export");
		}
	} else {
		fmt = format_of(out_path);
	}
	if (fmt == FMT_MPROF && argc - optind > 1) {
		cli_error("an mprof file holds one run: export runs one at a time%s",
			  fmt_arg ? "" : ", or give --format csv or json");
		return cli_usage_error("export");
	}
	if (!(s = cli_open_store(db_arg, STORE_READ)))
		return EXIT_FAIL;
	nruns = argc - optind > 0 ? (size_t)(argc - optind) : 1;
	if (!(runs = calloc(nruns, sizeof *runs)))
		goto out;
	for (size_t i = 0; i < nruns; i++)
		if (store_run_resolve(s, optind + (int)i < argc ? argv[optind + i] : NULL,
				      &runs[i])) {
			cli_error("%s", store_errmsg(s));
			goto out;
		}
	if (out_path && !(f = fopen(out_path, "w"))) {
		cli_error("cannot write '%s': %s", out_path, strerror(errno));
		goto out;
	}
	setvbuf(f, NULL, _IOFBF, 1 << 20);
	err = fmt == FMT_MPROF  ? export_mprof(store_db(s), f, runs[0])
	      : fmt == FMT_JSON ? export_json(store_db(s), f, runs, nruns)
				: export_csv(store_db(s), f, runs, nruns);
	if (fflush(f) != 0 || ferror(f)) {
		cli_error("cannot write '%s': %s", out_path ? out_path : "standard output",
			  strerror(errno));
		err = -1;
	}
	if (!err)
		code = EXIT_OK;
out:
	if (f && f != stdout) {
		fclose(f);
		if (code != EXIT_OK)
			unlink(out_path);
	}
	free(runs);
	store_close(s);
	return code;
}
