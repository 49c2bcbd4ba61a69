/* record.c - memtide run and memtide attach: the sampling loop.
 *
 * One wake-up per tick for every tracked process, on absolute deadlines;
 * samples are batched and committed at least once a second and at exit, so a
 * kill -9 loses at most the last second.
 */
#include "cli.h"
#include "cli_stacks.h"

#include "memtide/marksock.h"
#include "memtide/procfs.h"
#include "memtide/redact.h"
#include "memtide/sampler.h"
#include "memtide/text.h"
#include "memtide/ticker.h"
#include "memtide/units.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#define NS 1000000000LL
#define FLUSH_NS NS           /* commit at least this often */
#define STATUS_NS (NS / 4)    /* live status line refresh */
#define SCAN_NS (NS / 20)     /* children scans at most this often */
#define TERM_GRACE_NS (5 * NS) /* -t: SIGKILL this long after SIGTERM */
#define BATCH_MAX 1000000     /* samples held while the database fails */
#define MARKS_PER_TICK 256    /* markers stored per tick, at most */
#define BUSY_WAIT_MS 5000     /* lock waits outside the sampling loop */

struct opts {
	int attach;
	int64_t interval_ns, timeout_ns;
	int children, quiet;
	enum sampler_backend backend;
	const char *db, *label;
	int no_redact;
	int stacks; /* --stacks: read Python stacks (cli/stacks.c) */
	struct redact *rd; /* hides secrets of every argv before it is stored */
	struct run_extras x; /* --python, -o, budgets (cli/budget.c) */
};

struct batch {
	struct store_sample *v;
	struct sampler_proc **owner; /* whose sample: its id may come later */
	size_t n, cap;
	size_t dropped;
	int failing; /* the last flush failed: said once, retried each second */
};

static volatile sig_atomic_t got_signal, forward_signal, got_child;

/* A signal the terminal sent (Ctrl-C) reaches the whole foreground process
 * group, the command included; one sent with kill(1) to memtide alone is
 * forwarded, so the command sees each signal once. */
static void on_signal(int sig, siginfo_t *si, void *ctx)
{
	(void)ctx;
	got_signal = sig;
	if (si && si->si_code <= 0)
		forward_signal = sig;
}

static void on_child(int sig)
{
	(void)sig;
	got_child = 1;
}

static void install_signals(void)
{
	struct sigaction sa;
	sigset_t chld;

	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_signal;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = on_child;
	sa.sa_flags = SA_NOCLDSTOP;
	sigaction(SIGCHLD, &sa, NULL);
	/* The loop reaps on SIGCHLD alone: one blocked by whoever started
	 * memtide (the mask is inherited) would hide the command's end. */
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_UNBLOCK, &chld, NULL);
}

static const char run_usage[] =
	"Usage: memtide run [OPTION...] [--] COMMAND [ARG...]\n"
	"Run COMMAND and record its memory, CPU and threads until it exits.\n"
	"A bare script.py runs under python3 with @profile as a builtin, as with\n"
	"mprof.\n"
	"\n"
	"  -T, --interval SEC      sampling interval (default 0.1; units ms s m h)\n"
	"  -C, --include-children  record every descendant as its own series\n"
	"  -M, --multiprocess      the same as -C\n"
	"  -E, --exit-code         accepted for mprof; memtide always exits with the\n"
	"                          command's status (127: could not start, 128+N:\n"
	"                          killed by signal N)\n"
	"  -t, --timeout SEC       stop after SEC: the command gets SIGTERM, then\n"
	"                          SIGKILL 5 s later\n"
	"      --backend B         psutil (RSS, default), psutil_pss or psutil_uss\n"
	"                          (also PSS, USS and swap from smaps_rollup)\n"
	"      --db PATH           database (default $MEMTIDE_DB, else\n"
	"                          $XDG_DATA_HOME/memtide/memtide.db)\n"
	"      --label TEXT        a label kept with the run\n"
	"      --redact REGEX      also hide what REGEX matches in command lines\n"
	"      --no-redact         keep passwords and tokens in command lines\n"
	"  -a, --attach PID|NAME   the same as memtide attach (mprof's spelling)\n"
	"      --python            the command is Python: a script, or a module\n"
	"                          (python3 -m); @profile marks each call, as with\n"
	"                          mprof run --python (a bare script.py always is,\n"
	"                          unless --nopython)\n"
	"  -o, --output FILE       also write the run to FILE (.dat: mprof's format,\n"
	"                          .csv, .json)\n"
	"      --max-peak SIZE     fail (exit 3) when the run peaks above SIZE\n"
	"      --max-growth SIZE   fail (exit 3) when the run ends holding SIZE more\n"
	"                          than at its first sample; SIZE/h: when its trend\n"
	"                          (as plot -s) grows faster.  A failed command's\n"
	"                          own status wins over 3\n"
	"      --stacks            read the Python stacks every 2 ms and charge\n"
	"                          each change of RSS to the code running (see\n"
	"                          'memtide where'); every Python process under -C\n"
	"  -q, --quiet             no live status line and no summary\n"
	"  -h, --help              this help\n"
	"\n"
	"Unlike mprof's -t, which stops sampling and leaves the program running,\n"
	"memtide's -t ends the command.  Python programs find 'import memtide'\n"
	"(this memtide's python/ comes first on PYTHONPATH).\n";

