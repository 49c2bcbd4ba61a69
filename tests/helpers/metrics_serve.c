/* metrics_serve.c - serves a metrics page of made-up processes with
 * lib/httpd.c, for tests/e2e/test_metrics.py.
 *
 *   metrics-serve [--timeout MS] [--procs N] [--every MS] ADDR
 *
 * Prints "port N" once listening, then renders and publishes a fresh page
 * every 10 ms (or --every MS) (memtide_samples_taken_total counts the pages), as memtided's
 * sampler would, until standard input reaches end of file.  The processes
 * carry hostile labels: quotes, backslashes, a newline, invalid UTF-8. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "memtide/httpd.h"
#include "memtide/metrics.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct metrics_counters cnt = {0};
	struct metrics *m;
	struct httpd *h;
	int timeout_ms = 0, procs = 3, every_ms = 10, i, err;
	const char *addr = NULL;
	char name[64];

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc)
			timeout_ms = atoi(argv[++i]);
		else if (strcmp(argv[i], "--procs") == 0 && i + 1 < argc)
			procs = atoi(argv[++i]);
		else if (strcmp(argv[i], "--every") == 0 && i + 1 < argc)
			every_ms = atoi(argv[++i]);
		else
			addr = argv[i];
	}
	if (!addr) {
		fprintf(stderr, "usage: metrics-serve [--timeout MS] [--procs N] [--every MS] ADDR\n");
		return 2;
	}
	if (metrics_new(MEMTIDE_METRICS_GRACE_S, &m)) {
		fprintf(stderr, "metrics-serve: out of memory\n");
		return 1;
	}
	struct metrics_proc hostile = {
		.pid = 4242, .start_ticks = 100, .rule = "web \"edge\"",
		.name = "gunicorn app:wsgi --name \"a\\b\"\nnext \xff\xfe end",
		.script = "/srv/app/venv/bin/gunicorn", .unit = "app.service",
		.rss_bytes = 123456789, .pss_bytes = 100000000,
		.cpu_seconds = 12.5, .threads = 4, .start_time = 1700000000.25};
	struct metrics_proc worker = {
		.pid = 4243, .start_ticks = 200, .rule = "workers",
		.name = "celery -A proj worker", .module = "celery",
		.rss_bytes = 52428800, .pss_bytes = -1, .cpu_seconds = 0.01,
		.threads = 1, .start_time = 1700000001};
	metrics_set(m, &hostile);
	metrics_set(m, &worker);
	for (i = 2; i < procs; i++) {
		struct metrics_proc p = worker;

		snprintf(name, sizeof name, "python3 job_%d.py", i);
		p.pid = 10000 + i;
		p.name = name;
		p.module = NULL;
		p.script = "job.py";
		metrics_set(m, &p);
	}
	if ((err = httpd_start(addr, timeout_ms, &h))) {
		fprintf(stderr, "metrics-serve: cannot listen on '%s': %s\n", addr,
			strerror(-err));
		return 1;
	}
	for (;;) {
		struct pollfd in = {.fd = 0, .events = POLLIN};
		char *page, junk[64];
		size_t len;

		cnt.samples_taken++;
		cnt.samples_written = cnt.samples_taken;
		worker.rss_bytes += 4096;
		metrics_set(m, &worker);
		if (metrics_render(m, &cnt, now_s(), &page, &len) == 0)
			httpd_publish(h, page, len);
		if (cnt.samples_taken == 1) {
			/* Told once a page is there: a test never sees the 503
			 * of a server that has published nothing yet. */
			printf("port %d\n", httpd_port(h));
			fflush(stdout);
		}
		if (poll(&in, 1, every_ms) > 0 && read(0, junk, sizeof junk) <= 0)
			break;
	}
	httpd_stop(h);
	metrics_free(m);
	return 0;
}
