/* attachname.c - memtide attach NAME: the process to record, picked by name
 * as mprof attach picks it (the first process whose name contains NAME),
 * except that a name several processes match is refused with the list of
 * them: mprof would silently take the lowest pid. */
#include "cli.h"

#include "memtide/procfs.h"
#include "memtide/text.h"

#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SHOWN_MAX 20 /* candidates listed */

/* The command line of pid for the list, or its name. */
static void print_candidate(int pid, const char *comm)
{
	size_t len = 0;
	char *argv = procfs_read_all("/proc", pid, "cmdline", 4096, &len);
	char *shown = argv && len ? text_argv(argv, len, 1) : NULL;

	fprintf(stderr, "  %7d  %s\n", pid, shown ? shown : comm);
	free(shown);
	free(argv);
}

/* The name mprof matches (psutil's name(): /proc/PID/comm). */
static int read_comm(int pid, char *comm, size_t len)
{
	long n = procfs_read("/proc", pid, "comm", comm, len);

	if (n <= 0)
		return -1;
	comm[n] = '\0';
	if (n > 0 && comm[n - 1] == '\n')
		comm[n - 1] = '\0';
	return 0;
}

int attach_by_name(const char *name)
{
	DIR *d;
	struct dirent *e;
	int *pids = NULL, n = 0, cap = 0, self = (int)getpid(), found = -1;

	if (name[strspn(name, "0123456789")] == '\0') {
		cli_error("'%s' is not a pid", name);
		return -1;
	}
	if (!(d = opendir("/proc"))) {
		cli_error("cannot read /proc");
		return -1;
	}
	while ((e = readdir(d))) {
		char comm[64];
		int pid;

		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		pid = atoi(e->d_name);
		if (pid == self || read_comm(pid, comm, sizeof comm - 1) || !strstr(comm, name))
			continue;
		if (n == cap) {
			int *v = realloc(pids, (size_t)(cap = cap ? cap * 2 : 16) * sizeof *v);

			if (!v)
				break;
			pids = v;
		}
		pids[n++] = pid;
	}
	closedir(d);
	if (n == 1)
		found = pids[0];
	else if (n == 0)
		cli_error("no process named like '%s' (attach takes a pid or a part of a "
			  "process name)", name);
	else {
		cli_error("%d processes are named like '%s': give a pid", n, name);
		for (int i = 0; i < n && i < SHOWN_MAX; i++) {
			char comm[64];

			if (read_comm(pids[i], comm, sizeof comm - 1) == 0)
				print_candidate(pids[i], comm);
		}
		if (n > SHOWN_MAX)
			fprintf(stderr, "  ... and %d more\n", n - SHOWN_MAX);
		found = -2;
	}
	free(pids);
	return found;
}
