/* writer.c - the writer thread: a bounded queue drained into SQLite.
 *
 * The main thread only appends to the queue (a mutex held for a memcpy), so
 * a reader's long transaction, a locked file or a full disk never delays a
 * sample.  The writer commits at least once a second (a kill -9 loses at
 * most that), retries every 100 ms while the database refuses, and between
 * commits rolls old samples up in small batches.  Samples beyond max_queued
 * are dropped and counted; process records are never dropped.  Markers come
 * from strangers: they count against max_queued too, and may take only a
 * small share of it (MARK_SHARE, MARK_BYTES_MAX), so a flood of them never
 * crowds out a sample nor holds more than a few MiB.
 */
#include "daemon.h"

#include "memtide/idmap.h"
#include "memtide/stackstore.h"
#include "memtide/stackwatch.h"
#include "memtide/rollup.h"
#include "memtide/ticker.h"

#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NS 1000000000LL
#define COMMIT_NS NS            /* commit at least this often */
#define COMMIT_MSGS 4096        /* or as soon as this much is queued */
#define BATCH_MSGS 16384        /* messages per round */
#define RETRY_NS (NS / 10)
#define BUSY_MS 200             /* SQLite's wait for a lock, per statement */
#define MAINT_NS (60 * NS)      /* retention work at most this often when idle */
#define ROLLUP_ROWS 20000       /* per transaction: whole minutes at 10 ms */
#define MARK_SHARE 16           /* markers may fill 1/16 of max_queued */
#define MARK_BYTES_MAX (4 << 20) /* and hold at most this much label text */
#define TRIM_BYTES (1 << 20)    /* labels freed before memory goes back */

struct writer {
	struct marksock *ms; /* set before any W_MARK is queued */
	struct stackwatch *sw; /* charges of Python stacks, or NULL */
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	/* The queue: a ring of messages, grown as needed, shrunk when idle. */
	struct wmsg *q;
	size_t cap, head, n;
	size_t samples;     /* samples queued or in flight (the bound) */
	size_t max_samples;
	size_t marks, mark_bytes; /* markers queued or in flight, their labels */
	uint64_t dropped, written;
	int stop, failing;
	int64_t stop_deadline;
	double ended;
	int64_t retention_ns, rollup_ns;
	uint64_t lost;

	/* The writer thread's own state. */
	struct store *st;
	int64_t run;
	struct idmap ids; /* local id -> proc.id */
	struct wmsg *cur; /* the round in flight */
	size_t cur_n, cur_samples, cur_marks, cur_mark_bytes;
	size_t freed_bytes; /* label bytes freed since the last malloc_trim */
	struct store_sample *sb; /* translated samples not yet appended */
	size_t sb_n;
	int64_t next_maint;
};

static void free_msg(struct wmsg *m)
{
	if (m->type == W_MARK) {
		free((char *)m->u.mark.label);
		free((char *)m->u.mark.outcome);
		m->u.mark.label = m->u.mark.outcome = NULL;
	}
	if (m->type == W_PROC && m->u.proc) {
		struct store_proc *p = &m->u.proc->p;

		free((char *)p->exe);
		free((char *)p->argv);
		free((char *)p->name);
		free((char *)p->interpreter);
		free((char *)p->script);
		free((char *)p->module);
		free((char *)p->venv);
		free((char *)p->unit);
		free((char *)p->rule);
		free(m->u.proc);
		m->u.proc = NULL;
	} else if (m->type == W_CGROUP) {
		free(m->u.cg.cgroup);
		free(m->u.cg.group);
		m->u.cg.cgroup = m->u.cg.group = NULL;
	} else if (m->type == W_META) {
		free(m->u.meta.exe);
		free(m->u.meta.argv);
		m->u.meta.exe = m->u.meta.argv = NULL;
	}
}

