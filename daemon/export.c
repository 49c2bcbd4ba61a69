/* export.c - memtided's metrics page: the Prometheus endpoint of the
 * [memtided] metrics key.
 *
 * The tracker updates the process table (metrics.h) with every reading; the
 * main loop renders the page every PUBLISH_NS and hands it to the HTTP
 * thread (httpd.h), which serves it to every scrape until the next one.  A
 * scrape never waits for the sampler, nor the sampler for a scrape.
 */
#include "daemon.h"

#include "memtide/httpd.h"
#include "memtide/metrics.h"
#include "memtide/ticker.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct exporter {
	struct metrics *m;
	struct httpd *h;
	uint64_t shown; /* metrics_changes() at the last render */
};

int exporter_start(const char *addr, struct exporter **out)
{
	struct exporter *e = calloc(1, sizeof *e);
	int err;

	*out = NULL;
	if (!e)
		return -ENOMEM;
	if ((err = metrics_new(MEMTIDE_METRICS_GRACE_S, &e->m)) ||
	    (err = httpd_start(addr, HTTPD_TIMEOUT_MS, &e->h))) {
		exporter_stop(e);
		return err;
	}
	*out = e;
	return 0;
}

struct metrics *exporter_metrics(struct exporter *e)
{
	return e ? e->m : NULL;
}

int exporter_port(const struct exporter *e)
{
	return httpd_port(e->h);
}

void exporter_publish(struct exporter *e, struct writer *w, uint64_t missed,
		      uint64_t unseen, uint64_t marks_dropped)
{
	struct writer_stats ws;
	struct metrics_counters c;
	char *page;
	size_t len;

	e->shown = metrics_changes(e->m);
	writer_get_stats(w, &ws);
	c = (struct metrics_counters){
		.samples_taken = ws.written + ws.queued + ws.dropped,
		.samples_written = ws.written,
		.samples_dropped = ws.dropped,
		.samples_missed = missed,
		.processes_unseen = unseen,
		.markers_dropped = marks_dropped,
		.clients_evicted = httpd_evicted(e->h),
	};
	if (metrics_render(e->m, &c, (double)ticker_now_real() / 1e9, &page, &len) ||
	    httpd_publish(e->h, page, len))
		log_warning("out of memory: the metrics page is not updated");
}

int exporter_stale(const struct exporter *e)
{
	return e && metrics_changes(e->m) != e->shown;
}

void exporter_stop(struct exporter *e)
{
	if (!e)
		return;
	if (e->h)
		httpd_stop(e->h);
	metrics_free(e->m);
	free(e);
}
