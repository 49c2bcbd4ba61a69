/* notify.c - sd_notify without libsystemd: one datagram to $NOTIFY_SOCKET.
 *
 * A path starting with '@' names the abstract namespace (a NUL first byte
 * in sun_path).  Failures are ignored: a missing supervisor is not an
 * error, and the watchdog will tell if messages stop arriving.
 *
 * The sampling loop never waits on the supervisor: a datagram socket whose
 * reader lags holds 10 messages (net.unix.max_dgram_qlen), then a send
 * blocks.  STATUS= and WATCHDOG=, sent every few seconds, are dropped when
 * the queue is full -- the next one says the same, newer; a change of
 * state (READY=, RELOADING=, STOPPING=) waits up to a second.
 */
#include "daemon.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

void notify(const char *fmt, ...)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char msg[512];
	size_t len;
	static const struct timeval one_second = {.tv_sec = 1};
	va_list ap;
	int fd, periodic;

	if (!path || (path[0] != '/' && path[0] != '@') || !path[1])
		return;
	len = strlen(path);
	if (len >= sizeof sa.sun_path)
		return;
	memcpy(sa.sun_path, path, len);
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = '\0';
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	periodic = strncmp(msg, "STATUS=", 7) == 0 || strncmp(msg, "WATCHDOG=", 9) == 0;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &one_second, sizeof one_second);
	if (sendto(fd, msg, strlen(msg), MSG_NOSIGNAL | (periodic ? MSG_DONTWAIT : 0),
		   (struct sockaddr *)&sa,
		   (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)) < 0)
		log_debug("sd_notify to %s failed: %m", path);
	close(fd);
}

int64_t notify_watchdog_ns(void)
{
	const char *usec = getenv("WATCHDOG_USEC"), *pid = getenv("WATCHDOG_PID");
	long long v;

	if (!usec || (pid && atol(pid) != (long)getpid()))
		return 0;
	v = atoll(usec);
	return v > 0 ? v * 1000 / 2 : 0;
}