static const char attach_usage[] =
	"Usage: memtide attach PID|NAME [OPTION...]\n"
	"Record a running process until it exits, the timeout, or Ctrl-C.\n"
	"NAME picks the process whose name (/proc/PID/comm) contains it, as mprof\n"
	"does; a NAME that several processes match is refused, with their list.\n"
	"\n"
	"  -T, --interval SEC      sampling interval (default 0.1)\n"
	"  -C, --include-children  record its descendants too (-M: the same)\n"
	"  -t, --timeout SEC       stop recording after SEC\n"
	"      --backend B         psutil, psutil_pss or psutil_uss\n"
	"      --db PATH           database\n"
	"      --label TEXT        a label kept with the run\n"
	"      --redact REGEX      also hide what REGEX matches in command lines\n"
	"      --no-redact         keep passwords and tokens in command lines\n"
	"  -o, --output FILE       also write the run to FILE (.dat: mprof's format)\n"
	"      --max-peak SIZE, --max-growth SIZE[/h]   budgets, as for run\n"
	"      --stacks            read the Python stacks every 2 ms and charge\n"
	"                          each change of RSS to the code running (see\n"
	"                          'memtide where'); every Python process under -C\n"
	"  -q, --quiet             no live status line and no summary\n"
	"  -h, --help              this help\n";

enum { OPT_BACKEND = 256, OPT_DB, OPT_LABEL, OPT_REDACT, OPT_NO_REDACT, OPT_STACKS };

static const struct option long_opts[] = {
	{"interval", required_argument, NULL, 'T'},
	{"include-children", no_argument, NULL, 'C'},
	{"multiprocess", no_argument, NULL, 'M'},
	{"exit-code", no_argument, NULL, 'E'},
	{"timeout", required_argument, NULL, 't'},
	{"quiet", no_argument, NULL, 'q'},
	{"help", no_argument, NULL, 'h'},
	{"backend", required_argument, NULL, OPT_BACKEND},
	{"db", required_argument, NULL, OPT_DB},
	{"label", required_argument, NULL, OPT_LABEL},
	{"redact", required_argument, NULL, OPT_REDACT},
	{"no-redact", no_argument, NULL, OPT_NO_REDACT},
	{"python", no_argument, NULL, RUN_OPT_PYTHON},
	{"nopython", no_argument, NULL, RUN_OPT_NOPYTHON},
	{"output", required_argument, NULL, RUN_OPT_OUTPUT},
	{"max-peak", required_argument, NULL, RUN_OPT_MAX_PEAK},
	{"max-growth", required_argument, NULL, RUN_OPT_MAX_GROWTH},
	{"stacks", no_argument, NULL, OPT_STACKS},
	{NULL, 0, NULL, 0},
};

/* Parses the options; returns the index of the first operand, or -1 after
 * printing a usage error, or -2 after printing help.  o->rd is set in every
 * case (the caller frees it). */
