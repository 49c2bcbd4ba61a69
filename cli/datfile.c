/* datfile.c - mprof files read in place: plot and peak take FILE.dat
 * operands as mprof does, through a throwaway database, so the user's own
 * database is neither needed nor changed. */
#include "cli.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int cli_is_dat(const char *arg)
{
	size_t n = strlen(arg);
	struct stat st;

	return n > 4 && strcmp(arg + n - 4, ".dat") == 0 && stat(arg, &st) == 0 &&
	       S_ISREG(st.st_mode);
}

int cli_dat_import(char **files, int n, char *db, size_t len)
{
	const char *tmp = getenv("TMPDIR");
	char dir[PATH_MAX];

	if (!tmp || tmp[0] != '/' || strlen(tmp) > PATH_MAX - 64)
		tmp = "/tmp";
	snprintf(dir, sizeof dir, "%s/memtide-dat-XXXXXX", tmp);
	if (!mkdtemp(dir)) {
		cli_error("cannot make a temporary directory in '%s'", tmp);
		return -1;
	}
	snprintf(db, len, "%s/files.db", dir);
	if (cli_import_files(db, NULL, 1, files, n) != EXIT_OK) {
		cli_dat_cleanup(db);
		return -1;
	}
	return 0;
}

void cli_dat_cleanup(const char *db)
{
	static const char *const suffix[] = {"", "-wal", "-shm", "-journal"};
	char path[PATH_MAX + 16], *slash;

	if (!db[0])
		return;
	for (size_t i = 0; i < sizeof suffix / sizeof suffix[0]; i++) {
		snprintf(path, sizeof path, "%s%s", db, suffix[i]);
		unlink(path);
	}
	snprintf(path, sizeof path, "%s", db);
	if ((slash = strrchr(path, '/'))) {
		*slash = '\0';
		rmdir(path);
	}
}

void cli_relative_runs(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *p = argv[i];

		if (strcmp(p, "--") == 0)
			return;
		if (p[0] != '-' || !isdigit((unsigned char)p[1]))
			continue;
		while (isdigit((unsigned char)*++p))
			;
		if (!*p)
			argv[i][0] = '~';
	}
}
