/* marksock.c - the marker socket (see include/memtide/marksock.h). */
#include "memtide/marksock.h"

#include "memtide/store.h"

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

/* Spans a sender may leave open at once; beyond it the oldest is forgotten
 * (its end then falls back to ending by label), so a sender that never ends
 * its spans cannot grow the recorder. */
#define OPEN_MAX 4096

struct open_span {
	pid_t pid;
	uint64_t id;
	int64_t mark;
};

struct marksock {
	int fd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct open_span *open;
	size_t nopen;
	size_t dropped;
	char buf[MARKSOCK_MSG_MAX + 1];
};

/* Reads the mem word at p (after its '@', up to end) into ev. */
static int parse_mem(char *p, char *end, struct marksock_event *ev)
{
	while (p < end) {
		char *comma = memchr(p, ',', (size_t)(end - p)), *eq, *num_end;
		char *item_end = comma ? comma : end;
		int64_t *slot = NULL;

		eq = memchr(p, '=', (size_t)(item_end - p));
		if (!eq)
			return -EINVAL;
		if (eq - p == 3 && memcmp(p, "rss", 3) == 0)
			slot = &ev->rss;
		else if (eq - p == 4 && memcmp(p, "peak", 4) == 0)
			slot = &ev->peak;
		else if (eq - p == 3 && memcmp(p, "hwm", 3) == 0)
			slot = &ev->hwm;
		if (slot) {
			long long v;

			errno = 0;
			v = strtoll(eq + 1, &num_end, 10);
			if (errno || num_end != item_end || num_end == eq + 1 || v < 0)
				return -EINVAL;
			*slot = v;
		} else if (eq - p == 7 && memcmp(p, "outcome", 7) == 0) {
			*item_end = '\0';
			ev->outcome = eq + 1;
		}
		p = item_end + 1;
	}
	return 0;
}

int marksock_parse(char *buf, size_t len, struct marksock_event *ev)
{
	char *p, *end;
	long long level;

	buf[len] = '\0';
	if (strlen(buf) != len || len < 2)
		return -EINVAL;
	memset(ev, 0, sizeof *ev);
	if (buf[0] != 'B' && buf[0] != 'E' && buf[0] != 'M')
		return -EINVAL;
	ev->kind = (enum marksock_kind)buf[0];
	if (buf[1] != ' ')
		return -EINVAL;
	p = buf + 2;
	if (*p < '0' || *p > '9')
		return -EINVAL;
	errno = 0;
	ev->t = strtod(p, &end);
	if (errno || end == p || *end != ' ' || !(ev->t >= 0 && ev->t < 1e12))
		return -EINVAL;
	p = end + 1;
	if (*p < '0' || *p > '9')
		return -EINVAL;
	ev->id = strtoull(p, &end, 10);
	if (errno || *end != ' ')
		return -EINVAL;
	p = end + 1;
	level = strtoll(p, &end, 10);
	if (errno || end == p || level < -1 || level > INT_MAX)
		return -EINVAL;
	ev->level = (int)level;
	ev->rss = ev->peak = ev->hwm = -1;
	if (*end == ' ')
		end++;
	else if (*end)
		return -EINVAL;
	if (*end == '@') {
		char *word_end = strchr(end, ' ');

		char *label;

		if (!word_end)
			word_end = end + strlen(end);
		/* parse_mem() ends the outcome with a NUL, maybe at word_end. */
		label = *word_end ? word_end + 1 : word_end;
		if (parse_mem(end + 1, word_end, ev))
			return -EINVAL;
		end = label;
	}
	ev->label = end;
	if (!*ev->label && ev->kind != MARKSOCK_END)
		return -EINVAL;
	if (!*ev->label && ev->id == 0)
		return -EINVAL;
	return 0;
}