static int parse_opts(int argc, char **argv, struct opts *o)
{
	int c;
	char msg[128];

	o->interval_ns = NS / 10;
	if (redact_new(&o->rd)) {
		cli_error("out of memory");
		return -1;
	}
	optind = 1;
	opterr = 0;
	/* '+': options end at the command, whose own options are its own. */
	while ((c = getopt_long(argc, argv, "+:T:CMEt:qho:", long_opts, NULL)) != -1) {
		switch (c) {
		case RUN_OPT_PYTHON:
		case RUN_OPT_NOPYTHON:
		case RUN_OPT_OUTPUT:
		case RUN_OPT_MAX_PEAK:
		case RUN_OPT_MAX_GROWTH:
			if (run_extras_option(&o->x, c, optarg))
				return -1;
			break;
		case 'T':
			if (units_parse_duration(optarg, &o->interval_ns)) {
				cli_error("bad interval '%s': give seconds > 0, such as "
					  "0.1 or 10ms", optarg);
				return -1;
			}
			break;
		case 't':
			if (units_parse_duration(optarg, &o->timeout_ns)) {
				cli_error("bad timeout '%s': give seconds > 0", optarg);
				return -1;
			}
			break;
		case 'C':
		case 'M':
			o->children = 1;
			break;
		case 'E':
			break;
		case 'q':
			o->quiet = 1;
			break;
		case 'h':
			fputs(o->attach ? attach_usage : run_usage, stdout);
			return -2;
		case OPT_BACKEND:
			if (strcmp(optarg, "psutil") == 0 || strcmp(optarg, "rss") == 0)
				o->backend = SAMPLER_RSS;
			else if (strcmp(optarg, "psutil_pss") == 0 || strcmp(optarg, "pss") == 0)
				o->backend = SAMPLER_PSS;
			else if (strcmp(optarg, "psutil_uss") == 0 || strcmp(optarg, "uss") == 0)
				o->backend = SAMPLER_USS;
			else {
				cli_error("unknown backend '%s' (use psutil, psutil_pss or "
					  "psutil_uss)", optarg);
				return -1;
			}
			break;
		case OPT_DB:
			o->db = optarg;
			break;
		case OPT_LABEL:
			o->label = optarg;
			break;
		case OPT_REDACT:
			if (redact_add(o->rd, optarg, msg, sizeof msg)) {
				cli_error("bad --redact regex '%s': %s", optarg, msg);
				return -1;
			}
			break;
		case OPT_NO_REDACT:
			o->no_redact = 1;
			break;
		case OPT_STACKS:
			o->stacks = 1;
			break;
		case ':':
			cli_error("option '%s' needs a value", argv[optind - 1]);
			return -1;
		default:
			if (optopt)
				cli_error("unknown option '-%c'", optopt);
			else
				cli_error("unknown option '%s'", argv[optind - 1]);
			return -1;
		}
	}
	if (!o->no_redact && redact_add_defaults(o->rd)) {
		cli_error("out of memory");
		return -1;
	}
	return optind;
}

/* argv (len bytes, NUL-separated) with its secrets hidden, malloc'd, or NULL
 * when argv is NULL or memory ran out: never the secrets instead. */
static char *hide(const struct redact *rd, const char *argv, size_t len, size_t *out_len)
{
	char *out = NULL;

	*out_len = 0;
	if (argv && redact_argv(rd, argv, len, &out, out_len) < 0)
		return NULL;
	return out;
}

/* The display form of a NULL-terminated argv, shell-quoted where needed,
 * secrets hidden. */
static char *join_argv(char **argv, const struct redact *rd)
{
	size_t len = 0;
	char *z, *out, *hidden;

	for (int i = 0; argv[i]; i++)
		len += strlen(argv[i]) + 1;
	if (!(z = malloc(len + 1)))
		return NULL;
	len = 0;
	for (int i = 0; argv[i]; i++) {
		size_t n = strlen(argv[i]) + 1;

		memcpy(z + len, argv[i], n);
		len += n;
	}
	hidden = hide(rd, z, len, &len);
	free(z);
	out = hidden ? text_argv(hidden, len, 1) : NULL;
	free(hidden);
	return out;
}

/* The pipe of spawn() closes when exec drops the old image, a moment before
 * the new one's arguments are set up: until then /proc/PID/cmdline is
 * empty, and a command line read then would stay empty for a command that
 * ends before the first flush reads it again.  Waits until it is there,
 * the process has exited, or 50 ms. */
static void wait_for_args(pid_t pid)
{
	const struct timespec step = {0, 200000};

	for (int i = 0; i < 250; i++) {
		siginfo_t si = {0};
		size_t len = 0;
		char *argv = procfs_read_all("/proc", (int)pid, "cmdline", 1, &len);

		free(argv);
		if (len > 0 ||
		    (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
		     si.si_pid == pid))
			return;
		nanosleep(&step, NULL);
	}
}

/* Starts argv; returns its pid after exec succeeded, or -errno of the
 * failed exec (the child is reaped). */
