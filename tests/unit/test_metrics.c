/* test_metrics.c - the Prometheus page: escaping, series, grace period. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "memtide/httpd.h"
#include "memtide/metrics.h"

static const struct metrics_proc base = {
	.pid = 300, .start_ticks = 7, .rule = "web", .name = "gunicorn app:wsgi",
	.script = NULL, .module = "gunicorn", .unit = "app.service",
	.rss_bytes = 1048576, .pss_bytes = -1, .cpu_seconds = 1.5, .threads = 3,
	.start_time = 1700000000.5};

static char *render(struct metrics *m, double now)
{
	struct metrics_counters c = {10, 8, 2, 4, 3, 5, 6};
	char *page = NULL;
	size_t len = 0;

	if (metrics_render(m, &c, now, &page, &len))
		return NULL;
	if (strlen(page) != len) {
		free(page);
		return NULL;
	}
	return page;
}

static int count(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

TEST(metrics_escape_label_values)
{
	char *e;

	e = metrics_escape("plain text");
	CHECK_EQ_STR(e, "plain text");
	free(e);
	e = metrics_escape("a\"b\\c\nd");
	CHECK_EQ_STR(e, "a\\\"b\\\\c\\nd");
	free(e);
	/* Valid multi-byte UTF-8 stays; a stray byte, a truncated sequence,
	 * an overlong '/' and a surrogate become U+FFFD each. */
	e = metrics_escape("caf\xc3\xa9 \xe2\x82\xac");
	CHECK_EQ_STR(e, "caf\xc3\xa9 \xe2\x82\xac");
	free(e);
	e = metrics_escape("x\xffy\xe2\x82");
	CHECK_EQ_STR(e, "x\xef\xbf\xbdy\xef\xbf\xbd\xef\xbf\xbd");
	free(e);
	e = metrics_escape("\xc0\xaf\xed\xa0\x80");
	CHECK_EQ_STR(e, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	free(e);
	e = metrics_escape(NULL);
	CHECK_EQ_STR(e, "");
	free(e);
}

TEST(metrics_render_one_process)
{
	struct metrics *m;
	char *page;

	CHECK(metrics_new(300, &m) == 0);
	CHECK(metrics_set(m, &base) == 0);
	page = render(m, 1700000100);
	CHECK(page != NULL);
	if (!page)
		return;
	CHECK(strstr(page, "memtide_process_resident_memory_bytes{rule=\"web\",pid=\"300\","
			   "name=\"gunicorn app:wsgi\",module=\"gunicorn\",unit=\"app.service\"} 1048576\n"));
	CHECK(strstr(page, "# TYPE memtide_process_cpu_seconds_total counter\n"));
	CHECK(strstr(page, "memtide_process_cpu_seconds_total{") &&
	      strstr(page, "} 1.500000\n"));
	CHECK(strstr(page, "memtide_process_threads{") && strstr(page, "} 3\n"));
	CHECK(strstr(page, "} 1700000000.500\n"));
	/* No PSS read: no PSS family at all, and no empty script label. */
	CHECK(!strstr(page, "memtide_process_pss_bytes"));
	CHECK(!strstr(page, "script="));
	CHECK(strstr(page, "memtide_samples_taken_total 10\n"));
	CHECK(strstr(page, "memtide_samples_written_total 8\n"));
	CHECK(strstr(page, "memtide_samples_dropped_total 2\n"));
	CHECK(strstr(page, "memtide_samples_missed_total 4\n"));
	CHECK(strstr(page, "memtide_processes_unseen_total 3\n"));
	CHECK(strstr(page, "memtide_markers_dropped_total 5\n"));
	CHECK(strstr(page, "memtide_metrics_clients_evicted_total 6\n"));
	CHECK(strstr(page, "memtide_tracked_processes 1\n"));
	CHECK(strstr(page, "\nprocess_resident_memory_bytes "));
	CHECK(strstr(page, "\nprocess_cpu_seconds_total "));
	CHECK(strstr(page, "\nprocess_start_time_seconds "));
	CHECK(strstr(page, "\nprocess_open_fds "));
	/* Every family is announced once, and the page ends with a newline. */
	CHECK_EQ_INT(count(page, "# TYPE memtide_process_resident_memory_bytes "), 1);
	CHECK(page[strlen(page) - 1] == '\n');
	free(page);
	metrics_free(m);
}

TEST(metrics_update_replaces_values_and_labels)
{
	struct metrics *m;
	struct metrics_proc p = base;
	char *page;

	CHECK(metrics_new(300, &m) == 0);
	CHECK(metrics_set(m, &p) == 0);
	p.rss_bytes = 2097152;
	p.pss_bytes = 1000000;
	p.name = "python3 -m worker \"q\"";
	CHECK(metrics_set(m, &p) == 0);
	CHECK_EQ_INT(metrics_count(m), 1);
	page = render(m, 1700000100);
	CHECK(page && strstr(page, "name=\"python3 -m worker \\\"q\\\"\"") &&
	      strstr(page, "} 2097152\n"));
	CHECK(page && !strstr(page, "1048576"));
	CHECK(page && strstr(page, "memtide_process_pss_bytes{") &&
	      strstr(page, "} 1000000\n"));
	free(page);
	metrics_free(m);
}

