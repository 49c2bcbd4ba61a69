/* pystack_dump.c - prints the Python stack of a running process with
 * lib/pystack.c, for tests/e2e/test_pystack.py and for measuring the
 * reader.
 *   pystack_dump PID [COUNT [INTERVAL_MS]]   COUNT samples, each as
 *       "function<TAB>file<TAB>line" lines innermost first, then
 *       "-- tid T frames N" (or "-- error -EAGAIN"); exits 1 with
 *       "pystack_dump: ENAME: why" when the reader cannot open the process.
 *   pystack_dump --stdin PID   one reader, one sample per line read from
 *       stdin, printed as above.
 *   pystack_dump --until-gone PID   prints "version ...", then samples until
 *       the process is gone and prints "samples N frames F eagain A ESRCH".
 *   pystack_dump --stats PID N      N samples back to back; prints
 *       "samples N frames F eagain A other O" (F: samples with frames, O:
 *       any other error).
 *   pystack_dump --bench PID N      N samples back to back; prints the CPU
 *       time per sample (µs), frames, pystack_memory, own RSS (KiB) and
 *       process_vm_readv calls per sample.
 *   pystack_dump --table 3.X        the built-in layout table of 3.X;
 *   pystack_dump --layout PID       the layout the reader uses for PID;
 *       both as "name value" lines, as tests/helpers/pystack_offsets.c. */
#include "memtide/pystack.h"
#include "pystack_reader.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_FRAMES 256

static const char *errname(int err)
{
	switch (-err) {
	case ESRCH: return "ESRCH";
	case EPERM: return "EPERM";
	case ENOTSUP: return "ENOTSUP";
	case EAGAIN: return "EAGAIN";
	case ENOMEM: return "ENOMEM";
	default: return "E?";
	}
}

static struct pystack *open_or_die(int pid)
{
	struct pystack *r;
	char why[256];
	int err = pystack_open(pid, &r, why, sizeof why);

	if (err) {
		printf("pystack_dump: %s: %s\n", errname(err), why);
		exit(1);
	}
	return r;
}

static void print_layout(const struct pystack_layout *L)
{
#define PRINT_FIELD(name) printf("%s %ld\n", #name, L->name);
	PYSTACK_LAYOUT_FIELDS(PRINT_FIELD)
#undef PRINT_FIELD
}

static double cpu_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static long own_rss_kib(void)
{
	char line[256];
	long kib = -1;
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof line, f))
		if (sscanf(line, "VmRSS: %ld", &kib) == 1)
			break;
	if (f)
		fclose(f);
	return kib;
}

static int bench(int pid, int n)
{
	struct pystack_frame frames[MAX_FRAMES];
	struct pystack *r = open_or_die(pid);
	int depth = 0, ok = 0;
	unsigned long reads0;
	double t0;

	pystack_sample(r, frames, MAX_FRAMES, NULL); /* fills the caches */
	reads0 = r->reads;
	t0 = cpu_us();
	for (int i = 0; i < n; i++) {
		int k = pystack_sample(r, frames, MAX_FRAMES, NULL);

		if (k >= 0) {
			depth = k;
			ok++;
		}
	}
	printf("cpu_us_per_sample %.2f frames %d ok %d of %d pystack_memory %zu rss_kib %ld "
	       "reads_per_sample %.2f\n",
	       (cpu_us() - t0) / n, depth, ok, n, pystack_memory(r), own_rss_kib(),
	       (double)(r->reads - reads0) / n);
	pystack_close(r);
	return 0;
}

static int stats(int pid, int n)
{
	struct pystack_frame frames[MAX_FRAMES];
	struct pystack *r = open_or_die(pid);
	long with_frames = 0, eagain = 0, other = 0;

	for (int i = 0; i < n; i++) {
		int k = pystack_sample(r, frames, MAX_FRAMES, NULL);

		if (k > 0)
			with_frames++;
		else if (k == -EAGAIN)
			eagain++;
		else if (k < 0)
			other++;
	}
	printf("samples %d frames %ld eagain %ld other %ld\n", n, with_frames, eagain, other);
	pystack_close(r);
	return 0;
}

static int until_gone(int pid)
{
	struct pystack_frame frames[MAX_FRAMES];
	struct pystack *r = open_or_die(pid);
	long samples = 0, frames_seen = 0, eagain = 0;

	printf("version %s\n", pystack_version(r));
	fflush(stdout);
	for (;;) {
		int k = pystack_sample(r, frames, MAX_FRAMES, NULL);

		samples++;
		if (k > 0)
			frames_seen += k;
		else if (k == -EAGAIN)
			eagain++;
		else if (k < 0)
			break;
	}
	printf("samples %ld frames %ld eagain %ld %s\n", samples, frames_seen, eagain,
	       errname(pystack_sample(r, frames, MAX_FRAMES, NULL)));
	pystack_close(r);
	return 0;
}

static int print_sample(struct pystack *r)
{
	struct pystack_frame frames[MAX_FRAMES];
	int tid, k = pystack_sample(r, frames, MAX_FRAMES, &tid);

	for (int j = 0; j < k; j++)
		printf("%s\t%s\t%d\n", frames[j].function, frames[j].file, frames[j].line);
	if (k >= 0)
		printf("-- tid %d frames %d\n", tid, k);
	else
		printf("-- error %s\n", errname(k));
	fflush(stdout);
	return k;
}

static int dump(int pid, int count, int interval_ms)
{
	struct pystack *r = open_or_die(pid);

	printf("version %s\n", pystack_version(r));
	for (int i = 0; i < count; i++) {
		if (print_sample(r) == -ESRCH)
			break;
		if (i + 1 < count)
			usleep((useconds_t)interval_ms * 1000);
	}
	pystack_close(r);
	return 0;
}

static int dump_on_stdin(int pid)
{
	struct pystack *r = open_or_die(pid);
	char line[64];

	printf("version %s\n", pystack_version(r));
	fflush(stdout);
	while (fgets(line, sizeof line, stdin))
		print_sample(r);
	pystack_close(r);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--table") == 0) {
		const struct pystack_layout *L =
			strncmp(argv[2], "3.", 2) == 0 ? pystack_layout_for(atoi(argv[2] + 2)) : NULL;

		if (!L) {
			printf("pystack_dump: no table for %s\n", argv[2]);
			return 1;
		}
		print_layout(L);
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "--layout") == 0) {
		struct pystack *r = open_or_die(atoi(argv[2]));

		print_layout(&r->L);
		pystack_close(r);
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "--stdin") == 0)
		return dump_on_stdin(atoi(argv[2]));
	if (argc == 3 && strcmp(argv[1], "--until-gone") == 0)
		return until_gone(atoi(argv[2]));
	if (argc == 4 && strcmp(argv[1], "--stats") == 0)
		return stats(atoi(argv[2]), atoi(argv[3]));
	if (argc == 4 && strcmp(argv[1], "--bench") == 0)
		return bench(atoi(argv[2]), atoi(argv[3]));
	if (argc >= 2 && argc <= 4 && argv[1][0] != '-')
		return dump(atoi(argv[1]), argc > 2 ? atoi(argv[2]) : 1, argc > 3 ? atoi(argv[3]) : 100);
	fprintf(stderr, "usage: pystack_dump PID [COUNT [INTERVAL_MS]] | --until-gone PID | "
			"--stdin PID | --stats PID N | --bench PID N | --table 3.X | --layout PID\n");
	return 2;
}