static pid_t spawn(char **argv)
{
	int pfd[2], err = 0;
	pid_t pid;
	ssize_t n;

	if (pipe2(pfd, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		err = -errno;
		close(pfd[0]);
		close(pfd[1]);
		return err;
	}
	if (pid == 0) {
		struct sigaction dfl;
		sigset_t none;

		memset(&dfl, 0, sizeof dfl);
		dfl.sa_handler = SIG_DFL;
		sigaction(SIGINT, &dfl, NULL);
		sigaction(SIGTERM, &dfl, NULL);
		sigaction(SIGHUP, &dfl, NULL);
		sigaction(SIGCHLD, &dfl, NULL);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		close(pfd[0]);
		execvp(argv[0], argv);
		err = errno;
		if (write(pfd[1], &err, sizeof err) < 0)
			_exit(127);
		_exit(127);
	}
	close(pfd[1]);
	/* The pipe closes on a successful exec: the process is the command
	 * from here on, and its exe and argv are worth reading. */
	do
		n = read(pfd[0], &err, sizeof err);
	while (n < 0 && errno == EINTR);
	close(pfd[0]);
	if (n == (ssize_t)sizeof err) {
		waitpid(pid, NULL, 0);
		return -err;
	}
	wait_for_args(pid);
	return pid;
}

struct recording {
	struct opts *o;
	struct store *st;
	struct sampler *sm;
	struct cli_stacks *stacks; /* NULL without --stacks */
	struct sampler_reading *rd;
	size_t rd_cap;
	struct batch b;
	int64_t run;
	double started;
	struct ticker tk;
	int64_t skipped_saved; /* run.skipped as last written */
	int64_t peak_pages, last_pages;
	size_t samples;
	int status_shown;
	long page_size;
	struct run_exits *ex;  /* cgroups, limits, how each ended (exits.c) */
	struct sampler_proc *root;
	int root_status;       /* wait4()'s, -1 until the command is reaped */
	/* What record() sets up and tears down: */
	int attach_pid;              /* memtide attach's target, 0 for run */
	pid_t child;                 /* memtide run's command, 0 for attach */
	struct sampler_proc *target; /* the command or attached process */
	int status;                  /* the command's wait status, -1 */
	struct rusage ru;            /* the command's, from wait4() */
	struct own_peak own;
	char *command;
	int stopping;           /* record_end: those still alive merely stop being recorded */
	struct marksock *marks; /* markers from the command (cli/mark.c) */
	char mark_dir[160];
	int interactive;
};

/* Gives the store every process the sampler has met since the last call,
 * and the end of those that ended. */
static int sync_procs(struct recording *r, int64_t tick, double now_real)
{
	for (size_t i = 0; i < sampler_count(r->sm); i++) {
		struct sampler_proc *p = sampler_get(r->sm, i);
		int err;

		if (p->id == 0) {
			size_t argv_len;
			char *argv = hide(r->o->rd, p->argv, p->argv_len, &argv_len);
			struct store_proc sp = {
				.run = r->run,
				.pid = p->pid,
				.ppid = p->ppid,
				.parent = p->parent ? p->parent->id : 0,
				.start_ticks = p->start_ticks,
				.started = p->started,
				.first_tick = tick,
				.exe = p->exe,
				.argv = argv,
				.argv_len = argv_len,
				.uid = procfs_uid(NULL, p->pid),
			};

			err = store_proc_add(r->st, &sp, &p->id);
			free(argv);
			if (err || (err = run_exits_seen(r->ex, r->st, p->id, p->pid, now_real)))
				return err;
		}
		if (!p->alive && !p->end_reported) {
			int oom;

			/* The command's own ending waits for wait4(). */
			if ((p != r->root || r->root_status >= 0) &&
			    (err = run_exits_ended(r->ex, r->st, r->run, p->id,
						   p == r->root ? r->root_status : -1,
						   !r->stopping, now_real, &oom)))
				return err;
			if ((err = store_proc_end(r->st, p->id, now_real,
						  p->last_tick < 0 ? tick : p->last_tick)))
				return err;
			p->end_reported = 1;
		}
	}
	return 0;
}

static int batch_push(struct batch *b, const struct store_sample *s,
		      struct sampler_proc *owner)
{
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 1024;
		struct store_sample *v;
		struct sampler_proc **o;

		if (cap > BATCH_MAX) {
			b->dropped++;
			return -ENOBUFS;
		}
		if (!(v = realloc(b->v, cap * sizeof *v))) {
			b->dropped++;
			return -ENOMEM;
		}
		b->v = v;
		if (!(o = realloc(b->owner, cap * sizeof *o))) {
			b->dropped++;
			return -ENOMEM;
		}
		b->owner = o;
		b->cap = cap;
	}
	b->owner[b->n] = owner;
	b->v[b->n++] = *s;
	return 0;
}

/* Files samples taken before their process's row could be written (the
 * database was locked or full) under the id it has now.  Returns how many
 * still have none. */
static size_t batch_resolve(struct batch *b)
{
	size_t missing = 0;

	for (size_t i = 0; i < b->n; i++)
		if (!b->v[i].proc && !(b->v[i].proc = b->owner[i]->id))
			missing++;
	return missing;
}

/* Writes the batch and the count of ticks skipped so far in one
 * transaction, so that for each process the samples stored and the ticks
 * skipped account for every tick up to its last. */
