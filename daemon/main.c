/* main.c - memtided: options, lifecycle and the main loop.
 *
 * One loop on the main thread wakes for whatever is due first -- a sampling
 * group, a /proc scan, the watchdog -- or for a proc connector event, and
 * sleeps in ppoll() with the signals it handles unblocked only there: a
 * handler sets a flag and the loop acts on it, never the handler.
 */
#include "daemon.h"

#include "memtide/config.h"
#include "memtide/store.h"
#include "memtide/ticker.h"

#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#define NS 1000000000LL
#define HWM_NS (60 * NS)         /* VmHWM of every process: costly, rarely */
/* With the proc connector, events find new processes as they start and a
 * scan is only a safety net (an overflow rescans at once): a scan reads
 * /proc's directory and a few files of every untracked process, several
 * times what sampling 1000 processes at 1 s costs if run every `scan`. */
#define EVENTS_SCAN_NS (60 * NS)
#define STOP_GRACE_NS (NS * 8 / 10) /* SIGTERM to exit: under a second */
#define MAX_QUEUED 131072        /* samples held while the database refuses */
/* The metrics page is at most this old.  It is made on the sampling grid
 * (whole PUBLISH_NS since tick 0), right after the ticks due then, so a
 * group whose interval divides it is counted as it is, not as it was up to
 * an interval ago: workers growing 100 MiB/s made a page 100 ms stale read
 * 13 % under /proc.  Between two, a change (a worker born, gone, or read
 * anew) is on the page at the next point of the REPUBLISH_NS grid, again
 * right after the ticks due then: a page up to a second old had summed
 * workers that had ended since, 1.5 % over /proc on bench g. */
#define PUBLISH_NS NS
#define REPUBLISH_NS YOUNG_NS /* young processes are read on it */
/* After a read of markers that dropped some (a sender over its budget),
 * the socket rests this long: a flood then costs memtided a few thousand
 * reads a second, not one per datagram the sender can push. */
#define MARKS_REST_NS (NS / 20)

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

static volatile sig_atomic_t got_term, got_hup;

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		got_hup = 1;
	else
		got_term = 1;
}

static const char usage[] =
	"Usage: memtided [-c FILE] [--db PATH] [-v] [--check]\n"
	"Record the memory of every Python process (or those the [track] rules\n"
	"of FILE select) into SQLite, in the foreground, until SIGTERM.\n"
	"\n"
	"  -c, --config FILE  configuration (default " CONFIG_DEFAULT_PATH ")\n"
	"      --db PATH      database (default: the config's, else\n"
	"                     " CONFIG_DEFAULT_DB ")\n"
	"  -v, --verbose      log debug messages\n"
	"      --check        check the configuration and exit: 0 ok, 2 bad\n"
	"  -h, --help         this help\n"
	"      --version      print the version\n"
	"\n"
	"SIGHUP reloads the configuration (a bad one is refused and the current\n"
	"one kept); SIGTERM or SIGINT flushes and exits.  See memtided(8).\n";

struct opts {
	const char *config, *db;
	int verbose, check, config_given;
};

