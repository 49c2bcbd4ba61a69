/* httpd.c - the /metrics server (see include/memtide/httpd.h). */
#include "memtide/httpd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct page {
	size_t refs; /* under httpd.lock */
	size_t len;
	char *data;
};

enum client_state { READING, WRITING, DRAINING };

struct client {
	int fd; /* -1: free slot */
	enum client_state state;
	int64_t since_ms;    /* accepted at */
	int64_t deadline_ms;
	char *req;           /* HTTPD_MAX_REQUEST + 1 bytes while READING */
	size_t rlen;
	size_t scanned;      /* bytes of req already searched for the head's end */
	char head[256];
	size_t hlen;
	struct page *page; /* the page being sent, referenced */
	const char *body;
	size_t blen;
	size_t sent; /* of head, then of body */
};

struct httpd {
	int listen_fd, wake[2];
	int port, timeout_ms, head_ms;
	pthread_t thread;
	pthread_mutex_t lock;
	struct page *page; /* the current one, referenced; NULL before any */
	char host[64];     /* the address bound, as a Host header names it */
	uint64_t evicted;  /* under lock */
	struct client clients[HTTPD_MAX_CLIENTS];
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int parse_port(const char *s, int *port)
{
	long v = 0;

	if (!*s || strlen(s) > 5)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		v = v * 10 + (*s - '0');
	}
	if (v > 65535)
		return -EINVAL;
	*port = (int)v;
	return 0;
}

/* Numeric addresses only: a name would need a lookup at every (re)start,
 * and a daemon's config should say exactly where it listens. */
static int parse_addr(const char *addr, struct sockaddr_storage *ss,
		      socklen_t *len)
{
	char host[64];
	const char *colon, *port_s;
	int port;

	memset(ss, 0, sizeof *ss);
	if (!addr)
		return -EINVAL;
	if (addr[0] == '[') {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
		const char *end = strchr(addr, ']');

		if (!end || end[1] != ':' || (size_t)(end - addr - 1) >= sizeof host)
			return -EINVAL;
		memcpy(host, addr + 1, (size_t)(end - addr - 1));
		host[end - addr - 1] = '\0';
		if (parse_port(end + 2, &port) || inet_pton(AF_INET6, host, &a->sin6_addr) != 1)
			return -EINVAL;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)port);
		*len = sizeof *a;
		return 0;
	}
	struct sockaddr_in *a = (struct sockaddr_in *)ss;

	colon = strrchr(addr, ':');
	if (colon) {
		if ((size_t)(colon - addr) >= sizeof host)
			return -EINVAL;
		memcpy(host, addr, (size_t)(colon - addr));
		host[colon - addr] = '\0';
		port_s = colon + 1;
	} else {
		strcpy(host, "127.0.0.1");
		port_s = addr;
	}
	if (parse_port(port_s, &port) || inet_pton(AF_INET, host, &a->sin_addr) != 1)
		return -EINVAL;
	a->sin_family = AF_INET;
	a->sin_port = htons((uint16_t)port);
	*len = sizeof *a;
	return 0;
}

int httpd_check_addr(const char *addr)
{
	struct sockaddr_storage ss;
	socklen_t len;

	return parse_addr(addr, &ss, &len);
}

static void page_unref(struct httpd *h, struct page *p)
{
	size_t refs;

	if (!p)
		return;
	pthread_mutex_lock(&h->lock);
	refs = --p->refs;
	pthread_mutex_unlock(&h->lock);
	if (!refs) {
		free(p->data);
		free(p);
	}
}

static struct page *page_current(struct httpd *h)
{
	struct page *p;

	pthread_mutex_lock(&h->lock);
	p = h->page;
	if (p)
		p->refs++;
	pthread_mutex_unlock(&h->lock);
	return p;
}

int httpd_publish(struct httpd *h, char *page, size_t len)
{
	struct page *p = malloc(sizeof *p), *old;

	if (!p) {
		free(page);
		return -ENOMEM;
	}
	p->refs = 1;
	p->len = len;
	p->data = page;
	pthread_mutex_lock(&h->lock);
	old = h->page;
	h->page = p;
	pthread_mutex_unlock(&h->lock);
	page_unref(h, old);
	return 0;
}

static void client_close(struct httpd *h, struct client *c)
{
	close(c->fd);
	c->fd = -1;
	free(c->req);
	c->req = NULL;
	page_unref(h, c->page);
	c->page = NULL;
}

static void respond(struct client *c, int code, const char *reason,
		    const char *extra, const char *body, size_t blen)
{
	int n = snprintf(c->head, sizeof c->head,
			 "HTTP/1.0 %d %s\r\n%sContent-Length: %zu\r\n"
			 "Connection: close\r\n\r\n",
			 code, reason, extra, blen);

	c->hlen = n > 0 && (size_t)n < sizeof c->head ? (size_t)n : 0;
	c->body = body;
	c->blen = blen;
	c->sent = 0;
	c->state = WRITING;
}

