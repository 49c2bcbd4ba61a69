/* sampler_floor.c - CPU cost of one process-sample: the floor and memtide.
 *
 * Driven by bench/run.py; prints "key value" lines, one per measurement.
 *
 *   sampler_floor batch [-k ROUNDS] [-r REPS] [-d DB] PID...
 *	Reads every PID ROUNDS times per repetition with each method, the
 *	methods interleaved repetition by repetition so that a noisy neighbour
 *	hits them alike.  CPU time is getrusage(RUSAGE_SELF) user + system.
 *	  floor    pread of a kept-open /proc/PID/stat, parsed (rss, cpu
 *		   ticks, threads): the least any /proc sampler can do
 *	  procfs   procfs_sample(): stat + statm + the process CPU clock
 *	  memtide  sampler_tick() over all PIDs: memtide's per-tick path
 *	  store    sampler_tick() + store_append() into DB (WAL), appended
 *		   once per repetition as the recorder appends once a second
 *	Prints <method>_us_per_sample (median over repetitions) and
 *	<method>_us_reps (every repetition, comma-separated).
 *
 *   sampler_floor tick [-i INTERVAL_MS] [-s SECONDS] PID
 *	memtide's recorder loop without the store: absolute deadlines
 *	(ticker.h) and sampler_tick() on one PID.  Prints how late each
 *	wake-up was against its deadline, the real intervals between
 *	wake-ups, ticks skipped, and CPU per sample including the wake-up.
 *
 *   sampler_floor rusage OUT CMD [ARG...]
 *	Runs CMD as a child, forwards SIGINT/SIGTERM/SIGHUP to it, and writes
 *	"pid N" to OUT when it starts, then its wait4() rusage and wall time.
 *	Exits with CMD's status.  Why not wait4() from Python: Linux keeps
 *	the high-water RSS of the memory a process had before execve() in its
 *	ru_maxrss, and a child forked (or vforked) by Python starts with the
 *	Python parent's pages, so every child of run.py would report at least
 *	the driver's ~10 MiB.  Forked from this small program, a child's
 *	ru_maxrss floor is this program's own (printed as launcher_hwm_kib).
 */
#include "memtide/procfs.h"
#include "memtide/sampler.h"
#include "memtide/store.h"
#include "memtide/ticker.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

enum { M_FLOOR, M_PROCFS, M_MEMTIDE, M_STORE, M_COUNT };
static const char *const method_name[M_COUNT] = {"floor", "procfs", "memtide",
						 "memtide_store"};

/* Simulated tick spacing handed to sampler_tick(): back-to-back rounds are
 * closer than a real 10 ms tick, and under 1 ms the sampler takes another
 * code path (lifetime CPU average) that a recorder never takes. */
#define TICK_NS 10000000LL

