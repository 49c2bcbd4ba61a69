/* test_procfs_uid.c - procfs_uid is the real uid of status's Uid: line,
 * not the owner of /proc/PID (the effective uid: root for a setuid program
 * someone else started). */
#include "harness.h"

#include "memtide/procfs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

TEST(procfs_uid_is_the_real_uid)
{
	char root[] = "/tmp/memtide-unit-XXXXXX", dir[64], path[96];

	CHECK(mkdtemp(root) != NULL);
	snprintf(dir, sizeof dir, "%s/4242", root);
	CHECK_EQ_INT(mkdir(dir, 0755), 0);
	snprintf(path, sizeof path, "%s/status", dir);
	write_file(path, "Name:\tpasswd\nUmask:\t0022\nState:\tS (sleeping)\n"
			 "Uid:\t1000\t0\t0\t0\nGid:\t1000\t1000\t1000\t1000\n");
	CHECK_EQ_INT(procfs_uid(root, 4242), 1000);
	/* Without the line (an old fixture), the directory's owner. */
	write_file(path, "Name:\tx\n");
	CHECK_EQ_INT(procfs_uid(root, 4242), (long)getuid());
	unlink(path);
	rmdir(dir);
	CHECK_EQ_INT(procfs_uid(root, 4242), -1);
	rmdir(root);
}