static int parse_opts(int argc, char **argv, struct opts *o)
{
	enum { OPT_DB = 256, OPT_CHECK, OPT_VERSION };
	static const struct option lo[] = {
		{"config", required_argument, NULL, 'c'},
		{"db", required_argument, NULL, OPT_DB},
		{"verbose", no_argument, NULL, 'v'},
		{"check", no_argument, NULL, OPT_CHECK},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, OPT_VERSION},
		{NULL, 0, NULL, 0},
	};
	int c;

	o->config = CONFIG_DEFAULT_PATH;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":c:vh", lo, NULL)) != -1) {
		switch (c) {
		case 'c':
			o->config = optarg;
			o->config_given = 1;
			break;
		case OPT_DB:
			o->db = optarg;
			break;
		case 'v':
			o->verbose = 1;
			break;
		case OPT_CHECK:
			o->check = 1;
			break;
		case 'h':
			fputs(usage, stdout);
			return 1;
		case OPT_VERSION:
			printf("memtided %s\n", MEMTIDE_VERSION);
			return 1;
		case ':':
			fprintf(stderr, "memtided: option '%s' needs a value\n", argv[optind - 1]);
			return -1;
		default:
			fprintf(stderr, "memtided: unknown option '%s'\n", argv[optind - 1]);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "memtided: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	return 0;
}

/* Loads the configuration; a missing default file means the defaults (all
 * Python processes), a missing file named with -c is an error. */
static int load_config(const struct opts *o, struct config *c, char *err, size_t len)
{
	int rc = config_load(o->config, c, err, len);

	if (rc == -ENOENT && !o->config_given)
		return config_defaults(c);
	return rc;
}

/* The database is 0640 and, where the group exists (the unit's sysusers.d
 * file creates it), group-owned by "memtide": its members may read the
 * history with memtide list/plot, and nobody else may. */
static void share_with_group(const char *db)
{
	struct group *g = getgrnam("memtide");
	static const char *const suffix[] = {"", "-wal", "-shm"};
	char path[4096];

	for (size_t i = 0; i < 3; i++) {
		snprintf(path, sizeof path, "%s%s", db, suffix[i]);
		if (access(path, F_OK) < 0)
			continue;
		if (chmod(path, 0640) < 0)
			log_warning("cannot chmod %s: %m", path);
		if (g && chown(path, (uid_t)-1, g->gr_gid) < 0)
			log_warning("cannot give %s to group memtide: %m", path);
	}
}

/* What the log has said so far, so that each status says what is new. */
struct said {
	uint64_t dropped, missed, unseen, marks;
};

static void status(struct tracker *t, struct writer *w, struct said *said)
{
	struct writer_stats ws;
	uint64_t missed = tracker_missed(t), unseen = tracker_unseen(t);

	writer_get_stats(w, &ws);
	if (missed > said->missed) {
		log_notice("%llu samples missed: memtided woke up late (a busy"
			   " machine)",
			   (unsigned long long)(missed - said->missed));
		said->missed = missed;
	}
	if (unseen > said->unseen) {
		log_notice("%llu child processes ended before memtided could read"
			   " them (they lived shorter than it took to notice)",
			   (unsigned long long)(unseen - said->unseen));
		said->unseen = unseen;
	}
	if (tracker_marks_dropped(t) > said->marks) {
		int pid;
		long uid;

		tracker_marks_dropper(t, &pid, &uid);
		log_warning("%llu markers dropped: over their sender's budget, or the"
			    " database not keeping up (the last from process %d, uid %ld)",
			    (unsigned long long)(tracker_marks_dropped(t) - said->marks), pid,
			    uid);
		said->marks = tracker_marks_dropped(t);
	}
	if (ws.dropped > said->dropped) {
		log_warning("%llu samples dropped: the database is not keeping up (queue"
			    " full, %llu queued)",
			    (unsigned long long)(ws.dropped - said->dropped),
			    (unsigned long long)ws.queued);
		said->dropped = ws.dropped;
	}
	notify("STATUS=tracking %zu processes; %llu samples written, %llu queued,"
	       " %llu dropped, %llu missed, %llu children unseen%s",
	       tracker_count(t), (unsigned long long)ws.written,
	       (unsigned long long)ws.queued, (unsigned long long)ws.dropped,
	       (unsigned long long)missed, (unsigned long long)unseen,
	       ws.failing ? "; database not writable" : "");
}

static void reload(const struct opts *o, struct config **cfg, struct tracker *t,
		   struct writer *w)
{
	struct config *c = calloc(1, sizeof *c);
	char err[512];

	notify("RELOADING=1");
	if (!c || load_config(o, c, err, sizeof err)) {
		log_error("reload refused, keeping the current configuration: %s",
			  c ? err : "out of memory");
		free(c);
		notify("READY=1");
		return;
	}
	if (strcmp(c->metrics ? c->metrics : "", (*cfg)->metrics ? (*cfg)->metrics : ""))
		log_warning("metrics address changed to %s: takes effect at the next start",
			    c->metrics ? c->metrics : "(none)");
	if (strcmp(c->database, (*cfg)->database) != 0 && !o->db)
		log_warning("database changed to %s: takes effect at the next start",
			    c->database);
	tracker_reload(t, c);
	writer_retention(w, c->retention_ns, c->rollup_retention_ns);
	log_set_level(o->verbose ? CONFIG_LOG_DEBUG : c->log_level);
	config_free(*cfg);
	free(*cfg);
	*cfg = c;
	log_info("configuration reloaded: %zu rule%s", c->nrules, c->nrules == 1 ? "" : "s");
	notify("READY=1");
}

static int64_t min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

/* `scan` is how often to look for new processes where events are not
 * available (issue 3). */
static int64_t scan_period(const struct config *cfg, int efd)
{
	return efd >= 0 && cfg->scan_ns < EVENTS_SCAN_NS ? EVENTS_SCAN_NS : cfg->scan_ns;
}

/* Everything memtided holds while it runs. */
struct daemon {
	struct opts o;
	struct config *cfg;
	struct store *st;
	struct writer *w;
	struct tracker *t;
	struct exporter *ex;
	struct marksock *ms;
	char *command;
	const char *db;
	int64_t run;
	int64_t t0; /* monotonic ns of the run's tick 0 (run.started) */
	int efd;
	struct said said;
};

/* Keeps memtided's memory and file limits fit for a long-running daemon. */
static void set_process_limits(void)
{
	struct rlimit rl;

	/* Large buffers (argv, maps) go back to the system when freed: a
	 * long-running daemon keeps the RSS of what it holds now. */
	mallopt(M_MMAP_THRESHOLD, 64 * 1024);
	mallopt(M_ARENA_MAX, 1);
	umask(027);
	/* Two files are kept open per tracked process (procfs.h), three
	 * while it is being added: the usual soft limit of 1024 would stop
	 * short of 500 processes. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* The signals are blocked everywhere -- the writer thread inherits that --
 * and delivered only inside the main loop's ppoll(). */
static void block_signals(void)
{
	struct sigaction sa;
	sigset_t block;

	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, NULL);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* Opens the database and starts this session's run. */
static int open_history(struct daemon *d)
{
	struct store_run sr = {
		.kind = "daemon",
		.interval = (double)CONFIG_TICK_NS / 1e9,
		.page_size = sysconf(_SC_PAGESIZE),
		.backend = "rss",
	};

	d->db = d->o.db ? d->o.db : d->cfg->database;
	if (store_open(d->db, STORE_WRITE, &d->st)) {
		log_error("cannot open database '%s': %s", d->db, store_errmsg(d->st));
		return -1;
	}
	share_with_group(d->db);
	if (asprintf(&d->command, "memtided -c %s", d->o.config) < 0)
		d->command = NULL;
	sr.command = d->command ? d->command : "memtided";
	/* Tick 0 on both clocks at once: samples are placed by ticks since t0. */
	d->t0 = ticker_now_mono();
	sr.started = (double)ticker_now_real() / 1e9;
	if (store_run_begin(d->st, &sr, &d->run)) {
		log_error("cannot start a run in '%s': %s", d->db, store_errmsg(d->st));
		return -1;
	}
	return 0;
}

/* Starts the writer, the tracker, the metrics server, the marker socket and
 * the proc connector, then the first scan.  Returns 0, or -1 (logged). */
static int start(struct daemon *d)
{
	char err[512];
	int rc;

	if (open_history(d))
		return -1;
	block_signals();
	if ((rc = writer_start(d->st, d->run, MAX_QUEUED, &d->w))) {
		log_error("cannot start the writer thread: %s", strerror(-rc));
		return -1;
	}
	writer_retention(d->w, d->cfg->retention_ns, d->cfg->rollup_retention_ns);
	if ((rc = tracker_new(d->cfg, d->w, d->t0, &d->t))) {
		log_error("out of memory");
		return -1;
	}
	if (d->cfg->metrics) {
		if ((rc = exporter_start(d->cfg->metrics, &d->ex))) {
			log_error("cannot serve metrics on %s: %s", d->cfg->metrics,
				  strerror(-rc));
			return -1;
		}
		tracker_set_metrics(d->t, exporter_metrics(d->ex));
		log_info("serving metrics on %s (port %d)", d->cfg->metrics,
			 exporter_port(d->ex));
	}
	if (d->cfg->markers) {
		if ((rc = markers_open(d->cfg->markers, &d->ms, err, sizeof err))) {
			log_error("cannot open the marker socket %s: %s", d->cfg->markers, err);
			return -1;
		}
		writer_set_marksock(d->w, d->ms);
	}
	d->efd = tracker_events_open(d->t);
	if (d->efd < 0)
		log_notice("proc connector unavailable (%s): finding processes by /proc"
			   " scans every %.1f s", strerror(-d->efd),
			   (double)d->cfg->scan_ns / NS);
	tracker_scan(d->t);
	log_info("run %lld in %s: %zu rule%s, tracking %zu processes", (long long)d->run,
		 d->db, d->cfg->nrules, d->cfg->nrules == 1 ? "" : "s", tracker_count(d->t));
	notify("READY=1\nMAINPID=%d", (int)getpid());
	status(d->t, d->w, &d->said);
	return 0;
}

/* The main loop, until SIGTERM or SIGINT: wakes for whatever is due first
 * (sampling, a scan, a status, the watchdog, the metrics page, VmHWM) or
 * for a proc connector event or a marker. */
static void loop(struct daemon *d)
{
	int64_t wd_ns = notify_watchdog_ns(), now = ticker_now_mono();
	int64_t next_scan = now + scan_period(d->cfg, d->efd);
	int64_t next_status = now + d->cfg->scan_ns;
	int64_t next_wd = wd_ns ? now : INT64_MAX;
	int64_t next_hwm = now + HWM_NS;
	int64_t next_pub = d->ex ? now : INT64_MAX, last_pub = now;
	int64_t marks_rest = 0; /* the marker socket is not read before */
	sigset_t none;

	sigemptyset(&none);
	while (!got_term) {
		int64_t wake;
		struct pollfd pfd[2] = {
			{.fd = d->efd, .events = POLLIN},
			{.fd = -1, .events = POLLIN}};
		struct timespec ts;
		int rc;

		now = ticker_now_mono();
		if (d->ms && now >= marks_rest)
			pfd[1].fd = marksock_fd(d->ms);
		if (got_hup) {
			got_hup = 0;
			reload(&d->o, &d->cfg, d->t, d->w);
			/* New rules may match processes already running. */
			next_scan = now;
		}
		if (now >= next_scan) {
			tracker_scan(d->t);
			next_scan = now + scan_period(d->cfg, d->efd);
		}
		if (now >= next_status) {
			status(d->t, d->w, &d->said);
			next_status = now + d->cfg->scan_ns;
		}
		/* What the proc connector already holds is read before a tick
		 * or a page: a fork is not judged without the exec queued
		 * behind it, nor a process read or counted that has ended. */
		if (d->efd >= 0 && (now >= next_pub || tracker_next_due(d->t) <= now))
			tracker_events(d->t);
		tracker_tick(d->t, now);
		if (now >= next_wd) {
			notify("WATCHDOG=1");
			next_wd = now + wd_ns;
		}
		if (now >= next_pub) {
			exporter_publish(d->ex, d->w, tracker_missed(d->t), tracker_unseen(d->t),
					 tracker_marks_dropped(d->t));
			next_pub = ticker_next_on_grid(d->t0, now, PUBLISH_NS);
			last_pub = now;
		}
		if (now >= next_hwm) {
			tracker_read_hwm(d->t);
			next_hwm = now + HWM_NS;
		}
		if (exporter_stale(d->ex))
			next_pub = min64(next_pub, ticker_next_on_grid(d->t0, last_pub, REPUBLISH_NS));
		wake = min64(min64(tracker_next_due(d->t), min64(next_scan, next_status)),
			     min64(min64(next_wd, next_hwm), next_pub));
		if (marks_rest > now)
			wake = min64(wake, marks_rest);
		now = ticker_now_mono();
		wake = wake > now ? wake - now : 0;
		ts.tv_sec = wake / NS;
		ts.tv_nsec = wake % NS;
		/* poll() skips the entries whose fd is -1. */
		rc = ppoll(pfd, 2, &ts, &none);
		if (rc > 0 && (pfd[0].revents & POLLIN))
			tracker_events(d->t);
		if (rc > 0 && (pfd[1].revents & POLLIN) && tracker_marks(d->t, d->ms) > 0)
			marks_rest = ticker_now_mono() + MARKS_REST_NS;
	}
}

/* A clean stop: ends every process and writes what is queued, within
 * STOP_GRACE_NS. */
static void stop(struct daemon *d)
{
	uint64_t lost;

	status(d->t, d->w, &d->said); /* what the last period missed */
	notify("STOPPING=1");
	log_info("stopping: writing what is queued");
	tracker_stop_stacks(d->t);
	tracker_end_all(d->t, (double)ticker_now_real() / 1e9);
	lost = writer_stop(d->w, ticker_now_mono() + STOP_GRACE_NS,
			   (double)ticker_now_real() / 1e9);
	d->w = NULL;
	if (lost)
		log_error("%llu samples could not be written before exiting",
			  (unsigned long long)lost);
}

/* Releases what start() took, in the order that keeps it safe. */
static void release(struct daemon *d)
{
	if (d->w)
		writer_stop(d->w, ticker_now_mono(), (double)ticker_now_real() / 1e9);
	tracker_free(d->t);
	marksock_close(d->ms); /* after the writer: it stores through ms */
	exporter_stop(d->ex);
	store_close(d->st);
	free(d->command);
	config_free(d->cfg);
	free(d->cfg);
}

int main(int argc, char **argv)
{
	struct daemon d = {.efd = -1};
	char err[512];
	int rc, code = EXIT_FAIL;

	if (!(d.cfg = calloc(1, sizeof *d.cfg)))
		return EXIT_FAIL;
	if ((rc = parse_opts(argc, argv, &d.o))) {
		free(d.cfg);
		return rc > 0 ? EXIT_OK : (fputs("Try 'memtided --help'.\n", stderr), EXIT_USAGE);
	}
	if ((rc = load_config(&d.o, d.cfg, err, sizeof err))) {
		fprintf(stderr, "memtided: %s\n", rc == -ENOMEM ? "out of memory" : err);
		free(d.cfg);
		return EXIT_USAGE;
	}
	if (d.o.check) {
		printf("%s: ok (%zu rule%s)\n", d.o.config, d.cfg->nrules,
		       d.cfg->nrules == 1 ? "" : "s");
		config_free(d.cfg);
		free(d.cfg);
		return EXIT_OK;
	}
	log_set_level(d.o.verbose ? CONFIG_LOG_DEBUG : d.cfg->log_level);
	set_process_limits();
	if (start(&d) == 0) {
		loop(&d);
		stop(&d);
		code = EXIT_OK;
	}
	release(&d);
	return code;
}