static int64_t cpu_ns(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ((int64_t)ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000LL +
	       ((int64_t)ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000LL;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static double median(double *v, size_t n)
{
	qsort(v, n, sizeof *v, cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Percentile p (0..100) of sorted v, nearest rank. */
static int64_t pct(const int64_t *v, size_t n, double p)
{
	size_t i = (size_t)(p / 100.0 * (double)n + 0.5);

	if (i > 0)
		i--;
	return n ? v[i < n ? i : n - 1] : 0;
}

static void usage(void)
{
	fputs("usage: sampler_floor batch [-k ROUNDS] [-r REPS] [-d DB] PID...\n"
	      "       sampler_floor tick [-i INTERVAL_MS] [-s SECONDS] PID\n"
	      "       sampler_floor rusage OUT CMD [ARG...]\n",
	      stderr);
	exit(2);
}

struct batch {
	int npids;
	int *pids;
	int *stat_fd;             /* floor: kept-open /proc/PID/stat */
	struct procfs_handle *h;  /* procfs */
	struct sampler *sm;       /* memtide */
	struct sampler *sm_store; /* memtide_store */
	struct sampler_reading *rd;
	struct store *st;
	int64_t run;
	struct store_sample *buf;
	int64_t tick, tick_store; /* next tick of each sampler */
	size_t sink;              /* keeps the compiler from dropping reads */
};

/* Returns the number of process-samples taken. */
static size_t round_floor(struct batch *b)
{
	char buf[1024];
	struct procfs_stat st;
	size_t n = 0;

	for (int i = 0; i < b->npids; i++) {
		ssize_t len = pread(b->stat_fd[i], buf, sizeof buf - 1, 0);

		if (len <= 0)
			continue;
		buf[len] = '\0';
		if (procfs_parse_stat(buf, (size_t)len, &st, NULL, 0) == 0) {
			b->sink += (size_t)st.rss_pages + st.utime + st.stime +
				   (size_t)st.threads;
			n++;
		}
	}
	return n;
}

static size_t round_procfs(struct batch *b)
{
	struct procfs_reading r;
	size_t n = 0;

	for (int i = 0; i < b->npids; i++)
		if (procfs_sample(&b->h[i], &r) == 0) {
			b->sink += (size_t)r.rss_pages + r.cpu_ns + (size_t)r.threads;
			n++;
		}
	return n;
}

static size_t round_memtide(struct batch *b)
{
	int64_t k = b->tick++;
	size_t n = sampler_tick(b->sm, k, k * TICK_NS, b->rd);

	for (size_t i = 0; i < n; i++)
		b->sink += (size_t)b->rd[i].rss_pages + (size_t)b->rd[i].cpu_pm;
	return n;
}

/* One repetition with the store: rounds of sampler_tick() queued as the
 * recorder queues them, then one store_append(). */
static size_t rep_store(struct batch *b, int rounds)
{
	size_t total = 0;

	for (int r = 0; r < rounds; r++) {
		int64_t k = b->tick_store++;
		size_t n = sampler_tick(b->sm_store, k, k * TICK_NS, b->rd);

		for (size_t i = 0; i < n; i++) {
			struct sampler_reading *x = &b->rd[i];

			b->buf[total++] = (struct store_sample){
				.proc = x->proc->id,
				.tick = k,
				.rss_pages = x->rss_pages,
				.cpu_pm = x->cpu_pm,
				.threads = x->threads,
				.pss_kib = -1,
				.uss_kib = -1,
				.swap_kib = -1,
			};
		}
	}
	if (store_append(b->st, b->run, b->buf, total)) {
		fprintf(stderr, "sampler_floor: store_append: %s\n", store_errmsg(b->st));
		exit(1);
	}
	return total;
}

static int open_store(struct batch *b, const char *path)
{
	struct store_run sr = {
		.kind = "attach",
		.command = "bench/sampler_floor",
		.label = "bench",
		.started = (double)ticker_now_real() / 1e9,
		.interval = (double)TICK_NS / 1e9,
		.page_size = sysconf(_SC_PAGESIZE),
		.backend = "rss",
	};
	int err = store_open(path, STORE_WRITE, &b->st);

	if (err) {
		fprintf(stderr, "sampler_floor: cannot open '%s': %s\n", path,
			b->st ? store_errmsg(b->st) : strerror(-err));
		return -1;
	}
	if (store_run_begin(b->st, &sr, &b->run)) {
		fprintf(stderr, "sampler_floor: %s\n", store_errmsg(b->st));
		return -1;
	}
	for (size_t i = 0; i < sampler_count(b->sm_store); i++) {
		struct sampler_proc *p = sampler_get(b->sm_store, i);
		struct store_proc sp = {
			.run = b->run,
			.pid = p->pid,
			.ppid = p->ppid,
			.start_ticks = p->start_ticks,
			.started = p->started,
			.first_tick = 0,
			.exe = p->exe,
			.argv = p->argv,
			.argv_len = p->argv_len,
		};

		if (store_proc_add(b->st, &sp, &p->id)) {
			fprintf(stderr, "sampler_floor: %s\n", store_errmsg(b->st));
			return -1;
		}
	}
	return 0;
}

static int cmd_batch(int argc, char **argv)
{
	struct batch b = {0};
	const char *db = NULL;
	int rounds = 200, reps = 5, c;
	double *us[M_COUNT];
	size_t samples[M_COUNT] = {0};
	struct sampler_proc *p;

	while ((c = getopt(argc, argv, "k:r:d:")) != -1) {
		switch (c) {
		case 'k': rounds = atoi(optarg); break;
		case 'r': reps = atoi(optarg); break;
		case 'd': db = optarg; break;
		default: usage();
		}
	}
	if (optind >= argc || rounds < 1 || reps < 1)
		usage();
	b.npids = argc - optind;
	b.pids = calloc((size_t)b.npids, sizeof *b.pids);
	b.stat_fd = calloc((size_t)b.npids, sizeof *b.stat_fd);
	b.h = calloc((size_t)b.npids, sizeof *b.h);
	b.rd = calloc((size_t)b.npids, sizeof *b.rd);
	b.buf = calloc((size_t)b.npids * (size_t)rounds, sizeof *b.buf);
	for (int m = 0; m < M_COUNT; m++)
		if (!(us[m] = calloc((size_t)reps, sizeof **us)))
			b.buf = NULL;
	if (!b.pids || !b.stat_fd || !b.h || !b.rd || !b.buf ||
	    sampler_new("/proc", 0, SAMPLER_RSS, &b.sm) ||
	    sampler_new("/proc", 0, SAMPLER_RSS, &b.sm_store)) {
		fputs("sampler_floor: out of memory\n", stderr);
		return 1;
	}
	for (int i = 0; i < b.npids; i++) {
		char path[64];
		int pid = atoi(argv[optind + i]), err;

		b.pids[i] = pid;
		snprintf(path, sizeof path, "/proc/%d/stat", pid);
		if ((b.stat_fd[i] = open(path, O_RDONLY | O_CLOEXEC)) < 0 ||
		    (err = procfs_open(&b.h[i], "/proc", pid)) ||
		    (err = sampler_add_root(b.sm, pid, &p)) ||
		    (err = sampler_add_root(b.sm_store, pid, &p))) {
			fprintf(stderr, "sampler_floor: cannot track pid %d\n", pid);
			return 1;
		}
	}
	if (db && open_store(&b, db))
		return 1;
	/* One warm-up round each: page cache, dentries, lazy allocations. */
	round_floor(&b);
	round_procfs(&b);
	round_memtide(&b);

	for (int r = 0; r < reps; r++) {
		for (int m = 0; m < M_COUNT; m++) {
			int64_t t0;
			size_t n = 0;

			if (m == M_STORE && !db)
				continue;
			t0 = cpu_ns();
			if (m == M_STORE) {
				n = rep_store(&b, rounds);
			} else {
				for (int k = 0; k < rounds; k++)
					n += m == M_FLOOR    ? round_floor(&b)
					     : m == M_PROCFS ? round_procfs(&b)
							     : round_memtide(&b);
			}
			us[m][r] = n ? (double)(cpu_ns() - t0) / 1e3 / (double)n : 0;
			samples[m] += n;
		}
	}
	printf("pids %d\nrounds %d\nreps %d\n", b.npids, rounds, reps);
	for (int m = 0; m < M_COUNT; m++) {
		if (m == M_STORE && !db)
			continue;
		printf("%s_samples %zu\n%s_us_reps ", method_name[m], samples[m],
		       method_name[m]);
		for (int r = 0; r < reps; r++)
			printf("%s%.3f", r ? "," : "", us[m][r]);
		printf("\n%s_us_per_sample %.3f\n", method_name[m], median(us[m], (size_t)reps));
	}
	if (samples[M_FLOOR] != (size_t)b.npids * (size_t)rounds * (size_t)reps)
		fprintf(stderr, "sampler_floor: %zu samples, expected %zu (a process ended?)\n",
			samples[M_FLOOR], (size_t)b.npids * (size_t)rounds * (size_t)reps);
	fprintf(stderr, "sampler_floor: sink %zu\n", b.sink % 10);
	for (int i = 0; i < b.npids; i++) {
		close(b.stat_fd[i]);
		procfs_close(&b.h[i]);
	}
	sampler_free(b.sm);
	sampler_free(b.sm_store);
	if (b.st) {
		store_run_end(b.st, b.run, (double)ticker_now_real() / 1e9, -1, -1);
		store_close(b.st);
	}
	return 0;
}

static int cmd_tick(int argc, char **argv)
{
	double interval_ms = 10, seconds = 10;
	struct sampler *sm;
	struct sampler_proc *p;
	struct sampler_reading rd[1];
	struct ticker tk;
	int64_t *late, *gap, prev = -1, cpu0, taken = 0, n_max;
	int c, err;

	while ((c = getopt(argc, argv, "i:s:")) != -1) {
		switch (c) {
		case 'i': interval_ms = atof(optarg); break;
		case 's': seconds = atof(optarg); break;
		default: usage();
		}
	}
	if (optind != argc - 1 || interval_ms <= 0 || seconds <= 0)
		usage();
	n_max = (int64_t)(seconds * 1000 / interval_ms) + 2;
	late = calloc((size_t)n_max, sizeof *late);
	gap = calloc((size_t)n_max, sizeof *gap);
	if (!late || !gap || sampler_new("/proc", 0, SAMPLER_RSS, &sm))
		return 1;
	if ((err = sampler_add_root(sm, atoi(argv[optind]), &p))) {
		fprintf(stderr, "sampler_floor: pid %s: %s\n", argv[optind], strerror(-err));
		return 1;
	}
	cpu0 = cpu_ns();
	ticker_init(&tk, ticker_now_mono(), (int64_t)(interval_ms * 1e6));
	while (taken < n_max) {
		int64_t now, k;

		if (ticker_sleep(&tk))
			continue;
		now = ticker_now_mono();
		k = ticker_due(&tk, now);
		if (k * tk.interval_ns > (int64_t)(seconds * 1e9))
			break;
		late[taken] = now - ticker_deadline(&tk, k);
		if (prev >= 0)
			gap[taken - 1] = now - prev;
		prev = now;
		taken++;
		if (sampler_tick(sm, k, now, rd) != 1)
			break;
		ticker_advance(&tk, k);
	}
	printf("tick_samples %lld\ntick_skipped %lld\ntick_cpu_us_per_sample %.1f\n",
	       (long long)taken, (long long)tk.skipped,
	       taken ? (double)(cpu_ns() - cpu0) / 1e3 / (double)taken : 0.0);
	qsort(late, (size_t)taken, sizeof *late, cmp_i64);
	printf("tick_late_us_p50 %.1f\ntick_late_us_p99 %.1f\ntick_late_us_max %.1f\n",
	       (double)pct(late, (size_t)taken, 50) / 1e3,
	       (double)pct(late, (size_t)taken, 99) / 1e3,
	       taken ? (double)late[taken - 1] / 1e3 : 0.0);
	if (taken > 1) {
		qsort(gap, (size_t)taken - 1, sizeof *gap, cmp_i64);
		printf("tick_interval_ms_p50 %.3f\ntick_interval_ms_p99 %.3f\n",
		       (double)pct(gap, (size_t)taken - 1, 50) / 1e6,
		       (double)pct(gap, (size_t)taken - 1, 99) / 1e6);
	}
	sampler_free(sm);
	free(late);
	free(gap);
	return 0;
}

static volatile pid_t rusage_child;

static void forward(int sig)
{
	if (rusage_child > 0)
		kill(rusage_child, sig);
}

/* VmHWM of this process, KiB, or -1. */
static long self_hwm_kib(void)
{
	char buf[4096];
	int64_t kib;
	long n = procfs_read("/proc", (int)getpid(), "status", buf, sizeof buf);

	return n > 0 && procfs_parse_status_hwm(buf, (size_t)n, &kib) == 0 ? (long)kib : -1;
}

static int cmd_rusage(int argc, char **argv)
{
	struct sigaction sa;
	struct rusage ru;
	struct timespec t0, t1;
	long hwm;
	pid_t pid;
	FILE *out;
	int status;

	if (argc < 3)
		usage();
	if (!(out = fopen(argv[1], "we"))) {
		fprintf(stderr, "sampler_floor: cannot write '%s': %s\n", argv[1],
			strerror(errno));
		return 1;
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = forward;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	hwm = self_hwm_kib();
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid = fork();
	if (pid < 0) {
		perror("sampler_floor: fork");
		return 1;
	}
	if (pid == 0) {
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		execvp(argv[2], argv + 2);
		fprintf(stderr, "sampler_floor: cannot run '%s': %s\n", argv[2],
			strerror(errno));
		_exit(127);
	}
	rusage_child = pid;
	fprintf(out, "pid %d\nlauncher_hwm_kib %ld\n", (int)pid, hwm);
	fflush(out);
	while (wait4(pid, &status, 0, &ru) < 0)
		if (errno != EINTR) {
			perror("sampler_floor: wait4");
			return 1;
		}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	fprintf(out, "utime_s %.6f\nstime_s %.6f\nmaxrss_kib %ld\nwall_s %.6f\n",
		(double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6,
		(double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6, ru.ru_maxrss,
		(double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	fprintf(out, "status %d\n", status);
	fclose(out);
	return status;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		usage();
	if (strcmp(argv[1], "batch") == 0)
		return cmd_batch(argc - 1, argv + 1);
	if (strcmp(argv[1], "tick") == 0)
		return cmd_tick(argc - 1, argv + 1);
	if (strcmp(argv[1], "rusage") == 0)
		return cmd_rusage(argc - 1, argv + 1);
	usage();
	return 2;
}