/* Called with mu held. */
static int grow(struct writer *w)
{
	size_t cap = w->cap ? w->cap * 2 : 1024;
	struct wmsg *v = malloc(cap * sizeof *v);

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < w->n; i++)
		v[i] = w->q[(w->head + i) % w->cap];
	free(w->q);
	w->q = v;
	w->cap = cap;
	w->head = 0;
	return 0;
}

static void put(struct writer *w, const struct wmsg *m)
{
	w->q[(w->head + w->n) % w->cap] = *m;
	w->n++;
}

size_t writer_push_samples(struct writer *w, const struct store_sample *v, size_t n)
{
	size_t dropped = 0, was = 0;

	pthread_mutex_lock(&w->mu);
	was = w->n;
	for (size_t i = 0; i < n; i++) {
		struct wmsg m = {.type = W_SAMPLE, .u.s = v[i]};

		if (w->samples + w->marks >= w->max_samples ||
		    (w->n == w->cap && grow(w))) {
			dropped++;
			continue;
		}
		put(w, &m);
		w->samples++;
	}
	w->dropped += dropped;
	/* An idle writer sleeps until its retention work is due: the first
	 * message wakes it to set its commit deadline. */
	if (w->n >= COMMIT_MSGS || (was == 0 && w->n))
		pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	return dropped;
}

void writer_push(struct writer *w, const struct wmsg *m)
{
	pthread_mutex_lock(&w->mu);
	if (w->n == w->cap && grow(w)) {
		/* Out of memory for a process record: nothing sensible is
		 * left to do with it. */
		struct wmsg copy = *m;

		free_msg(&copy);
	} else {
		put(w, m);
		if (w->n == 1)
			pthread_cond_signal(&w->cv);
	}
	pthread_mutex_unlock(&w->mu);
}

static size_t mark_bytes(const struct wmsg *m)
{
	const char *o = m->u.mark.outcome;

	return strlen(m->u.mark.label) + 1 + (o ? strlen(o) + 1 : 0);
}

int writer_push_mark(struct writer *w, const struct wmsg *m)
{
	size_t bytes = mark_bytes(m);
	int err = 0;

	pthread_mutex_lock(&w->mu);
	if (w->samples + w->marks >= w->max_samples ||
	    w->marks >= w->max_samples / MARK_SHARE ||
	    w->mark_bytes + bytes > MARK_BYTES_MAX || (w->n == w->cap && grow(w))) {
		err = -ENOBUFS;
	} else {
		put(w, m);
		w->marks++;
		w->mark_bytes += bytes;
		if (w->n == 1)
			pthread_cond_signal(&w->cv);
	}
	pthread_mutex_unlock(&w->mu);
	return err;
}

void writer_set_marksock(struct writer *w, struct marksock *ms)
{
	pthread_mutex_lock(&w->mu);
	w->ms = ms;
	pthread_mutex_unlock(&w->mu);
}

void writer_set_stackwatch(struct writer *w, struct stackwatch *sw)
{
	pthread_mutex_lock(&w->mu);
	w->sw = sw;
	pthread_mutex_unlock(&w->mu);
}


void writer_retention(struct writer *w, int64_t raw_ns, int64_t rollup_ns)
{
	pthread_mutex_lock(&w->mu);
	w->retention_ns = raw_ns;
	w->rollup_ns = rollup_ns;
	w->next_maint = 0;
	pthread_mutex_unlock(&w->mu);
}

void writer_get_stats(struct writer *w, struct writer_stats *s)
{
	pthread_mutex_lock(&w->mu);
	s->written = w->written;
	s->dropped = w->dropped;
	s->queued = w->samples;
	s->failing = w->failing;
	pthread_mutex_unlock(&w->mu);
}

static int64_t local_to_db(struct writer *w, int64_t local)
{
	int64_t id = 0;

	idmap_get(&w->ids, local, &id);
	return id;
}

static int64_t map_local(void *ctx, int64_t local)
{
	return local_to_db(ctx, local);
}