static int save(struct recording *r)
{
	int err;

	if ((err = store_begin(r->st)))
		return err;
	if ((err = store_append(r->st, r->run, r->b.v, r->b.n)) ||
	    (r->stacks && (err = cli_stacks_drain(r->stacks, r->st))) ||
	    (r->tk.skipped != r->skipped_saved &&
	     (err = store_run_skipped(r->st, r->run, r->tk.skipped))) ||
	    (err = store_commit(r->st))) {
		store_rollback(r->st);
		return err;
	}
	r->skipped_saved = r->tk.skipped;
	return 0;
}

/* Something is waiting to be written. */
static int pending(const struct recording *r)
{
	return r->b.n || r->tk.skipped != r->skipped_saved;
}

static int flush(struct recording *r)
{
	int err;

	sampler_read_hwm(r->sm);
	sampler_refresh_meta(r->sm);
	for (size_t i = 0; i < sampler_count(r->sm); i++) {
		struct sampler_proc *p = sampler_get(r->sm, i);

		if (p->id && p->alive && p->hwm_kib > 0)
			store_proc_hwm(r->st, p->id, p->hwm_kib * 1024);
		if (p->id && p->meta_changed) {
			size_t argv_len;
			char *argv = hide(r->o->rd, p->argv, p->argv_len, &argv_len);

			if (store_proc_meta(r->st, p->id, p->exe, argv, argv_len) == 0)
				p->meta_changed = 0;
			free(argv);
		}
	}
	/* Rows are written before samples (sync_procs, each tick): a process
	 * still without one means the database is failing still. */
	err = batch_resolve(&r->b) ? -EAGAIN : pending(r) ? save(r) : 0;
	if (err) {
		if (!r->b.failing)
			cli_error("cannot write samples (keeping %zu in memory, retrying "
				  "every second): %s", r->b.n, store_errmsg(r->st));
		r->b.failing = 1;
		return err;
	}
	if (r->b.failing && !r->o->quiet)
		cli_error("writing samples again");
	r->b.failing = 0;
	r->b.n = 0;
	return 0;
}

static void show_status(struct recording *r, int64_t now_ns, int final)
{
	char cur[32], peak[32], el[32];
	size_t live = sampler_alive(r->sm);

	if (final) {
		if (r->status_shown)
			fputs("\r\033[K", stderr);
		return;
	}
	units_format_duration((double)(now_ns - r->tk.t0_ns) / 1e9, el, sizeof el);
	units_format_bytes(r->last_pages * r->page_size, cur, sizeof cur);
	units_format_bytes(r->peak_pages * r->page_size, peak, sizeof peak);
	fprintf(stderr, "\r\033[Kmemtide: %s  rss %s  peak %s", el, cur, peak);
	if (r->o->children)
		fprintf(stderr, "  (%zu process%s)", live, live == 1 ? "" : "es");
	fflush(stderr);
	r->status_shown = 1;
}

/* Takes one tick: reads every live process and queues the samples. */
static void take_tick(struct recording *r, int64_t tick, int64_t now_ns)
{
	size_t n;
	int64_t total = 0;

	if (sampler_count(r->sm) > r->rd_cap) {
		size_t cap = sampler_count(r->sm) * 2;
		struct sampler_reading *v = realloc(r->rd, cap * sizeof *v);

		if (!v)
			return;
		r->rd = v;
		r->rd_cap = cap;
	}
	n = sampler_tick(r->sm, tick, now_ns, r->rd);
	for (size_t i = 0; i < n; i++) {
		struct sampler_reading *x = &r->rd[i];
		struct store_sample s = {
			.proc = x->proc->id,
			.tick = tick,
			.rss_pages = x->rss_pages,
			.cpu_pm = x->cpu_pm,
			.threads = x->threads,
			.pss_kib = x->pss_kib,
			.uss_kib = x->uss_kib,
			.swap_kib = x->swap_kib,
		};

		total += x->rss_pages;
		batch_push(&r->b, &s, x->proc);
	}
	if (n) {
		r->samples += n;
		r->last_pages = total;
		if (total > r->peak_pages)
			r->peak_pages = total;
	}
}

/* Opens the store and the sampler, starts the command (run) and finds the
 * process to record.  Returns -1 to go on, else the exit code: 127 when
 * the command could not start, EXIT_FAIL otherwise. */