int marksock_format(char *buf, const struct marksock_event *ev)
{
	char mem[160] = "";
	const char *label = ev->label ? ev->label : "";
	int n;

	if (ev->rss > 0 || ev->peak > 0 || ev->hwm > 0 || ev->outcome ||
	    label[0] == '@') {
		size_t k = 0;
		const char *sep = "@";

		if (ev->rss > 0)
			k += (size_t)snprintf(mem + k, sizeof mem - k, "%srss=%lld", sep,
					      (long long)ev->rss), sep = ",";
		if (ev->peak > 0)
			k += (size_t)snprintf(mem + k, sizeof mem - k, "%speak=%lld", sep,
					      (long long)ev->peak), sep = ",";
		if (ev->hwm > 0)
			k += (size_t)snprintf(mem + k, sizeof mem - k, "%shwm=%lld", sep,
					      (long long)ev->hwm), sep = ",";
		if (ev->outcome)
			k += (size_t)snprintf(mem + k, sizeof mem - k, "%soutcome=%.64s", sep,
					      ev->outcome), sep = ",";
		if (k == 0)
			mem[k++] = '@';
		if (k < sizeof mem - 1) {
			mem[k++] = ' ';
			mem[k] = '\0';
		}
	}
	n = snprintf(buf, MARKSOCK_MSG_MAX, "%c %.6f %llu %d %s%s", (char)ev->kind, ev->t,
		     (unsigned long long)ev->id, ev->level, mem, label);
	if (n < 0 || n >= MARKSOCK_MSG_MAX)
		return -ENAMETOOLONG;
	return n;
}

/* Fills addr for path ("@name": abstract); returns its length or -errno. */
static int make_addr(const char *path, struct sockaddr_un *addr, socklen_t *len)
{
	size_t n = strlen(path);

	memset(addr, 0, sizeof *addr);
	addr->sun_family = AF_UNIX;
	if (n == 0 || n >= sizeof addr->sun_path)
		return -ENAMETOOLONG;
	memcpy(addr->sun_path, path, n);
	if (path[0] == '@')
		addr->sun_path[0] = '\0';
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	return 0;
}

int marksock_open(const char *path, struct marksock **out)
{
	struct marksock *m = calloc(1, sizeof *m);
	struct sockaddr_un addr;
	socklen_t alen;
	int one = 1, err;

	*out = NULL;
	if (!m)
		return -ENOMEM;
	if ((err = make_addr(path, &addr, &alen))) {
		free(m);
		return err;
	}
	m->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (m->fd < 0 ||
	    setsockopt(m->fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof one) < 0 ||
	    bind(m->fd, (struct sockaddr *)&addr, alen) < 0) {
		err = -errno;
		if (m->fd >= 0)
			close(m->fd);
		free(m);
		return err;
	}
	if (path[0] != '@')
		snprintf(m->path, sizeof m->path, "%s", path);
	*out = m;
	return 0;
}

int marksock_fd(const struct marksock *m)
{
	return m->fd;
}

void marksock_close(struct marksock *m)
{
	if (!m)
		return;
	close(m->fd);
	if (m->path[0])
		unlink(m->path);
	free(m->open);
	free(m);
}

size_t marksock_dropped(const struct marksock *m)
{
	return m->dropped;
}

