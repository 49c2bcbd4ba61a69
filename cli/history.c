/* history.c - memtide list and memtide ps: what was recorded, when, and how
 * it ended.  The figures are those of memtide peak (totals.h). */
#include "cli.h"

#include "memtide/totals.h"
#include "memtide/units.h"

#include "../plot/when.h"

#include <getopt.h>
#include <regex.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct window {
	const char *db;
	double since, until; /* Unix seconds; -1e300 / 1e300 when not given */
	const char *match;   /* ps: a regex over the name */
	int first;           /* the first operand */
};

static void format_time(double t, char *buf, size_t len)
{
	time_t s = (time_t)t;
	struct tm tm;

	localtime_r(&s, &tm);
	strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm);
}

/* Parses --db, --since, --until, --help (and --match for ps).  Returns 0,
 * 1 after help, or EXIT_USAGE after a usage error. */
static int parse_window(int argc, char **argv, const char *cmd, const char *usage,
			int allow_match, struct window *w)
{
	static const struct option opts[] = {
		{"db", required_argument, NULL, 'd'},
		{"since", required_argument, NULL, 's'},
		{"until", required_argument, NULL, 'u'},
		{"match", required_argument, NULL, 'm'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct timespec now;
	int o;

	clock_gettime(CLOCK_REALTIME, &now);
	w->since = -1e300;
	w->until = 1e300;
	optind = 1;
	opterr = 0;
	while ((o = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		double *t = o == 's' ? &w->since : &w->until;

		switch (o) {
		case 'd':
			w->db = optarg;
			break;
		case 's':
		case 'u':
			if (when_parse(optarg, (double)now.tv_sec + now.tv_nsec / 1e9, t)) {
				cli_error("bad time '%s' for %s: give a duration before now "
					  "(30s, 2h, 1d), a date and time (2026-11-20T12:00) "
					  "or @UNIX_SECONDS", optarg,
					  o == 's' ? "--since" : "--until");
				return cli_usage_error(cmd);
			}
			break;
		case 'm':
			if (!allow_match)
				goto unknown;
			w->match = optarg;
			break;
		case 'h':
			fputs(usage, stdout);
			return 1;
		default:
		unknown:
			return cli_option_error(cmd, o, argv);
		}
	}
	if (w->since > w->until) {
		cli_error("--since is after --until");
		return cli_usage_error(cmd);
	}
	w->first = optind;
	return 0;
}

/* How a process ended, from the columns of issue 14 (exit_code,
 * exit_signal, oom_killed, memory_limit), in a few words into buf. */
static const char *how_ended(sqlite3_stmt *st, int col, int64_t at_bytes, char *buf,
			     size_t len)
{
	const char *sig;
	char at[32], lim[32];

	if (sqlite3_column_int(st, col + 2) == 1) {
		if (sqlite3_column_type(st, col + 3) != SQLITE_NULL && at_bytes > 0)
			snprintf(buf, len, "killed by the OOM killer at %s (limit %s)",
				 units_format_bytes(at_bytes, at, sizeof at),
				 units_format_bytes(sqlite3_column_int64(st, col + 3), lim,
						    sizeof lim));
		else
			snprintf(buf, len, "killed by the OOM killer");
	} else if (sqlite3_column_type(st, col + 1) != SQLITE_NULL) {
		sig = sigabbrev_np(sqlite3_column_int(st, col + 1));
		if (sig)
			snprintf(buf, len, "killed by SIG%s", sig);
		else
			snprintf(buf, len, "killed by signal %d", sqlite3_column_int(st, col + 1));
	} else if (sqlite3_column_type(st, col) != SQLITE_NULL) {
		snprintf(buf, len, "exit %d", sqlite3_column_int(st, col));
	} else {
		return NULL;
	}
	return buf;
}

static const char list_usage[] =
	"Usage: memtide list [--since T] [--until T] [--db PATH]\n"
	"List recorded runs, oldest first: id, start (local time), duration,\n"
	"samples, peak and how each ended, then the command.  PEAK is the peak\n"
	"of the total (RSS; PSS or USS for runs recorded with --backend\n"
	"psutil_pss or psutil_uss); for a memtided session, whose processes are\n"
	"not one program, it is its largest process's.  ENDED is the command's\n"
	"exit status (\"exit 0\", \"SIGKILL\", \"OOM kill\"), \"recording\" while\n"
	"the recorder lives, \"unfinished\" when it died before the end.\n"
	"\n"
	"  --since T, --until T  only runs that overlap the window from T to T:\n"
	"                        a duration before now (30s, 2h, 1d), a date and\n"
	"                        time (2026-11-20, 2026-11-20T12:00, local unless\n"
	"                        it has Z or +01:00), \"now\" or @UNIX_SECONDS\n"
	"  --db PATH             database\n"
	"  -h, --help            this help\n";

/* The ENDED column of a run. */
static const char *run_status(struct store *s, sqlite3_stmt *st, char *buf, size_t len)
{
	int64_t run = sqlite3_column_int64(st, 0);

	if (sqlite3_column_int(st, 7))
		return store_run_recording(s, run) == 1 ? "recording" : "unfinished";
	if (sqlite3_column_int(st, 12) == 1)
		return "OOM kill";
	if (sqlite3_column_type(st, 11) != SQLITE_NULL) {
		const char *sig = sigabbrev_np(sqlite3_column_int(st, 11));

		snprintf(buf, len, "SIG%s", sig ? sig : "?");
		return buf;
	}
	if (sqlite3_column_type(st, 10) != SQLITE_NULL) {
		snprintf(buf, len, "exit %d", sqlite3_column_int(st, 10));
		return buf;
	}
	return "-";
}

int cmd_list(int argc, char **argv)
{
	struct window w = {0};
	struct store *s;
	sqlite3_stmt *st;
	int rc = parse_window(argc, argv, "list", list_usage, 0, &w), n = 0;

	if (rc)
		return rc == 1 ? EXIT_OK : rc;
	if (w.first < argc) {
		cli_error("unexpected argument '%s'", argv[w.first]);
		return cli_usage_error("list");
	}
	if (!(s = cli_open_store(w.db, STORE_READ)))
		return EXIT_FAIL;
	rc = sqlite3_prepare_v2(
		store_db(s),
		"SELECT r.id, r.started, coalesce(r.ended - r.started,"
		" r.last_tick * r.interval, 0), r.samples, 0, r.command, r.label,"
		" r.ended IS NULL, r.page_size, r.kind, coalesce(r.exit_status,"
		" p.exit_code), p.exit_signal, p.oom_killed FROM run r LEFT JOIN proc p ON p.id = (SELECT min(id)"
		" FROM proc WHERE run = r.id AND parent IS NULL AND r.kind != 'daemon')"
		" WHERE r.started <= ?2 AND coalesce(r.ended, r.started"
		" + r.last_tick * r.interval, r.started, 0) >= ?1 ORDER BY r.id",
		-1, &st, NULL);
	if (rc != SQLITE_OK) {
		cli_error("cannot read runs: %s", sqlite3_errmsg(store_db(s)));
		store_close(s);
		return EXIT_FAIL;
	}
	sqlite3_bind_double(st, 1, w.since);
	sqlite3_bind_double(st, 2, w.until);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		char when[32], dur[32], peak[48], state[32], extra[96] = "";
		const char *label = (const char *)sqlite3_column_text(st, 6);
		struct totals_run t;

		if (totals_run_read(store_db(s), sqlite3_column_int64(st, 0), &t)) {
			rc = SQLITE_ERROR;
			break;
		}
		if (n++ == 0)
			printf("%5s  %-19s  %12s  %8s  %14s  %-10s  %s\n", "RUN", "STARTED",
			       "DURATION", "SAMPLES", "PEAK", "ENDED", "COMMAND");
		format_time(sqlite3_column_double(st, 1), when, sizeof when);
		units_format_duration(sqlite3_column_double(st, 2), dur, sizeof dur);
		units_format_bytes(t.daemon ? t.top_peak : t.peak, peak, sizeof peak);
		if (t.metric != TOTALS_RSS)
			strcat(peak, t.metric == TOTALS_PSS ? " PSS" : " USS");
		if (t.daemon && t.top_peak < 0)
			strcpy(peak, "-");
		if (t.daemon)
			snprintf(extra, sizeof extra, "  (%lld process%s; PEAK: the largest, "
				 "pid %d)", (long long)t.nprocs, t.nprocs == 1 ? "" : "es",
				 t.top_pid);
		printf("%5lld  %-19s  %12s  %8lld  %14s  %-10s  %s%s%s%s%s\n",
		       (long long)sqlite3_column_int64(st, 0), when, dur,
		       (long long)sqlite3_column_int64(st, 3), peak,
		       run_status(s, st, state, sizeof state),
		       (const char *)sqlite3_column_text(st, 5),
		       label ? "  [" : "", label ? label : "", label ? "]" : "", extra);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		cli_error("cannot read runs: %s", sqlite3_errmsg(store_db(s)));
		store_close(s);
		return EXIT_FAIL;
	}
	if (n == 0)
		printf(w.since > -1e300 || w.until < 1e300 ? "no runs in that window\n"
							    : "no runs recorded yet\n");
	store_close(s);
	return EXIT_OK;
}

static const char ps_usage[] =
	"Usage: memtide ps [RUN] [--since T] [--until T] [--match REGEX] [--db PATH]\n"
	"List the processes of a run (default: the last), or with --since or\n"
	"--until and no RUN, of every run, alive in that window: run, pid,\n"
	"start and end (local time), how it ended, its peak (RSS; PSS or USS\n"
	"for runs recorded with that backend) and its own kernel peak (VmHWM\n"
	"or ru_maxrss: never a child's; \"unknown\" when it cannot be known),\n"
	"then its name.\n"
	"\n"
	"  --since T, --until T  processes alive at some time from T to T (see\n"
	"                        memtide list --help for the forms of T)\n"
	"  --match REGEX         only processes whose name or command line\n"
	"                        matches REGEX (POSIX extended)\n"
	"  --db PATH             database\n"
	"  -h, --help            this help\n";

/* One process per row: run, pid, started, ended, exit_code, exit_signal,
 * oom_killed, memory_limit, peak (bytes, in the run's metric), hwm, name,
 * the last sampled RSS (bytes), whether the run is still open, its backend,
 * the run's exit status when it is memtide run's command. */
static const char ps_sql[] =
	"SELECT p.run, p.pid, p.started, p.ended, p.exit_code, p.exit_signal,"
	" p.oom_killed, p.memory_limit,"
	" CASE r.backend WHEN 'pss' THEN (SELECT max(pss) * 1024 FROM sample_mem"
	" WHERE proc = p.id) WHEN 'uss' THEN (SELECT max(uss) * 1024 FROM"
	" sample_mem WHERE proc = p.id) ELSE p.peak_rss * r.page_size END,"
	" p.hwm, coalesce(p.name, p.cmdline, p.exe, '?'),"
	" (SELECT rss * r.page_size FROM sample WHERE proc = p.id ORDER BY tick"
	" DESC LIMIT 1), r.ended IS NULL, r.backend,"
	" CASE WHEN p.parent IS NULL AND r.kind = 'run' THEN r.exit_status END"
	" FROM proc p JOIN run r ON r.id = p.run"
	" WHERE (?1 = 0 OR p.run = ?1) AND p.started <= ?3"
	" AND coalesce(p.ended, r.ended, 1e300) >= ?2 ORDER BY p.run, p.started, p.id";

static int ps_rows(struct store *s, int64_t run, const struct window *w,
		   const regex_t *re)
{
	sqlite3_stmt *st;
	int rc, n = 0, open_run = -1;
	int64_t open_id = 0;

	if (sqlite3_prepare_v2(store_db(s), ps_sql, -1, &st, NULL) != SQLITE_OK) {
		cli_error("cannot read processes: %s", sqlite3_errmsg(store_db(s)));
		return EXIT_FAIL;
	}
	sqlite3_bind_int64(st, 1, run);
	sqlite3_bind_double(st, 2, w->since);
	sqlite3_bind_double(st, 3, w->until);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 10);
		char start[32], end[32], how[96], peak[40], kpeak[32];
		int64_t at = sqlite3_column_type(st, 11) != SQLITE_NULL
				     ? sqlite3_column_int64(st, 11)
				     : sqlite3_column_int64(st, 8);
		const char *backend = (const char *)sqlite3_column_text(st, 13);

		if (re && regexec(re, name, 0, NULL, 0) != 0)
			continue;
		if (n++ == 0)
			printf("%5s  %8s  %-19s  %-19s  %-24s  %14s  %12s  %s\n", "RUN", "PID",
			       "STARTED", "ENDED", "HOW IT ENDED", "PEAK", "KERNEL PEAK",
			       "NAME");
		format_time(sqlite3_column_double(st, 2), start, sizeof start);
		if (sqlite3_column_type(st, 3) != SQLITE_NULL) {
			format_time(sqlite3_column_double(st, 3), end, sizeof end);
		} else {
			/* One look at the recorder per run, not per process. */
			if (open_id != sqlite3_column_int64(st, 0)) {
				open_id = sqlite3_column_int64(st, 0);
				open_run = sqlite3_column_int(st, 12) &&
					   store_run_recording(s, open_id) == 1;
			}
			snprintf(end, sizeof end, "%s", open_run ? "alive" : "unknown");
		}
		if (how_ended(st, 4, at, how, sizeof how))
			;
		else if (sqlite3_column_type(st, 14) != SQLITE_NULL)
			/* The command of memtide run: its status as run.exit_status
			 * has it (128 + N: killed by signal N). */
			snprintf(how, sizeof how, "exit %d", sqlite3_column_int(st, 14));
		else
			snprintf(how, sizeof how, "%s",
				 sqlite3_column_type(st, 3) == SQLITE_NULL ? "-" : "unknown");
		if (sqlite3_column_type(st, 8) == SQLITE_NULL)
			snprintf(peak, sizeof peak, "-");
		else
			units_format_bytes(sqlite3_column_int64(st, 8), peak, sizeof peak);
		if (backend && sqlite3_column_type(st, 8) != SQLITE_NULL &&
		    (!strcmp(backend, "pss") || !strcmp(backend, "uss")))
			strcat(peak, !strcmp(backend, "pss") ? " PSS" : " USS");
		if (sqlite3_column_type(st, 9) == SQLITE_NULL ||
		    sqlite3_column_int64(st, 9) <= 0)
			snprintf(kpeak, sizeof kpeak, "unknown");
		else
			units_format_bytes(sqlite3_column_int64(st, 9), kpeak, sizeof kpeak);
		printf("%5lld  %8d  %-19s  %-19s  %-24s  %14s  %12s  %s\n",
		       (long long)sqlite3_column_int64(st, 0), sqlite3_column_int(st, 1), start,
		       end, how, peak, kpeak, name);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		cli_error("cannot read processes: %s", sqlite3_errmsg(store_db(s)));
		return EXIT_FAIL;
	}
	if (n == 0)
		printf("no processes%s\n", re ? " match" : "");
	return EXIT_OK;
}

