/* test_metrics.c - the Prometheus page: escaping, series, grace period. */
#include <dirent.h>
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

/* What memtided re-renders the page for: a process come, gone, moved or
 * read with other memory; not a reading that only moved CPU time. */
TEST(metrics_changes_count_what_the_page_shows)
{
	struct metrics *m;
	struct metrics_proc p = base;
	uint64_t c;

	CHECK(metrics_new(300, &m) == 0);
	c = metrics_changes(m);
	CHECK(metrics_set(m, &p) == 0);
	CHECK(metrics_changes(m) == c + 1); /* came */
	c = metrics_changes(m);
	p.cpu_seconds += 0.25;
	CHECK(metrics_set(m, &p) == 0);
	CHECK(metrics_changes(m) == c); /* CPU alone */
	p.rss_bytes += 4096;
	CHECK(metrics_set(m, &p) == 0);
	CHECK(metrics_changes(m) == c + 1);
	c = metrics_changes(m);
	p.group = "other";
	CHECK(metrics_set(m, &p) == 0);
	CHECK(metrics_changes(m) == c + 1); /* moved */
	c = metrics_changes(m);
	metrics_exit(m, p.pid, p.start_ticks, 1000, METRICS_HOW_EXIT);
	CHECK(metrics_changes(m) == c + 1); /* gone */
	c = metrics_changes(m);
	metrics_exit(m, p.pid, p.start_ticks, 1001, METRICS_HOW_EXIT);
	metrics_exit(m, 999, 1, 1001, METRICS_HOW_EXIT); /* unknown */
	CHECK(metrics_changes(m) == c);
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

/* The value of the sample line that starts with prefix, or -1. */
static double value_of(const char *page, const char *prefix)
{
	const char *p = strstr(page, prefix);

	return p ? strtod(p + strlen(prefix), NULL) : -1;
}

/* Workers recycled 100 times: the group's sums count the live ones only,
 * its CPU counter keeps the dead ones' time, exits are counted by how, and
 * the page has as many lines after the churn as before it. */
TEST(metrics_groups_add_up_under_churn)
{
	struct metrics *m;
	struct metrics_proc p = base;
	char *page;
	size_t lines0 = 0;

	CHECK(metrics_new(MEMTIDE_METRICS_GRACE_S, &m) == 0);
	metrics_per_process(m, 0);
	p.group = "shop";
	for (int i = 0; i < 3; i++) {
		p.pid = 100 + i;
		CHECK(metrics_set(m, &p) == 0);
	}
	page = render(m, 1000);
	CHECK(page && strstr(page, "memtide_group_resident_memory_bytes{group=\"shop\"} 3145728\n"));
	CHECK(page && !strstr(page, "memtide_process_"));
	for (const char *s = page; s && (s = strchr(s, '\n')); s++)
		lines0++;
	free(page);
	for (int i = 3; i < 103; i++) {
		/* The oldest worker ends; a new one takes its place. */
		metrics_exit(m, 100 + i - 3, 7, 1000 + i,
			     i % 10 == 0 ? METRICS_HOW_OOM
			     : i % 2	 ? METRICS_HOW_EXIT
					 : METRICS_HOW_SIGNAL);
		p.pid = 100 + i;
		CHECK(metrics_set(m, &p) == 0);
		page = render(m, 1000 + i);
		CHECK(page && strstr(page, "memtide_group_processes{group=\"shop\"} 3\n"));
		CHECK(page && strstr(page, "memtide_group_resident_memory_bytes{group=\"shop\"} 3145728\n"));
		free(page);
	}
	page = render(m, 2000);
	CHECK(page != NULL);
	if (page) {
		size_t lines = 0;

		for (const char *s = page; (s = strchr(s, '\n')); s++)
			lines++;
		CHECK_EQ_INT(lines, lines0);
		/* 103 processes of 1.5 s each, ended or not. */
		CHECK(value_of(page, "memtide_group_cpu_seconds_total{group=\"shop\"} ") == 154.5);
		CHECK(value_of(page, "memtide_group_oom_kills_total{group=\"shop\"} ") == 10);
		CHECK(value_of(page, "memtide_group_exits_total{group=\"shop\",how=\"oom\"} ") == 10);
		CHECK(value_of(page, "memtide_group_exits_total{group=\"shop\",how=\"exit\"} ") == 50);
		CHECK(value_of(page, "memtide_group_exits_total{group=\"shop\",how=\"signal\"} ") == 40);
		CHECK(strstr(page, "memtide_tracked_processes 3\n"));
	}
	free(page);
	metrics_free(m);
}

/* Without a group, the rule names it; with per-process series on, an ended
 * process is gone from the very next page (grace 0). */
TEST(metrics_default_group_and_no_dead_series)
{
	struct metrics *m;
	struct metrics_proc a = base, b = base;
	char *page;

	CHECK(metrics_new(MEMTIDE_METRICS_GRACE_S, &m) == 0);
	b.pid = 301;
	b.limit_bytes = 1 << 30;
	CHECK(metrics_set(m, &a) == 0);
	CHECK(metrics_set(m, &b) == 0);
	metrics_exit(m, 301, 7, 1000, METRICS_HOW_EXIT);
	page = render(m, 1000);
	CHECK(page && strstr(page, "memtide_group_processes{group=\"web\"} 1\n"));
	CHECK(page && !strstr(page, "pid=\"301\""));
	CHECK(page && count(page, "memtide_process_resident_memory_bytes{") == 1);
	/* The limit of the one that ended is no more the group's. */
	CHECK(page && !strstr(page, "memtide_group_memory_limit_bytes"));
	free(page);
	metrics_free(m);
}

/* Label values: at most 128 bytes, control characters made spaces, cut at
 * a character boundary with an ellipsis. */
TEST(metrics_label_values_are_bounded)
{
	char raw[400], *e;

	memset(raw, 'a', sizeof raw);
	raw[sizeof raw - 1] = '\0';
	memcpy(raw + 124, "\xc3\xa9", 2); /* would end past byte 125 */
	e = metrics_label(raw);
	CHECK(e && strlen(e) == 127);
	CHECK(e && strcmp(e + 124, "\xe2\x80\xa6") == 0);
	free(e);
	raw[124] = 'a';
	raw[125] = 'a';
	e = metrics_label(raw);
	CHECK(e && strlen(e) == 128);
	free(e);
	e = metrics_label("python3 -c \"import x\nx.run()\"\t\x1b[31m\xc2\x85!");
	CHECK_EQ_STR(e, "python3 -c \\\"import x x.run()\\\"  [31m !");
	free(e);
	e = metrics_label("short");
	CHECK_EQ_STR(e, "short");
	free(e);
}

TEST(metrics_labels_follow_an_exec_and_per_process_turned_on)
{
	struct metrics *m;
	struct metrics_proc p = base;
	char *page;

	CHECK(metrics_new(300, &m) == 0);
	p.name = "python3 -c \"a\nb\"";
	CHECK(metrics_set(m, &p) == 0);
	CHECK(metrics_set(m, &p) == 0);
	page = render(m, 1700000100);
	CHECK(page && count(page, "name=\"python3 -c \\\"a b\\\"\"") >= 1);
	free(page);
	/* An exec renames it; a script label appears, and goes again. */
	p.name = "worker";
	p.script = "/srv/w.py";
	CHECK(metrics_set(m, &p) == 0);
	page = render(m, 1700000100);
	CHECK(page && !strstr(page, "\\\"a b") && strstr(page, "name=\"worker\",script=\"/srv/w.py\""));
	free(page);
	p.script = NULL;
	CHECK(metrics_set(m, &p) == 0);
	page = render(m, 1700000100);
	CHECK(page && !strstr(page, "script="));
	free(page);
	/* Off: no labels kept; on again, a process shows once its next sample
	 * gave it labels, never with empty ones. */
	metrics_per_process(m, 0);
	CHECK(metrics_set(m, &p) == 0);
	metrics_per_process(m, 1);
	page = render(m, 1700000100);
	CHECK(page && !strstr(page, "memtide_process_resident_memory_bytes{"));
	free(page);
	CHECK(metrics_set(m, &p) == 0);
	page = render(m, 1700000100);
	CHECK(page && strstr(page, "memtide_process_resident_memory_bytes{rule=\"web\",pid=\"300\","
				   "name=\"worker\""));
	free(page);
	metrics_free(m);
}

TEST(metrics_open_fds_counts_this_process)
{
	struct metrics *m;
	char *page, *at;
	DIR *d;
	struct dirent *de;
	long listed = -1; /* the listing's own descriptor */

	CHECK(metrics_new(300, &m) == 0);
	CHECK((d = opendir("/proc/self/fd")) != NULL);
	while (d && (de = readdir(d)))
		listed += de->d_name[0] != '.';
	if (d)
		closedir(d);
	page = render(m, 1700000100);
	at = page ? strstr(page, "\nprocess_open_fds ") : NULL;
	CHECK(at && strtol(at + strlen("\nprocess_open_fds "), NULL, 10) == listed);
	free(page);
	metrics_free(m);
}