int marksock_recv(struct marksock *m, struct marksock_event *ev)
{
	for (;;) {
		union {
			struct cmsghdr h;
			char buf[CMSG_SPACE(sizeof(struct ucred))];
		} ctl;
		struct iovec iov = {m->buf, MARKSOCK_MSG_MAX};
		struct msghdr msg = {
			.msg_iov = &iov,
			.msg_iovlen = 1,
			.msg_control = ctl.buf,
			.msg_controllen = sizeof ctl.buf,
		};
		struct cmsghdr *c;
		ssize_t n = recvmsg(m->fd, &msg, MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if ((msg.msg_flags & MSG_TRUNC) || marksock_parse(m->buf, (size_t)n, ev)) {
			m->dropped++;
			continue;
		}
		/* Without credentials (it cannot happen with SO_PASSCRED) the
		 * sender is nobody in particular, never uid 0. */
		ev->pid = 0;
		ev->uid = (uid_t)-1;
		for (c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
			if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
				struct ucred u;

				memcpy(&u, CMSG_DATA(c), sizeof u);
				ev->pid = u.pid;
				ev->uid = u.uid;
			}
		return 1;
	}
}

static struct open_span *find_open(struct marksock *m, pid_t pid, uint64_t id)
{
	for (size_t i = m->nopen; i-- > 0;)
		if (m->open[i].pid == pid && m->open[i].id == id)
			return &m->open[i];
	return NULL;
}

static void remember(struct marksock *m, pid_t pid, uint64_t id, int64_t mark)
{
	if (!m->open && !(m->open = calloc(OPEN_MAX, sizeof *m->open)))
		return;
	if (m->nopen == OPEN_MAX) {
		memmove(m->open, m->open + 1, (OPEN_MAX - 1) * sizeof *m->open);
		m->nopen--;
	}
	m->open[m->nopen++] = (struct open_span){pid, id, mark};
}

/* The end's peak and outcome, and the sender's kernel peak: it reset
 * VmHWM, so the run keeps the largest it reported. */
static int store_extras(struct store *s, int64_t run, int64_t mark,
			const struct marksock_event *ev)
{
	int err = 0;

	if (mark && (ev->peak > 0 || ev->outcome))
		err = store_mark_outcome(s, mark, ev->peak > 0 ? ev->peak : -1, ev->outcome);
	if (!err && ev->hwm > 0 && ev->pid > 0)
		err = store_pid_hwm(s, run, (int)ev->pid, ev->hwm);
	return err;
}

int marksock_store(struct marksock *m, struct store *s, int64_t run,
		   const struct marksock_event *ev)
{
	struct open_span *o;
	int64_t id;
	int err;

	if (ev->kind == MARKSOCK_END) {
		if (ev->id && (o = find_open(m, ev->pid, ev->id))) {
			id = o->mark;
			*o = m->open[--m->nopen];
			if ((err = store_mark_end(s, id, ev->t, ev->rss > 0 ? ev->rss : -1)))
				return err;
			return store_extras(s, run, id, ev);
		}
		if (!ev->label || !*ev->label)
			return -ENOENT;
		/* An unknown sender ((uid_t)-1) matches no marker's uid. */
		return store_mark_end_label(s, run, ev->label, (long long)ev->uid, ev->t);
	}
	{
		struct store_mark mk = {
			.run = run,
			.label = ev->label,
			.start = ev->t,
			.end = -1,
			.level = ev->level,
			.pid = (int)ev->pid,
			.mem_start = ev->rss > 0 ? ev->rss : -1,
			.mem_end = -1,
		};

		if ((err = store_mark_add(s, &mk, &id)) || (err = store_mark_uid(s, id, ev->uid == (uid_t)-1 ? -1 : (long long)ev->uid)))
			return err;
		if ((err = store_extras(s, run, 0, ev)))
			return err;
	}
	if (ev->kind == MARKSOCK_BEGIN && ev->id)
		remember(m, ev->pid, ev->id, id);
	return 0;
}

int marksock_drain(struct marksock *m, struct store *s, int64_t run, int max)
{
	struct marksock_event ev;
	int n = 0, rc, in_tx = 0;

	while (n < max && (rc = marksock_recv(m, &ev)) == 1) {
		if (!in_tx) {
			if (store_begin(s))
				return -EBUSY;
			in_tx = 1;
		}
		if (marksock_store(m, s, run, &ev))
			m->dropped++;
		else
			n++;
	}
	if (in_tx && store_commit(s))
		return -EIO;
	return n;
}

int marksock_send(const char *path, const struct marksock_event *ev)
{
	char buf[MARKSOCK_MSG_MAX];
	struct sockaddr_un addr;
	struct timeval tv = {1, 0};
	socklen_t alen;
	int fd, n, err = 0;

	if ((err = make_addr(path, &addr, &alen)))
		return err;
	if ((n = marksock_format(buf, ev)) < 0)
		return n;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* A recorder too busy to drain its queue costs a sender at most a
	 * second, never a hang. */
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	if (sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&addr, alen) < 0)
		err = -errno;
	close(fd);
	return err;
}
