/* discover.c - /proc scans and proc connector events (see
 * include/memtide/discover.h). */
#include "memtide/discover.h"

#include <dirent.h>
#include <errno.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <unistd.h>

int discover_scan(const char *root, void (*fn)(int pid, void *arg), void *arg)
{
	DIR *d = opendir(root);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		char *end;
		long pid;

		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		pid = strtol(e->d_name, &end, 10);
		if (*end || pid <= 0 || pid > 0x7fffffff)
			continue;
		fn((int)pid, arg);
		n++;
	}
	closedir(d);
	return n;
}

/* One netlink message carrying one connector message: the operation
 * alone, or (Linux 6.6+, struct proc_input) followed by the events wanted.
 * Older kernels ignore a message of the second size, so it is sent only to
 * those that know it. */
struct cn_req {
	struct nlmsghdr nl;
	struct cn_msg cn;
	uint32_t op;         /* enum proc_cn_mcast_op */
	uint32_t event_type; /* a mask of PROC_EVENT_*: what to receive */
} __attribute__((packed));

/* Whether the running kernel filters connector events by type (6.6+). */
static int kernel_filters_events(void)
{
	struct utsname u;
	int major = 0, minor = 0;

	if (uname(&u) < 0 || sscanf(u.release, "%d.%d", &major, &minor) != 2)
		return 0;
	return major > 6 || (major == 6 && minor >= 6);
}

/* Subscribes; event_type 0: every event, in the original 4-byte form. */
static int events_open(uint32_t event_type)
{
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK, .nl_groups = CN_IDX_PROC,
				 .nl_pid = 0};
	struct cn_req req;
	size_t data = event_type ? 2 * sizeof(uint32_t) : sizeof(uint32_t);
	int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
			NETLINK_CONNECTOR), err;
	int rcvbuf = 1 << 20;

	if (fd < 0)
		return -errno;
	/* A burst of forks (a make -j, a pool starting) must not overflow
	 * the socket between two reads; SO_RCVBUFFORCE works as root. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
		goto fail;
	memset(&req, 0, sizeof req);
	req.nl.nlmsg_len = (uint32_t)(NLMSG_LENGTH(sizeof req.cn) + data);
	req.nl.nlmsg_type = NLMSG_DONE;
	req.nl.nlmsg_pid = (unsigned)getpid();
	req.cn.id.idx = CN_IDX_PROC;
	req.cn.id.val = CN_VAL_PROC;
	req.cn.len = (uint16_t)data;
	req.op = PROC_CN_MCAST_LISTEN;
	req.event_type = event_type;
	if (send(fd, &req, req.nl.nlmsg_len, 0) < 0)
		goto fail;
	return fd;
fail:
	err = -errno;
	close(fd);
	return err;
}

int discover_events_open(void)
{
	return events_open(0);
}

int discover_events_open_exits(void)
{
	return events_open(kernel_filters_events() ? (uint32_t)PROC_EVENT_EXIT : 0);
}

int discover_events_read(int fd, struct discover_event *v, size_t cap)
{
	char buf[8192] __attribute__((aligned(NLMSG_ALIGNTO)));
	size_t k = 0;

	while (k < cap) {
		struct sockaddr_nl from;
		socklen_t flen = sizeof from;
		ssize_t n = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &flen);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			return -errno;
		}
		/* Only the kernel speaks for the proc connector: a process
		 * could send this socket made-up forks and exits. */
		if (flen < sizeof from || from.nl_family != AF_NETLINK || from.nl_pid != 0)
			continue;
		for (struct nlmsghdr *nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, (size_t)n);
		     nh = NLMSG_NEXT(nh, n)) {
			struct cn_msg *cn = NLMSG_DATA(nh);
			struct proc_event evbuf, *ev = &evbuf;

			if (nh->nlmsg_type == NLMSG_ERROR || nh->nlmsg_type == NLMSG_NOOP)
				continue;
			if (k >= cap)
				break;
			/* The event sits 4 bytes past an 8-byte boundary (after the
			 * 20-byte cn_msg): copied out, not read in place. */
			{
				size_t have = nh->nlmsg_len > NLMSG_LENGTH(sizeof *cn)
						      ? nh->nlmsg_len - NLMSG_LENGTH(sizeof *cn)
						      : 0;

				memset(&evbuf, 0, sizeof evbuf);
				memcpy(&evbuf, cn->data, have < sizeof evbuf ? have : sizeof evbuf);
			}
			switch (ev->what) {
			case PROC_EVENT_FORK:
				/* Threads fork too (clone): only new processes. */
				if (ev->event_data.fork.child_pid != ev->event_data.fork.child_tgid)
					break;
				v[k++] = (struct discover_event){DISCOVER_FORK,
					ev->event_data.fork.child_tgid,
					ev->event_data.fork.parent_tgid, -1};
				break;
			case PROC_EVENT_EXEC:
				v[k++] = (struct discover_event){DISCOVER_EXEC,
					ev->event_data.exec.process_tgid, 0, -1};
				break;
			case PROC_EVENT_EXIT:
				if (ev->event_data.exit.process_pid != ev->event_data.exit.process_tgid)
					break;
				v[k++] = (struct discover_event){DISCOVER_EXIT,
					ev->event_data.exit.process_tgid, 0,
					(int)ev->event_data.exit.exit_code};
				break;
			default:
				break;
			}
		}
	}
	return (int)k;
}

void discover_events_close(int fd)
{
	if (fd >= 0)
		close(fd);
}