TEST(metrics_ended_processes_leave_after_grace)
{
	struct metrics *m;
	struct metrics_proc a = base, b = base;
	char *page;

	b.pid = 301;
	b.start_ticks = 9;
	CHECK(metrics_new(300, &m) == 0);
	CHECK(metrics_set(m, &a) == 0);
	CHECK(metrics_set(m, &b) == 0);
	metrics_end(m, 300, 7, 1000);
	metrics_end(m, 999, 1, 1000); /* unknown: ignored */
	page = render(m, 1299);
	CHECK(page && strstr(page, "pid=\"300\"") && strstr(page, "pid=\"301\""));
	CHECK(page && strstr(page, "memtide_tracked_processes 1\n"));
	free(page);
	page = render(m, 1301);
	CHECK(page && !strstr(page, "pid=\"300\"") && strstr(page, "pid=\"301\""));
	free(page);
	CHECK_EQ_INT(metrics_count(m), 1);
	metrics_free(m);
}

TEST(metrics_reused_pid_replaces_the_ended_process)
{
	struct metrics *m;
	struct metrics_proc old = base, new = base;
	char *page;

	CHECK(metrics_new(300, &m) == 0);
	CHECK(metrics_set(m, &old) == 0);
	metrics_end(m, 300, 7, 1000);
	new.start_ticks = 8;
	new.rss_bytes = 5555;
	CHECK(metrics_set(m, &new) == 0);
	CHECK_EQ_INT(metrics_count(m), 1);
	page = render(m, 1001);
	CHECK(page && count(page, "memtide_process_resident_memory_bytes{") == 1);
	CHECK(page && strstr(page, "} 5555\n"));
	free(page);
	metrics_free(m);
}

TEST(metrics_many_processes)
{
	struct metrics *m;
	struct metrics_proc p = base;
	char *page;

	CHECK(metrics_new(300, &m) == 0);
	for (int i = 0; i < 5000; i++) {
		p.pid = 1000 + i;
		p.rss_bytes = i;
		CHECK(metrics_set(m, &p) == 0);
	}
	for (int i = 0; i < 5000; i += 2)
		metrics_end(m, 1000 + i, 7, 10);
	for (int i = 1; i < 5000; i += 2) {
		p.pid = 1000 + i;
		p.rss_bytes = 7777777;
		CHECK(metrics_set(m, &p) == 0);
	}
	CHECK_EQ_INT(metrics_count(m), 5000);
	page = render(m, 1000);
	CHECK_EQ_INT(metrics_count(m), 2500);
	CHECK(page && count(page, "} 7777777\n") == 2500);
	CHECK(page && strstr(page, "memtide_tracked_processes 2500\n"));
	free(page);
	/* Lookups still find every survivor after the compaction. */
	p.pid = 1001;
	p.rss_bytes = 1;
	CHECK(metrics_set(m, &p) == 0);
	CHECK_EQ_INT(metrics_count(m), 2500);
	metrics_free(m);
}

TEST(httpd_addresses)
{
	CHECK(httpd_check_addr("127.0.0.1:9464") == 0);
	CHECK(httpd_check_addr("[::1]:9464") == 0);
	CHECK(httpd_check_addr("9464") == 0);
	CHECK(httpd_check_addr("0.0.0.0:0") == 0);
	CHECK(httpd_check_addr("localhost:9464") < 0);
	CHECK(httpd_check_addr("127.0.0.1:65536") < 0);
	CHECK(httpd_check_addr("127.0.0.1:") < 0);
	CHECK(httpd_check_addr("127.0.0.1:94x") < 0);
	CHECK(httpd_check_addr("::1:9464") < 0);
	CHECK(httpd_check_addr("[::1]9464") < 0);
	CHECK(httpd_check_addr("") < 0);
}

TEST(metrics_memory_limit_only_where_set)
{
	struct metrics *m = NULL;
	struct metrics_proc a = base, b = base;
	char *page;

	CHECK(metrics_new(300, &m) == 0);
	b.pid = 301;
	b.limit_bytes = 536870912;
	CHECK(metrics_set(m, &a) == 0);
	page = render(m, 1700000100.0);
	CHECK(page && !strstr(page, "memtide_process_memory_limit_bytes"));
	free(page);
	CHECK(metrics_set(m, &b) == 0);
	page = render(m, 1700000100.0);
	CHECK(page && count(page, "# TYPE memtide_process_memory_limit_bytes gauge") == 1);
	CHECK(page && count(page, "memtide_process_memory_limit_bytes{") == 1);
	CHECK(page && strstr(page, "pid=\"301\"") &&
	      strstr(page, "} 536870912\n"));
	free(page);
	metrics_free(m);
}