/* How a process ended, and an OOM kill as a marker the charts show. */
static int write_exit(struct writer *w, int64_t id, const struct wmsg *m)
{
	struct store_mark mk = {.run = w->run, .start = m->u.exit.t, .end = -1,
				.level = -1, .pid = m->u.exit.pid, .mem_start = -1,
				.mem_end = -1};
	char label[96];
	int err;

	if ((err = store_proc_exit(w->st, id, m->u.exit.status, m->u.exit.oom)))
		return err;
	if (!m->u.exit.oom)
		return 0;
	snprintf(label, sizeof label, "OOM kill (pid %d)", m->u.exit.pid);
	mk.label = label;
	return store_mark_add(w->st, &mk, NULL);
}

/* Executes one record; 0 or a store code. */
static int exec_control(struct writer *w, struct wmsg *m)
{
	int64_t id = 0;
	int err;

	switch (m->type) {
	case W_PROC: {
		struct wproc *wp = m->u.proc;

		wp->p.run = w->run;
		wp->p.parent = wp->parent_local ? local_to_db(w, wp->parent_local) : 0;
		if ((err = store_proc_add(w->st, &wp->p, &id)))
			return err;
		return idmap_put(&w->ids, wp->local, id);
	}
	case W_END:
		if (!(id = local_to_db(w, m->u.end.local)))
			return 0;
		return store_proc_end(w->st, id, m->u.end.ended, m->u.end.last_tick);
	case W_META:
		if (!(id = local_to_db(w, m->u.meta.local)))
			return 0;
		return store_proc_meta(w->st, id, m->u.meta.exe, m->u.meta.argv,
				       m->u.meta.argv_len);
	case W_HWM:
		if (!(id = local_to_db(w, m->u.hwm.local)))
			return 0;
		return store_proc_hwm(w->st, id, m->u.hwm.bytes);
	case W_EXIT:
		if (!(id = local_to_db(w, m->u.exit.local)))
			return 0;
		return write_exit(w, id, m);
	case W_CGROUP:
		if (!(id = local_to_db(w, m->u.cg.local)))
			return 0;
		if (m->u.cg.first &&
		    (err = store_proc_cgroup(w->st, id, m->u.cg.cgroup, m->u.cg.group)))
			return err;
		if (m->u.cg.first && !m->u.cg.limit && !m->u.cg.high)
			return 0;
		return store_proc_limit(w->st, id, m->u.cg.t, m->u.cg.limit, m->u.cg.high);
	case W_MARK:
		err = w->ms ? marksock_store(w->ms, w->st, w->run, &m->u.mark) : 0;
		/* An end without its start (begun before memtided started) is
		 * nothing to retry. */
		return err == -ENOENT ? 0 : err;
	default:
		return 0;
	}
}

/* Writes the round in flight in one transaction: its records as they come,
 * its samples after them, one commit -- not one commit (a WAL write) per
 * record, which made starting among 1000 processes, their VmHWM every
 * minute and stopping cost a commit each.  A failure rolls all of it back
 * and the round is written again from its start, so the messages are freed
 * and ended processes' ids forgotten only once it is committed. */
static int write_round(struct writer *w)
{
	int err;

	w->sb_n = 0;
	if ((err = store_begin(w->st)))
		return err;
	for (size_t i = 0; i < w->cur_n; i++) {
		struct wmsg *m = &w->cur[i];

		if (m->type == W_SAMPLE) {
			struct store_sample s = m->u.s;

			if ((s.proc = local_to_db(w, s.proc)))
				w->sb[w->sb_n++] = s;
			continue;
		}
		if ((err = exec_control(w, m)))
			goto fail;
	}
	if (w->sb_n && (err = store_append(w->st, w->run, w->sb, w->sb_n)))
		goto fail;
	/* Charges of a round that fails are not kept for the next: a lost
	 * second of attribution, never of samples. */
	if (w->sw && (err = stackwatch_drain_mapped(w->sw, w->st, map_local, w)))
		goto fail;
	if ((err = store_commit(w->st)))
		return err;
	for (size_t i = 0; i < w->cur_n; i++) {
		if (w->cur[i].type == W_END)
			idmap_del(&w->ids, w->cur[i].u.end.local);
		free_msg(&w->cur[i]);
	}
	return 0;
fail:
	store_rollback(w->st);
	return err;
}

