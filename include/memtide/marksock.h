/* marksock.h - the marker socket: how a program being recorded says "this
 * block starts", "it ends", or "this moment", without ever slowing the
 * recorder down.
 *
 * The recorder (memtide run; memtided later) binds a unix datagram socket
 * and names it to the programs it records in $MEMTIDE_MARK_SOCKET
 * (MARKSOCK_ENV).  A path that starts with '@' is in the abstract namespace.
 * Senders (python/memtide/__init__.py, memtide mark) send one datagram per
 * event and never wait for an answer; the recorder calls marksock_drain()
 * once per tick, which reads what is queued without blocking and writes it
 * to the store.  The kernel tells the receiver each sender's pid
 * (SO_PASSCRED), so a message cannot claim another process.
 *
 * A datagram (text, at most MARKSOCK_MSG_MAX bytes):
 *     <kind> <time> <id> <level> <label>
 *   kind   'B' a span begins, 'E' it ends, 'M' a moment
 *   time   Unix seconds with a fraction ("1713264000.102130"), taken by the
 *          sender when the event happened
 *   id     the sender's number for a span (unique per sender pid; B and E
 *          carry the same one); 0: none
 *   level  nesting depth, 0 outermost (mprof's FUNC stack level); -1: not
 *          known
 *   mem    optional, one word that starts with '@': comma-separated
 *          key=value pairs, unknown keys ignored:
 *            rss=N      the sender's own resident set at the event (bytes)
 *            peak=N     (E) the sender's peak while the span was open (bytes)
 *            hwm=N      the sender's VmHWM before it reset it (bytes): the
 *                       peak since its previous event
 *            outcome=W  (E) a word kept with the marker ("passed")
 *          A sender whose label starts with '@' sends the word ("@" alone
 *          when it has nothing to say), so the label is never taken for it.
 *   label  the rest of the datagram (spaces allowed; empty only for E)
 * An 'E' ends the span its sender began with that id; with id 0, the latest
 * open marker of the run with that label sent by the same user (memtide mark
 * LABEL --end): a sender never ends another user's marker.  Sender pid and
 * uid come from the kernel (SCM_CREDENTIALS), never from the message.
 *
 * In the store (mark table, marks view): B adds a marker with end NULL and
 * E sets its end; M adds a marker that keeps end NULL.  rss becomes
 * mem_start (B, M) or mem_end (E), peak mem_peak, outcome outcome; without
 * them they stay NULL and the samples around start/end tell the memory.
 * hwm raises the sender's proc.hwm in the run (senders reset VmHWM, so the
 * kernel no longer remembers it: see python/memtide/__init__.py).
 *
 * For memtided: open one marksock (say /run/memtided/mark.sock, mode 0666,
 * since any user's program may mark), poll marksock_fd() with the rest, and
 * call marksock_drain() with the run a sender belongs to when its pid is
 * known; marksock_recv() gives the events one by one when the daemon must
 * route them itself.
 */
#ifndef MEMTIDE_MARKSOCK_H
#define MEMTIDE_MARKSOCK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define MARKSOCK_ENV "MEMTIDE_MARK_SOCKET"
#define MARKSOCK_MSG_MAX 4096

struct store;
struct marksock;

enum marksock_kind { MARKSOCK_BEGIN = 'B', MARKSOCK_END = 'E', MARKSOCK_MOMENT = 'M' };

struct marksock_event {
	enum marksock_kind kind;
	double t;          /* Unix seconds */
	uint64_t id;       /* 0: none */
	int level;         /* -1: not known */
	pid_t pid;         /* the sender, from the kernel; 0 when unknown */
	uid_t uid;         /* the sender, from the kernel; (uid_t)-1 unknown */
	const char *label; /* NUL-terminated, valid until the next receive */
	/* The optional mem word; -1 / NULL when absent. */
	int64_t rss, peak, hwm; /* bytes */
	const char *outcome;    /* NUL-terminated, inside the buffer */
};

/* Parses one datagram of len bytes (need not be NUL-terminated).  label
 * points into buf, which must have room for a NUL at buf[len] (it is
 * written there).  Returns 0, or -EINVAL for a malformed message. */
int marksock_parse(char *buf, size_t len, struct marksock_event *ev);

/* Formats an event into buf (at least MARKSOCK_MSG_MAX bytes); returns the
 * length, or -ENAMETOOLONG when the label does not fit.  The mem word is
 * written when a field is set (rss, peak or hwm > 0, or an outcome) or the
 * label starts with '@'. */
int marksock_format(char *buf, const struct marksock_event *ev);

/* Binds a new non-blocking, close-on-exec datagram socket at path (a file
 * that must not exist yet, or "@name" for the abstract namespace).  Returns
 * 0 and *out, or -errno. */
int marksock_open(const char *path, struct marksock **out);
/* The socket's fd, for poll(). */
int marksock_fd(const struct marksock *m);
/* Closes the socket and removes its file. */
void marksock_close(struct marksock *m);

/* Receives one queued event without blocking: 1 with *ev, 0 when nothing
 * is queued, -errno on failure.  Malformed datagrams are skipped (counted
 * in marksock_dropped()). */
int marksock_recv(struct marksock *m, struct marksock_event *ev);
/* Malformed or unstorable events since the socket was opened. */
size_t marksock_dropped(const struct marksock *m);

/* Stores one event in run: B and M add a marker (with the sender's uid), E
 * ends one (see above).
 * Spans begun through m are remembered by (pid, id) until they end. */
int marksock_store(struct marksock *m, struct store *s, int64_t run,
		   const struct marksock_event *ev);

/* Receives and stores at most max queued events in one transaction, without
 * blocking.  Returns how many were stored, or -errno (the store's message
 * in store_errmsg()). */
int marksock_drain(struct marksock *m, struct store *s, int64_t run, int max);

/* Sends one event to the socket at path (a sender's side: memtide mark).
 * Returns 0 or -errno (-ENOENT / -ECONNREFUSED: nobody listens there). */
int marksock_send(const char *path, const struct marksock_event *ev);

#endif