static int record_setup(struct recording *r, char **cmd)
{
	struct opts *o = r->o;
	int err;

	if (!(r->st = cli_open_store(o->db, STORE_WRITE)))
		return EXIT_FAIL;
	if ((err = sampler_new("/proc", o->children, o->backend, &r->sm))) {
		cli_error("cannot start sampler: %s", strerror(-err));
		return EXIT_FAIL;
	}
	install_signals();
	r->ex = run_exits_new();
	if (!r->attach_pid) {
		if (o->children)
			/* Orphaned grandchildren come to us, not to init, and stay
			 * recognisable as the command's descendants. */
			prctl(PR_SET_CHILD_SUBREAPER, 1);
		r->marks = mark_listen(r->mark_dir, sizeof r->mark_dir);
		r->child = spawn(cmd);
		if (r->child < 0) {
			cli_error("cannot run '%s': %s", cmd[0], strerror((int)-r->child));
			r->child = 0;
			return 127;
		}
		sampler_set_adopter(r->sm, (int)getpid());
		r->command = join_argv(cmd, o->rd);
	}
	err = sampler_add_root(r->sm, r->attach_pid ? r->attach_pid : r->child, &r->target);
	r->root = r->child ? r->target : NULL;
	if (err && r->child) {
		/* The command already exited (or cannot be read): the run is
		 * still recorded, with its exit status and kernel peak. */
		r->target = NULL;
	} else if (err) {
		if (err == -ESRCH)
			cli_error("no process with pid %d", r->attach_pid);
		else
			cli_error("cannot read process %d: %s", r->attach_pid, strerror(-err));
		return EXIT_FAIL;
	}
	if (r->attach_pid && r->target->argv) {
		/* The run's title is the process's own command line. */
		size_t len;
		char *argv = hide(o->rd, r->target->argv, r->target->argv_len, &len);

		r->command = argv ? text_argv(argv, len, 1) : NULL;
		free(argv);
	}
	return -1;
}

/* Starts the clock, the run in the database and the stack reader.
 * Returns 0, or -1 when the run cannot be stored (said). */
static int record_begin(struct recording *r)
{
	struct opts *o = r->o;
	struct store_run sr = {
		.kind = r->attach_pid ? "attach" : "run",
		.command = r->command ? r->command : "?",
		.label = o->label,
		.interval = (double)o->interval_ns / 1e9,
		.page_size = r->page_size,
		.backend = o->backend == SAMPLER_PSS   ? "pss"
			   : o->backend == SAMPLER_USS ? "uss"
						       : "rss",
	};
	int err;

	ticker_init(&r->tk, ticker_now_mono(), o->interval_ns);
	r->started = sr.started = ticker_now_real_s();
	if ((err = store_run_begin(r->st, &sr, &r->run))) {
		cli_error("cannot start a run in the database: %s", store_errmsg(r->st));
		return -1;
	}
	if (o->stacks &&
	    (err = cli_stacks_start(r->tk.t0_ns, o->interval_ns, r->attach_pid != 0,
				    o->quiet, &r->stacks)))
		cli_error("cannot start reading stacks: %s; recording without them",
			  strerror(-err));
	r->interactive = !o->quiet && isatty(2);
	/* Sampling never waits for another writer's lock: a locked database
	 * fails the write at once, the batch is kept and retried each second. */
	sqlite3_busy_timeout(store_db(r->st), 1);
	return 0;
}

/* Reaps the command and any orphan adopted under -C.  Returns 1 once the
 * command has been reaped. */
static int reap(struct recording *r)
{
	pid_t w;
	int st;
	struct rusage wru;

	peaks_check_zombie(&r->own, r->child);
	while ((w = wait4(-1, &st, WNOHANG, &wru)) > 0)
		if (w == r->child) {
			r->status = st;
			r->ru = wru;
		}
	return r->status != -1;
}

/* Asks the command to stop at -t: SIGTERM, then SIGKILL after
 * TERM_GRACE_NS.  term_at/kill_at: when each was sent, 0 before. */
static void stop_at_timeout(struct recording *r, int64_t now, int64_t *term_at,
			    int64_t *kill_at)
{
	if (!*term_at) {
		*term_at = now;
		kill(r->child, SIGTERM);
	} else if (!*kill_at && now - *term_at >= TERM_GRACE_NS) {
		*kill_at = now;
		kill(r->child, SIGKILL);
	}
}

/* Samples on the ticker's grid until the command ends (run), the process
 * ends, a signal or -t (attach). */
