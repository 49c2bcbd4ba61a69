/* mark.c - memtide mark: a labelled moment, or the start and end of a span,
 * in a run.
 *
 * Inside a command that memtide run records ($MEMTIDE_MARK_SOCKET set), the
 * marker goes to the recorder through its socket, which stamps it with this
 * process's pid.  Elsewhere, or with --run or --db, it is written to the
 * database directly, in the given run or the last one.
 */
#include "cli.h"

#include "memtide/marksock.h"
#include "memtide/ticker.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage[] =
	"Usage: memtide mark [--run RUN] [--db PATH] LABEL [--end]\n"
	"Mark a moment of a run with LABEL; with --end, end the latest marker\n"
	"LABEL that has no end yet, which makes it a span.  Inside a command that\n"
	"'memtide run' records, the marker reaches that run (through\n"
	"$MEMTIDE_MARK_SOCKET); otherwise it is written to the last run of the\n"
	"database, or RUN.  Markers are in the marks view and in exported mprof\n"
	"files (FUNC lines).  From Python: 'import memtide' (see memtide(1)).\n"
	"\n"
	"      --end       end the span LABEL instead of marking a moment\n"
	"      --run RUN   the run (default: the last; implies the database)\n"
	"      --db PATH   database (default $MEMTIDE_DB, else\n"
	"                  $XDG_DATA_HOME/memtide/memtide.db)\n"
	"  -h, --help      this help\n";

int cmd_mark(int argc, char **argv)
{
	static const struct option opts[] = {
		{"end", no_argument, NULL, 'e'},
		{"run", required_argument, NULL, 'r'},
		{"db", required_argument, NULL, 'd'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *db_arg = NULL, *run_arg = NULL, *label, *sock;
	struct marksock_event ev = {.level = -1};
	struct store *s;
	int64_t run;
	int c, end = 0, err;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'e':
			end = 1;
			break;
		case 'r':
			run_arg = optarg;
			break;
		case 'd':
			db_arg = optarg;
			break;
		case 'h':
			fputs(usage, stdout);
			return EXIT_OK;
		default:
			return cli_option_error("mark", c, argv);
		}
	}
	if (optind >= argc || !*argv[optind]) {
		cli_error("mark needs a label");
		return cli_usage_error("mark");
	}
	if (optind + 1 < argc) {
		cli_error("mark takes one label (quote it): unexpected '%s'",
			  argv[optind + 1]);
		return cli_usage_error("mark");
	}
	label = argv[optind];
	if (strlen(label) > MARKSOCK_MSG_MAX - 64) {
		cli_error("label too long (at most %d bytes)", MARKSOCK_MSG_MAX - 64);
		return cli_usage_error("mark");
	}
	ev.kind = end ? MARKSOCK_END : MARKSOCK_MOMENT;
	ev.t = (double)ticker_now_real() / 1e9;
	ev.label = label;
	sock = getenv(MARKSOCK_ENV);
	if (sock && *sock && !run_arg && !db_arg) {
		if ((err = marksock_send(sock, &ev))) {
			cli_error("cannot reach the memtide recording this command at '%s': "
				  "%s", sock, strerror(-err));
			return EXIT_FAIL;
		}
		return EXIT_OK;
	}
	/* A marker belongs to a run: no database is created for one. */
	if (!(s = cli_open_store(db_arg, STORE_UPDATE)))
		return EXIT_FAIL;
	if ((err = store_run_resolve(s, run_arg, &run))) {
		cli_error("%s", store_errmsg(s));
		store_close(s);
		return err == -EINVAL ? EXIT_USAGE : EXIT_FAIL;
	}
	if (end) {
		err = store_mark_end_label(s, run, label, -1, ev.t);
		if (err == -ENOENT)
			cli_error("run %lld has no marker '%s' without an end", (long long)run,
				  label);
		else if (err)
			cli_error("cannot end marker '%s': %s", label, strerror(-err));
	} else {
		struct store_mark m = {
			.run = run,
			.label = label,
			.start = ev.t,
			.end = -1,
			.level = -1,
			.mem_start = -1,
			.mem_end = -1,
		};

		if ((err = store_mark_add(s, &m, NULL)))
			cli_error("cannot add marker: %s", store_errmsg(s));
	}
	store_close(s);
	return err ? EXIT_FAIL : EXIT_OK;
}

struct marksock *mark_listen(char *dir, size_t len)
{
	const char *base = getenv("XDG_RUNTIME_DIR");
	struct marksock *m = NULL;
	char path[256];

	if (!base || base[0] != '/' || strlen(base) > 100)
		base = "/tmp";
	snprintf(dir, len, "%s/memtide-XXXXXX", base);
	if (!mkdtemp(dir)) {
		dir[0] = '\0';
		return NULL;
	}
	snprintf(path, sizeof path, "%s/mark.sock", dir);
	if (marksock_open(path, &m) || setenv(MARKSOCK_ENV, path, 1)) {
		marksock_close(m);
		rmdir(dir);
		dir[0] = '\0';
		return NULL;
	}
	mark_reader_start(m);
	return m;
}

void mark_unlisten(struct marksock *m, const char *dir)
{
	mark_reader_stop();
	marksock_close(m);
	if (dir[0])
		rmdir(dir);
	unsetenv(MARKSOCK_ENV);
}
