/* plot.c - memtide plot: hands the work to memtide-plot.
 *
 * Charts live in their own program so that the recorder never maps cairo
 * and its dependencies (its RSS stays small); memtide-plot is looked for
 * next to this executable first, then on PATH.
 */
#include "cli.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int cmd_plot(int argc, char **argv)
{
	char self[PATH_MAX], path[PATH_MAX + 32];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	char **args = calloc((size_t)argc + 1, sizeof *args);

	if (!args)
		return EXIT_FAIL;
	/* memtide-plot names itself so in its messages. */
	args[0] = (char *)"memtide plot";
	for (int i = 1; i < argc; i++)
		args[i] = argv[i];
	if (n > 0) {
		self[n] = '\0';
		snprintf(path, sizeof path, "%s/memtide-plot", dirname(self));
		if (access(path, X_OK) == 0)
			execv(path, args);
	}
	execvp("memtide-plot", args);
	cli_error("cannot run memtide-plot: %s (is memtide installed completely?)",
		  strerror(errno));
	free(args);
	return EXIT_FAIL;
}
