/* plot.c - memtide plot: hands the work to memtide-plot.
 *
 * Charts live in their own program so that the recorder never maps cairo
 * and its dependencies (its RSS stays small); memtide-plot is looked for
 * next to this executable first, then on PATH.  mprof files named as
 * operands are read in place (cli/datfile.c): memtide-plot then draws a
 * throwaway database, removed when it is done.
 */
#include "cli.h"

#include "memtide/text.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Runs memtide-plot with args; returns only when exec failed. */
static void exec_plot(char **args)
{
	char self[PATH_MAX], path[PATH_MAX + 32];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);

	if (n > 0) {
		self[n] = '\0';
		snprintf(path, sizeof path, "%s/memtide-plot", dirname(self));
		if (access(path, X_OK) == 0)
			execv(path, args);
	}
	execvp("memtide-plot", args);
	cli_error("cannot run memtide-plot: %s (is memtide installed completely?)",
		  strerror(errno));
}

/* Plots the mprof files among args (the other operands must be options):
 * memtide-plot draws them from a throwaway database, then it goes. */
static int plot_files(int argc, char **args, int files)
{
	char db[4200], ids[16 * 64], png[PATH_MAX], **dat = calloc((size_t)files, sizeof *dat);
	char **out = calloc((size_t)argc + 5, sizeof *out);
	int k = 0, m = 0, status = 0, named = 0;
	size_t used = 0;
	pid_t pid;

	if (!dat || !out || files > 64) {
		if (files > 64)
			cli_error("at most 64 mprof files at once");
		free(dat);
		free(out);
		return EXIT_FAIL;
	}
	for (int i = 1; i < argc; i++) {
		if (cli_is_dat(args[i]))
			dat[k++] = args[i];
		named |= strcmp(args[i], "-o") == 0 || strcmp(args[i], "--output") == 0 ||
			 strncmp(args[i], "--output=", 9) == 0 ||
			 (args[i][0] == '-' && args[i][1] != '-' && strchr(args[i], 'o'));
	}
	if (cli_dat_import(dat, files, db, sizeof db)) {
		free(dat);
		free(out);
		return EXIT_FAIL;
	}
	out[m++] = args[0];
	out[m++] = (char *)"--db";
	out[m++] = db;
	if (!named) {
		/* Named for the (first) file, not "memtide_1.png" for run 1 of
		 * a database that is gone when the chart is. */
		const char *base = text_base_name(dat[0]);

		snprintf(png, sizeof png, "%.*s.png", (int)(strlen(base) - 4), base);
		out[m++] = (char *)"-o";
		out[m++] = png;
	}
	for (int i = 1, f = 0; i < argc; i++) {
		/* The files are the data: a --db of the user's is not read. */
		if (strcmp(args[i], "--db") == 0) {
			i++;
			continue;
		}
		if (strncmp(args[i], "--db=", 5) == 0)
			continue;
		if (!cli_is_dat(args[i])) {
			out[m++] = args[i];
			continue;
		}
		out[m++] = ids + used;
		used += (size_t)snprintf(ids + used, sizeof ids - used, "%d", ++f) + 1;
	}
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		exec_plot(out);
		_exit(EXIT_FAIL);
	}
	while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	cli_dat_cleanup(db);
	free(dat);
	free(out);
	if (pid < 0)
		return EXIT_FAIL;
	return WIFEXITED(status) ? WEXITSTATUS(status) : EXIT_FAIL;
}

int cmd_plot(int argc, char **argv)
{
	char **args = calloc((size_t)argc + 1, sizeof *args);
	int files = 0;

	if (!args)
		return EXIT_FAIL;
	cli_relative_runs(argc, argv);
	/* memtide-plot names itself so in its messages. */
	args[0] = (char *)"memtide plot";
	for (int i = 1; i < argc; i++) {
		args[i] = argv[i];
		files += cli_is_dat(argv[i]);
	}
	if (files) {
		int rc = plot_files(argc, args, files);

		free(args);
		return rc;
	}
	exec_plot(args);
	free(args);
	return EXIT_FAIL;
}