/* Retention: one bounded batch of rollups or expiries per call.  Returns 1
 * while there is more to do. */
static int maintain(struct writer *w, int64_t raw_ns, int64_t rollup_ns)
{
	double now = (double)ticker_now_real() / 1e9;
	size_t done = 0;
	int err;

	if (raw_ns > 0) {
		err = rollup_samples(w->st, now - (double)raw_ns / 1e9, ROLLUP_ROWS, &done);
		if (err)
			log_warning("rolling up old samples: %s", sqlite3_errmsg(store_db(w->st)));
		else if (done)
			log_debug("rolled up %zu samples", done);
		if (!err && done == ROLLUP_ROWS)
			return 1;
		/* Charges of stacks go with the raw samples they explain. */
		err = stackstore_expire(w->st, now - (double)raw_ns / 1e9, ROLLUP_ROWS, &done);
		if (err)
			log_warning("expiring old charges: %s", sqlite3_errmsg(store_db(w->st)));
		if (!err && done == ROLLUP_ROWS)
			return 1;
	}
	if (rollup_ns > 0) {
		/* Markers annotate the history: they go with its oldest part. */
		err = store_mark_expire(w->st, now - (double)rollup_ns / 1e9, ROLLUP_ROWS, &done);
		if (err)
			log_warning("expiring old markers: %s", sqlite3_errmsg(store_db(w->st)));
		else if (done)
			log_debug("expired %zu markers", done);
		if (!err && done == ROLLUP_ROWS)
			return 1;
		err = rollup_expire(w->st, now - (double)rollup_ns / 1e9, ROLLUP_ROWS, &done);
		if (err)
			log_warning("expiring old rollups: %s", sqlite3_errmsg(store_db(w->st)));
		else if (done)
			log_debug("expired %zu rollups", done);
		if (!err && done == ROLLUP_ROWS)
			return 1;
	}
	return 0;
}

static void wait_until(struct writer *w, int64_t mono_ns)
{
	/* The condvar uses CLOCK_MONOTONIC (see writer_start). */
	struct timespec ts = {.tv_sec = mono_ns / NS, .tv_nsec = mono_ns % NS};

	pthread_cond_timedwait(&w->cv, &w->mu, &ts);
}