static void respond_text(struct client *c, int code, const char *reason,
			 const char *extra)
{
	respond(c, code, reason,
		*extra ? extra : "Content-Type: text/plain; charset=utf-8\r\n",
		reason, strlen(reason));
}

/* Whether name (a Host header's value, port included or not) is the
 * address bound or localhost: a page of another site that a browser was
 * tricked into sending here (DNS rebinding) names that site instead. */
static int host_ok(const struct httpd *h, const char *name, size_t len)
{
	static const char *const local[] = {"localhost", "127.0.0.1", "[::1]"};
	const char *colon = NULL;

	for (size_t i = len; i-- > 0;) {
		if (name[i] == ']')
			break;
		if (name[i] == ':') {
			colon = name + i;
			break;
		}
	}
	if (colon) {
		char port[8];

		snprintf(port, sizeof port, "%d", h->port);
		if (strlen(port) != (size_t)(name + len - colon - 1) ||
		    memcmp(colon + 1, port, strlen(port)) != 0)
			return 0;
		len = (size_t)(colon - name);
	}
	if (len == strlen(h->host) && strncasecmp(name, h->host, len) == 0)
		return 1;
	/* Bound to every address, any address literal is one of ours; a
	 * rebinding attack needs a name. */
	if (strcmp(h->host, "0.0.0.0") == 0 || strcmp(h->host, "[::]") == 0) {
		char a[64];
		unsigned char bin[16];

		if (len >= 2 && len < sizeof a && name[0] == '[' && name[len - 1] == ']') {
			memcpy(a, name + 1, len - 2);
			a[len - 2] = '\0';
			if (inet_pton(AF_INET6, a, bin) == 1)
				return 1;
		} else if (len < sizeof a) {
			memcpy(a, name, len);
			a[len] = '\0';
			if (inet_pton(AF_INET, a, bin) == 1)
				return 1;
		}
	}
	for (size_t i = 0; i < sizeof local / sizeof *local; i++)
		if (len == strlen(local[i]) && strncasecmp(name, local[i], len) == 0)
			return 1;
	return 0;
}

/* Finds the Host header among the header lines at hdrs (the head, NUL
 * after the request line) and judges it; a request without one (HTTP/1.0
 * tools) is let through, since browsers always send it. */
static int host_allowed(const struct httpd *h, const char *hdrs)
{
	for (const char *l = hdrs; *l && *l != '\r' && *l != '\n';) {
		size_t n = strcspn(l, "\r\n");

		if (n > 5 && strncasecmp(l, "host:", 5) == 0) {
			const char *v = l + 5;
			size_t vn = n - 5;

			while (vn && (*v == ' ' || *v == '\t'))
				v++, vn--;
			while (vn && (v[vn - 1] == ' ' || v[vn - 1] == '\t'))
				vn--;
			return host_ok(h, v, vn);
		}
		l += n;
		if (*l == '\r')
			l++;
		if (*l == '\n')
			l++;
	}
	return 1;
}

/* Decides the answer once the whole head of the request is in. */
static void route(struct httpd *h, struct client *c)
{
	char *line = c->req, *sp1, *sp2, *q;
	size_t plen, llen = strcspn(line, "\r\n");

	/* The headers start after the request line's end, past its NUL. */
	if (line[llen] == '\r' && line[llen + 1] == '\n')
		line[++llen] = '\0';
	line[strcspn(line, "\r\n")] = '\0';
	sp1 = strchr(line, ' ');
	sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
	if (!sp1 || !sp2 || strncmp(sp2 + 1, "HTTP/1.", 7) != 0) {
		respond_text(c, 400, "Bad Request", "");
		return;
	}
	if (sp1 - line != 3 || memcmp(line, "GET", 3) != 0) {
		respond(c, 405, "Method Not Allowed",
			"Allow: GET\r\nContent-Type: text/plain; charset=utf-8\r\n",
			"Method Not Allowed", 18);
		return;
	}
	if (!host_allowed(h, line + llen + 1)) {
		respond_text(c, 421, "Misdirected Request", "");
		return;
	}
	q = memchr(sp1 + 1, '?', (size_t)(sp2 - sp1 - 1));
	plen = (size_t)((q ? q : sp2) - sp1 - 1);
	if (plen != 8 || memcmp(sp1 + 1, "/metrics", 8) != 0) {
		respond_text(c, 404, "Not Found", "");
		return;
	}
	c->page = page_current(h);
	if (!c->page) {
		respond_text(c, 503, "Service Unavailable", "");
		return;
	}
	respond(c, 200, "OK", "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n",
		c->page->data, c->page->len);
}