int cmd_ps(int argc, char **argv)
{
	struct window w = {0};
	struct store *s;
	regex_t re;
	int64_t run = 0;
	int rc = parse_window(argc, argv, "ps", ps_usage, 1, &w), windowed;

	if (rc)
		return rc == 1 ? EXIT_OK : rc;
	if (argc - w.first > 1) {
		cli_error("unexpected argument '%s' (one RUN at most)", argv[w.first + 1]);
		return cli_usage_error("ps");
	}
	if (w.match) {
		char msg[128];

		if ((rc = regcomp(&re, w.match, REG_EXTENDED | REG_NOSUB)) != 0) {
			regerror(rc, &re, msg, sizeof msg);
			cli_error("bad --match regex '%s': %s", w.match, msg);
			return cli_usage_error("ps");
		}
	}
	windowed = w.since > -1e300 || w.until < 1e300;
	rc = EXIT_FAIL;
	if (!(s = cli_open_store(w.db, STORE_READ)))
		goto out;
	/* A window alone spans every run; otherwise the run given, or the
	 * last. */
	if ((w.first < argc || !windowed) &&
	    store_run_resolve(s, w.first < argc ? argv[w.first] : NULL, &run)) {
		cli_error("%s", store_errmsg(s));
		goto out;
	}
	rc = ps_rows(s, run, &w, w.match ? &re : NULL);
out:
	store_close(s);
	if (w.match)
		regfree(&re);
	return rc;
}