static void *writer_main(void *arg)
{
	struct writer *w = arg;
	int64_t last_commit = ticker_now_mono();

	pthread_mutex_lock(&w->mu);
	for (;;) {
		int64_t now = ticker_now_mono();
		int err, more;
		int64_t raw_ns, rollup_ns;

		if (!w->cur_n) {
			/* Wait for a second's worth, a full batch, or stop. */
			while (!w->stop && w->n < COMMIT_MSGS &&
			       (w->n == 0 || now < last_commit + COMMIT_NS) &&
			       !(w->n == 0 && now >= w->next_maint)) {
				/* Idle: only retention work is ever due. */
				wait_until(w, w->n ? last_commit + COMMIT_NS : w->next_maint);
				now = ticker_now_mono();
			}
			if (w->stop && w->n == 0)
				break;
			w->cur_n = w->n < BATCH_MSGS ? w->n : BATCH_MSGS;
			w->cur_samples = w->cur_marks = w->cur_mark_bytes = 0;
			for (size_t i = 0; i < w->cur_n; i++) {
				w->cur[i] = w->q[(w->head + i) % w->cap];
				w->cur_samples += w->cur[i].type == W_SAMPLE;
				if (w->cur[i].type == W_MARK) {
					w->cur_marks++;
					w->cur_mark_bytes += mark_bytes(&w->cur[i]);
				}
			}
			w->head = (w->head + w->cur_n) % (w->cap ? w->cap : 1);
			w->n -= w->cur_n;
			if (w->n == 0 && w->cap > 16384) {
				/* A backlog is over: give its memory back. */
				free(w->q);
				w->q = NULL;
				w->cap = w->head = 0;
				w->freed_bytes = TRIM_BYTES;
			}
		}
		raw_ns = w->retention_ns;
		rollup_ns = w->rollup_ns;
		pthread_mutex_unlock(&w->mu);

		err = w->cur_n ? write_round(w) : 0;
		now = ticker_now_mono();

		pthread_mutex_lock(&w->mu);
		if (err) {
			if (!w->failing)
				log_warning("cannot write to the database (holding %zu"
					    " samples in memory, retrying): %s",
					    w->samples, store_errmsg(w->st));
			w->failing = 1;
			if (w->stop && now >= w->stop_deadline) {
				w->lost = w->samples;
				break;
			}
			wait_until(w, now + RETRY_NS);
			continue;
		}
		if (w->cur_n) {
			if (w->failing)
				log_notice("writing to the database again");
			w->failing = 0;
			w->samples -= w->cur_samples;
			w->written += w->cur_samples;
			w->marks -= w->cur_marks;
			w->mark_bytes -= w->cur_mark_bytes;
			w->freed_bytes += w->cur_mark_bytes;
			w->cur_n = 0;
			/* Thousands of small labels freed leave the heap's top
			 * pinned by a few live blocks: hand the free pages back
			 * once the queue is empty again -- without the lock, so
			 * that sampling never waits for it. */
			if (w->n == 0 && w->freed_bytes >= TRIM_BYTES) {
				w->freed_bytes = 0;
				pthread_mutex_unlock(&w->mu);
				malloc_trim(0);
				pthread_mutex_lock(&w->mu);
			}
			last_commit = now;
		}
		if (!w->stop && w->n < COMMIT_MSGS && now >= w->next_maint) {
			pthread_mutex_unlock(&w->mu);
			more = maintain(w, raw_ns, rollup_ns);
			pthread_mutex_lock(&w->mu);
			if (!w->next_maint || w->next_maint <= now)
				w->next_maint = more ? now : now + MAINT_NS;
		}
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

int writer_start(struct store *st, int64_t run, size_t max_queued, struct writer **out)
{
	struct writer *w = calloc(1, sizeof *w);
	pthread_condattr_t ca;
	int err;

	if (!w)
		return -ENOMEM;
	w->st = st;
	w->run = run;
	w->max_samples = max_queued;
	w->cur = malloc(BATCH_MSGS * sizeof *w->cur);
	w->sb = malloc(BATCH_MSGS * sizeof *w->sb);
	if (!w->cur || !w->sb) {
		free(w->cur);
		free(w->sb);
		free(w);
		return -ENOMEM;
	}
	/* SQLite waits this long for a lock before giving the statement up to
	 * our retry loop, which can then still honour a stop. */
	sqlite3_busy_timeout(store_db(st), BUSY_MS);
	pthread_mutex_init(&w->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->cv, &ca);
	pthread_condattr_destroy(&ca);
	if ((err = pthread_create(&w->thread, NULL, writer_main, w))) {
		free(w->cur);
		free(w->sb);
		free(w);
		return -err;
	}
	*out = w;
	return 0;
}

uint64_t writer_stop(struct writer *w, int64_t deadline_ns, double ended)
{
	uint64_t lost;

	pthread_mutex_lock(&w->mu);
	w->stop = 1;
	w->stop_deadline = deadline_ns;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thread, NULL);
	lost = w->lost;
	if (store_run_end(w->st, w->run, ended, -1, -1))
		log_warning("cannot record the end of the run: %s", store_errmsg(w->st));
	for (size_t i = 0; i < w->cur_n; i++)
		free_msg(&w->cur[i]);
	for (size_t i = 0; i < w->n; i++)
		free_msg(&w->q[(w->head + i) % w->cap]);
	free(w->q);
	free(w->cur);
	free(w->sb);
	idmap_free(&w->ids);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
	free(w);
	return lost;
}