/* Searches only the bytes that came since the last call: a client sending
 * its head one byte at a time costs one look at each byte, not a rescan of
 * the whole buffer per byte. */
static int head_complete(struct client *c)
{
	for (size_t i = c->scanned; i < c->rlen; i++) {
		if (c->req[i] != '\n')
			continue;
		if (i >= 1 && c->req[i - 1] == '\n')
			return 1;
		if (i >= 2 && c->req[i - 1] == '\r' && c->req[i - 2] == '\n')
			return 1;
	}
	c->scanned = c->rlen;
	return 0;
}

static void on_readable(struct httpd *h, struct client *c)
{
	char sink[4096];
	ssize_t n;

	if (c->state == DRAINING) {
		/* Reading what the client still sends after the answer, so
		 * that closing does not reset the connection before it has
		 * read the answer. */
		n = recv(c->fd, sink, sizeof sink, 0);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
			client_close(h, c);
		return;
	}
	if (!c->req && !(c->req = malloc(HTTPD_MAX_REQUEST + 1))) {
		client_close(h, c);
		return;
	}
	n = recv(c->fd, c->req + c->rlen, HTTPD_MAX_REQUEST - c->rlen, 0);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		client_close(h, c);
		return;
	}
	if (n < 0)
		return;
	c->rlen += (size_t)n;
	c->req[c->rlen] = '\0';
	if (memchr(c->req + c->rlen - (size_t)n, '\0', (size_t)n))
		respond_text(c, 400, "Bad Request", "");
	else if (head_complete(c))
		route(h, c);
	else if (c->rlen == HTTPD_MAX_REQUEST)
		respond_text(c, 431, "Request Header Fields Too Large", "");
	else
		return;
	/* The answer is decided: the request is no longer needed. */
	free(c->req);
	c->req = NULL;
}

static void on_writable(struct httpd *h, struct client *c)
{
	const char *p;
	size_t left;
	ssize_t n;

	if (c->sent < c->hlen) {
		p = c->head + c->sent;
		left = c->hlen - c->sent;
	} else {
		p = c->body + (c->sent - c->hlen);
		left = c->blen - (c->sent - c->hlen);
	}
	n = send(c->fd, p, left, MSG_NOSIGNAL | (c->sent < c->hlen ? MSG_MORE : 0));
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			client_close(h, c);
		return;
	}
	c->sent += (size_t)n;
	if (c->sent == c->hlen + c->blen) {
		shutdown(c->fd, SHUT_WR);
		page_unref(h, c->page);
		c->page = NULL;
		c->state = DRAINING;
	}
}

/* An abortive close (RST): a plain one would leave the kernel trickling
 * the rest of the page to a client too slow to read it. */
static void client_abort(struct httpd *h, struct client *c)
{
	struct linger abort = {.l_onoff = 1, .l_linger = 0};

	setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &abort, sizeof abort);
	client_close(h, c);
}

/* A free slot; when every one is taken, the one that has been sending its
 * request the longest is evicted (counted), as redis does past maxclients:
 * a scraper sends its request at once, so only a client holding a slot
 * without asking for anything loses it.  NULL when all are being answered. */
static struct client *free_slot(struct httpd *h)
{
	struct client *oldest = NULL;

	for (int i = 0; i < HTTPD_MAX_CLIENTS; i++) {
		struct client *c = &h->clients[i];

		if (c->fd < 0)
			return c;
		if (c->state == READING && (!oldest || c->since_ms < oldest->since_ms))
			oldest = c;
	}
	pthread_mutex_lock(&h->lock);
	h->evicted++;
	pthread_mutex_unlock(&h->lock);
	if (oldest)
		client_abort(h, oldest);
	return oldest;
}

/* Takes every connection waiting in the backlog (at most a slot's worth a
 * round), so that a scrape never waits behind connections not yet seen. */