static void record_loop(struct recording *r)
{
	struct opts *o = r->o;
	int64_t next_flush = r->tk.t0_ns + FLUSH_NS, next_status = r->tk.t0_ns;
	int64_t next_scan = r->tk.t0_ns, term_at = 0, kill_at = 0;

	for (;;) {
		int64_t now, k;
		int slept = ticker_sleep(&r->tk);

		if (got_signal) {
			int fwd = forward_signal;

			got_signal = forward_signal = 0;
			if (r->attach_pid)
				break;
			if (fwd)
				kill(r->child, fwd);
		}
		/* Only SIGCHLD says there is something to reap: attach has no
		 * child, and a command's zombie waits for its reaping, so a
		 * wait4() (and the zombie's waitid) every tick found nothing.
		 * The flag outlives a signal that came between this test and
		 * the sleep: that exit is seen at the next tick. */
		if (got_child) {
			got_child = 0;
			if (reap(r))
				break;
		}
		if (slept)
			continue;
		now = ticker_now_mono();
		k = ticker_due(&r->tk, now);
		/* -t T takes the ticks due in [0, T): 1000 samples for
		 * -T 0.01 -t 10, as mprof counts them. */
		if (o->timeout_ns && ticker_deadline(&r->tk, k) - r->tk.t0_ns >= o->timeout_ns) {
			if (r->attach_pid)
				break;
			stop_at_timeout(r, now, &term_at, &kill_at);
		}
		if (o->children && now >= next_scan) {
			sampler_scan(r->sm);
			next_scan = now + SCAN_NS;
		}
		/* New processes get their ids before their first sample;
		 * those found gone now are recorded as ended next tick. */
		if (sync_procs(r, k, ticker_now_real_s()) && !r->b.failing) {
			cli_error("cannot record processes: %s", store_errmsg(r->st));
			r->b.failing = 1;
		}
		if (r->stacks)
			cli_stacks_sync(r->stacks, r->sm, r->target);
		take_tick(r, k, now);
		if (r->marks)
			mark_drain(r->marks, r->st, r->run, MARKS_PER_TICK);
		if (now >= next_flush) {
			run_exits_refresh(r->ex, r->st, ticker_now_real_s());
			flush(r);
			next_flush = now + FLUSH_NS;
		}
		if (r->interactive && now >= next_status) {
			show_status(r, now, 0);
			next_status = now + STATUS_NS;
		}
		if (r->stacks)
			cli_stacks_find_root(r->stacks, r->target,
					     ticker_deadline(&r->tk, k + 1));
		ticker_advance(&r->tk, k);
		if (r->attach_pid && !r->target->alive)
			break;
	}
}

/* Ends the recording: every process, the markers, the kernel peaks, the
 * last batch, the stacks and the run, then the summary.  Returns EXIT_OK,
 * or EXIT_FAIL when samples could not be saved. */
static int record_end(struct recording *r)
{
	struct opts *o = r->o;
	int64_t waited_peak;
	int code = EXIT_OK, status = r->status;

	if (r->attach_pid)
		sampler_read_hwm(r->sm);
	sqlite3_busy_timeout(store_db(r->st), BUSY_WAIT_MS);
	/* The attached process seen to end at the last tick: its exit event
	 * is waited for before everyone else merely stops being recorded.
	 * (run's command ends through wait4, below.) */
	if (r->attach_pid)
		sync_procs(r, r->tk.tick, ticker_now_real_s());
	r->stopping = 1;
	for (size_t i = 0; i < sampler_count(r->sm); i++) {
		struct sampler_proc *p = sampler_get(r->sm, i);

		p->alive = 0; /* the recording ends for everyone still tracked */
	}
	r->root_status = status;
	if (r->target && r->child && r->target->end_reported && status != -1) {
		int oom;

		run_exits_ended(r->ex, r->st, r->run, r->target->id, status, 0,
				ticker_now_real_s(), &oom);
	}
	sync_procs(r, r->tk.tick, ticker_now_real_s());
	if (r->marks)
		mark_drain(r->marks, r->st, r->run, 1 << 20);
	waited_peak = peaks_store(r->st, r->sm, r->target, &r->own,
				  r->child && status != -1 ? (int64_t)r->ru.ru_maxrss : -1);
	if (r->interactive)
		show_status(r, 0, 1);
	while (pending(r) && flush(r) == -EBUSY)
		;
	if (r->stacks)
		cli_stacks_finish(r->stacks, r->st);
	if (r->b.n) {
		cli_error("%zu samples could not be saved: %s", r->b.n, store_errmsg(r->st));
		code = EXIT_FAIL;
	}
	store_run_end(r->st, r->run, ticker_now_real_s(),
		      status == -1	    ? -1
		      : WIFEXITED(status) ? WEXITSTATUS(status)
					  : 128 + WTERMSIG(status),
		      -1);
	if (!o->quiet) {
		summary_print(r->st, r->run, stderr, 1);
		if (!o->children)
			peaks_suggest_children(waited_peak, r->target);
		if (r->tk.skipped)
			fprintf(stderr, "memtide: %lld ticks skipped: the machine was too "
				"busy to sample every %.3f s\n",
				(long long)r->tk.skipped, (double)o->interval_ns / 1e9);
	}
	return code;
}

