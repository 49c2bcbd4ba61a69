/* markq.c - the marker socket of memtide run, read by a thread of its own.
 *
 * The kernel queues at most net.unix.max_dgram_qlen datagrams on a unix
 * socket (10 by default); a sender then blocks.  Read once a tick, a pytest
 * suite marking hundreds of spans a second would wait for memtide at every
 * tenth marker (or lose markers at -T 5).  This thread empties the socket as
 * datagrams arrive into memory; the sampling loop stores them each tick
 * (mark_drain), so the database still has one writer.
 */
#include "cli.h"

#include "memtide/marksock.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

/* Events held in memory (about 100 bytes each).  When it is full the
 * thread stops reading: the kernel's queue fills and senders wait (at most
 * their send timeout), as they did before there was a thread. */
#define QUEUE_MAX (1 << 16)
/* A tick stores up to this many times the loop's own bound: a burst drains
 * in a few ticks, none of which it holds up long. */
#define DRAIN_FACTOR 4
#define FULL_MS 10          /* the queue is full: look again after */

struct queued {
	struct marksock_event ev;
	char *label, *outcome;
};

static struct {
	pthread_t thread;
	int running;
	volatile int stop;
	int wake_fd; /* eventfd: stop now (the thread sleeps until a datagram) */
	pthread_mutex_t lock;
	struct queued *v;
	size_t n, cap;
	size_t dropped;
	struct marksock *m;
} q = {.lock = PTHREAD_MUTEX_INITIALIZER, .wake_fd = -1};

static void push(const struct marksock_event *ev)
{
	struct queued e = {.ev = *ev};

	e.label = strdup(ev->label ? ev->label : "");
	e.outcome = ev->outcome ? strdup(ev->outcome) : NULL;
	pthread_mutex_lock(&q.lock);
	if (q.n == q.cap && q.cap < QUEUE_MAX) {
		size_t cap = q.cap ? q.cap * 2 : 256;
		struct queued *v = realloc(q.v, cap * sizeof *v);

		if (v) {
			q.v = v;
			q.cap = cap;
		}
	}
	if (q.n < q.cap && e.label) {
		e.ev.label = e.label;
		e.ev.outcome = e.outcome;
		q.v[q.n++] = e;
		e.label = e.outcome = NULL;
	} else {
		q.dropped++;
	}
	pthread_mutex_unlock(&q.lock);
	free(e.label);
	free(e.outcome);
}

static void *reader(void *arg)
{
	struct pollfd p[2] = {{.fd = marksock_fd(arg), .events = POLLIN},
			      {.fd = q.wake_fd, .events = POLLIN}};
	struct marksock_event ev;

	while (!q.stop) {
		size_t n;

		pthread_mutex_lock(&q.lock);
		n = q.n;
		pthread_mutex_unlock(&q.lock);
		if (n >= QUEUE_MAX) {
			poll(NULL, 0, FULL_MS);
			continue;
		}
		/* No timeout: an idle run has no wake-up but its ticks. */
		if (poll(p, 2, -1) <= 0 || !p[0].revents)
			continue;
		while (n++ < QUEUE_MAX && marksock_recv(arg, &ev) == 1)
			push(&ev);
	}
	return NULL;
}

void mark_reader_start(struct marksock *m)
{
	sigset_t all, old;

	q.m = m;
	q.stop = 0;
	/* Without the eventfd the thread would never see it must stop. */
	if ((q.wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0)
		return;
	/* Signals stay with the main thread, whose loop handles them. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	q.running = pthread_create(&q.thread, NULL, reader, m) == 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!q.running) {
		close(q.wake_fd);
		q.wake_fd = -1;
	}
}

static void join_reader(void)
{
	if (q.running) {
		q.stop = 1;
		eventfd_write(q.wake_fd, 1);
		pthread_join(q.thread, NULL);
		q.running = 0;
		close(q.wake_fd);
		q.wake_fd = -1;
	}
}

void mark_reader_stop(void)
{
	join_reader();
	for (size_t i = 0; i < q.n; i++) {
		free(q.v[i].label);
		free(q.v[i].outcome);
	}
	free(q.v);
	q.v = NULL;
	q.n = q.cap = 0;
}

/* Stores at most max queued events in one transaction; returns how many,
 * or -errno (they stay queued). */
static int store_queued(struct marksock *m, struct store *s, int64_t run, int max)
{
	sqlite3 *db = store_db(s);
	size_t taken = 0;
	int n = 0, rc = 0;

	pthread_mutex_lock(&q.lock);
	if (q.n == 0) {
		pthread_mutex_unlock(&q.lock);
		return 0;
	}
	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
		pthread_mutex_unlock(&q.lock);
		return -EBUSY;
	}
	for (; taken < q.n && n < max; taken++)
		if (marksock_store(m, s, run, &q.v[taken].ev) == 0)
			n++;
	if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		rc = -EIO;
		taken = 0; /* kept for the next tick */
	}
	for (size_t i = 0; i < taken; i++) {
		free(q.v[i].label);
		free(q.v[i].outcome);
	}
	memmove(q.v, q.v + taken, (q.n - taken) * sizeof *q.v);
	q.n -= taken;
	pthread_mutex_unlock(&q.lock);
	return rc ? rc : n;
}

int mark_drain(struct marksock *m, struct store *s, int64_t run, int max)
{
	struct marksock_event ev;
	int total = 0, n, got;

	if (max < (1 << 20))
		return q.running ? store_queued(m, s, run, max * DRAIN_FACTOR)
				 : marksock_drain(m, s, run, max);
	/* The last drain: the thread stops, then what it left unread and
	 * what it queued go in, a queue at a time. */
	join_reader();
	do {
		got = 0;
		while (q.n < QUEUE_MAX && marksock_recv(m, &ev) == 1) {
			push(&ev);
			got++;
		}
		if ((n = store_queued(m, s, run, INT_MAX)) < 0)
			return n;
		total += n;
	} while (got);
	return total;
}