static void accept_all(struct httpd *h)
{
	for (int k = 0; k < HTTPD_MAX_CLIENTS; k++) {
		int fd = accept4(h->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct client *c;

		if (fd < 0)
			return;
		if (!(c = free_slot(h))) {
			close(fd);
			continue;
		}
		c->fd = fd;
		c->state = READING;
		c->rlen = c->scanned = 0;
		c->since_ms = now_ms();
		/* The head must come quickly; the answer may take longer to
		 * be read. */
		c->deadline_ms = c->since_ms + h->head_ms;
	}
}

static void *serve(void *arg)
{
	struct httpd *h = arg;
	struct pollfd pfd[2 + HTTPD_MAX_CLIENTS];
	int who[2 + HTTPD_MAX_CLIENTS];

	for (;;) {
		int64_t now = now_ms(), next = -1;
		int n = 0, timeout;

		pfd[n++] = (struct pollfd){.fd = h->wake[0], .events = POLLIN};
		for (int i = 0; i < HTTPD_MAX_CLIENTS; i++) {
			struct client *c = &h->clients[i];

			if (c->fd < 0)
				continue;
			if (now >= c->deadline_ms) {
				client_abort(h, c);
				continue;
			}
			if (next < 0 || c->deadline_ms < next)
				next = c->deadline_ms;
			who[n] = i;
			pfd[n++] = (struct pollfd){
				.fd = c->fd,
				.events = c->state == WRITING ? POLLOUT : POLLIN};
		}
		/* New connections are always taken (accept_all evicts). */
		who[n] = -1;
		pfd[n++] = (struct pollfd){.fd = h->listen_fd, .events = POLLIN};
		timeout = next < 0 ? -1 : (int)(next - now);
		if (poll(pfd, (nfds_t)n, timeout) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[0].revents)
			break;
		for (int k = 1; k < n; k++) {
			struct client *c;

			if (!pfd[k].revents)
				continue;
			if (who[k] < 0) {
				accept_all(h);
				continue;
			}
			c = &h->clients[who[k]];
			if (c->fd < 0) /* evicted by accept_all above */
				continue;
			if (c->state == WRITING)
				on_writable(h, c);
			else
				on_readable(h, c);
		}
	}
	return NULL;
}

/* The bound address as a Host header writes it ("[::1]" for IPv6). */
static void host_of(const struct sockaddr_storage *ss, char *out, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET6) {
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ss)->sin6_addr, a, sizeof a);
		snprintf(out, len, "[%s]", a);
	} else {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, a, sizeof a);
		snprintf(out, len, "%s", a);
	}
}

int httpd_start(const char *addr, int timeout_ms, struct httpd **out)
{
	struct sockaddr_storage ss;
	socklen_t len;
	struct httpd *h;
	sigset_t all, old;
	int one = 1, err;

	if ((err = parse_addr(addr, &ss, &len)))
		return err;
	h = calloc(1, sizeof *h);
	if (!h)
		return -ENOMEM;
	h->timeout_ms = timeout_ms > 0 ? timeout_ms : HTTPD_TIMEOUT_MS;
	h->head_ms = h->timeout_ms < HTTPD_HEAD_MS ? h->timeout_ms : HTTPD_HEAD_MS;
	h->wake[0] = h->wake[1] = -1;
	for (int i = 0; i < HTTPD_MAX_CLIENTS; i++)
		h->clients[i].fd = -1;
	pthread_mutex_init(&h->lock, NULL);
	h->listen_fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (h->listen_fd < 0)
		goto fail;
	setsockopt(h->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (ss.ss_family == AF_INET6)
		setsockopt(h->listen_fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
	if (bind(h->listen_fd, (struct sockaddr *)&ss, len) < 0 ||
	    listen(h->listen_fd, HTTPD_MAX_CLIENTS) < 0)
		goto fail;
	len = sizeof ss;
	if (getsockname(h->listen_fd, (struct sockaddr *)&ss, &len) < 0)
		goto fail;
	h->port = ntohs(ss.ss_family == AF_INET6
				? ((struct sockaddr_in6 *)&ss)->sin6_port
				: ((struct sockaddr_in *)&ss)->sin_port);
	host_of(&ss, h->host, sizeof h->host);
	if (pipe2(h->wake, O_CLOEXEC | O_NONBLOCK) < 0)
		goto fail;
	/* Signals are the main thread's business: the server thread starts
	 * with all of them blocked. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&h->thread, NULL, serve, h);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		errno = err;
		goto fail;
	}
	*out = h;
	return 0;
fail:
	err = -errno;
	if (h->listen_fd >= 0)
		close(h->listen_fd);
	if (h->wake[0] >= 0) {
		close(h->wake[0]);
		close(h->wake[1]);
	}
	pthread_mutex_destroy(&h->lock);
	free(h);
	return err;
}

uint64_t httpd_evicted(struct httpd *h)
{
	uint64_t n;

	pthread_mutex_lock(&h->lock);
	n = h->evicted;
	pthread_mutex_unlock(&h->lock);
	return n;
}

int httpd_port(const struct httpd *h)
{
	return h->port;
}

void httpd_stop(struct httpd *h)
{
	if (!h)
		return;
	while (write(h->wake[1], "x", 1) < 0 && errno == EINTR)
		;
	pthread_join(h->thread, NULL);
	for (int i = 0; i < HTTPD_MAX_CLIENTS; i++)
		if (h->clients[i].fd >= 0)
			client_close(h, &h->clients[i]);
	page_unref(h, h->page);
	close(h->listen_fd);
	close(h->wake[0]);
	close(h->wake[1]);
	pthread_mutex_destroy(&h->lock);
	free(h);
}