/* The exit code of memtide run or attach: the command's own status once
 * it is reaped (waiting for it when setting up the run failed), unless
 * recording failed; then the budgets (run_extras_finish) may change it. */
static int record_exit_code(struct recording *r, int code)
{
	if (r->child && r->status == -1) {
		/* Setting up the run failed: the command still runs; wait for it
		 * as its caller would. */
		while (waitpid(r->child, &r->status, 0) < 0 && errno == EINTR)
			;
	}
	if (r->child && r->status != -1 && code == EXIT_OK)
		code = WIFEXITED(r->status) ? WEXITSTATUS(r->status)
					    : 128 + WTERMSIG(r->status);
	if (r->run)
		code = run_extras_finish(&r->o->x, r->st, r->run, code);
	return code;
}

static void record_free(struct recording *r)
{
	if (r->marks)
		mark_unlisten(r->marks, r->mark_dir);
	free(r->command);
	free(r->rd);
	free(r->b.v);
	free(r->b.owner);
	cli_stacks_free(r->stacks);
	sampler_free(r->sm);
	run_exits_free(r->ex);
	store_close(r->st);
}

/* memtide run (cmd) or attach (attach_pid): setup, the sampling loop and
 * the end of the run.  Returns the exit code. */
static int record(struct opts *o, char **cmd, int attach_pid)
{
	struct recording r = {.o = o, .page_size = sysconf(_SC_PAGESIZE),
			      .root_status = -1, .status = -1, .attach_pid = attach_pid};
	int code = record_setup(&r, cmd);

	if (code < 0) {
		code = EXIT_OK;
		if (record_begin(&r) == 0) {
			record_loop(&r);
			code = record_end(&r);
		} else {
			code = EXIT_FAIL;
		}
		code = record_exit_code(&r, code);
	}
	record_free(&r);
	return code;
}

int cmd_run(int argc, char **argv)
{
	struct opts o = {.x = RUN_EXTRAS_INIT};
	int i, a = run_attach_flag(argc, argv);
	char **cmd;
	int code, builtin;

	if (a) {
		/* mprof run --attach: the flag goes, attach takes the rest. */
		memmove(argv + a, argv + a + 1, (size_t)(argc - a) * sizeof *argv);
		return cmd_attach(argc - 1, argv);
	}
	i = parse_opts(argc, argv, &o);
	if (i < 0 || i >= argc)
		redact_free(o.rd);
	if (i == -2)
		return EXIT_OK;
	if (i < 0)
		return cli_usage_error("run");
	if (i >= argc) {
		cli_error("run needs a command, such as 'memtide run script.py'");
		return cli_usage_error("run");
	}
	cmd = run_extras_argv(&o.x, argv + i, argc - i, &builtin);
	if (!cmd) {
		redact_free(o.rd);
		return EXIT_FAIL;
	}
	run_extras_env(&o.x, builtin);
	code = record(&o, cmd, 0);
	free(cmd);
	redact_free(o.rd);
	return code;
}

int cmd_attach(int argc, char **argv)
{
	struct opts o = {.attach = 1, .x = RUN_EXTRAS_INIT};
	int i, pid = 0, code;
	char *end;
	long v;

	/* "attach PID -T 0.01" and "attach -T 0.01 PID" both work. */
	if (argc > 1 && argv[1][0] != '-') {
		errno = 0;
		v = strtol(argv[1], &end, 10);
		if (errno || *end || v <= 0 || v > 4194304)
			v = attach_by_name(argv[1]); /* cli/attachname.c */
		if (v <= 0)
			return cli_usage_error("attach");
		pid = (int)v;
		argv[1] = argv[0];
		argc--;
		argv++;
	}
	i = parse_opts(argc, argv, &o);
	if (i == -2) {
		code = EXIT_OK;
		goto out;
	}
	if (i < 0)
		goto usage;
	if (!pid && i < argc) {
		errno = 0;
		v = strtol(argv[i], &end, 10);
		if (errno || *end || v <= 0 || v > 4194304)
			v = attach_by_name(argv[i]);
		if (v <= 0)
			goto usage;
		pid = (int)v;
		i++;
	}
	if (!pid) {
		cli_error("attach needs a pid");
		goto usage;
	}
	if (i < argc) {
		cli_error("unexpected argument '%s'", argv[i]);
		goto usage;
	}
	code = record(&o, NULL, pid);
	goto out;
usage:
	code = cli_usage_error("attach");
out:
	redact_free(o.rd);
	return code;
}
