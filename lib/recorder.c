/* recorder.c - whether the process recording a run still lives. */
#include "recorder.h"

#include "memtide/procfs.h"
#include "memtide/store.h"

#include <errno.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Reads the start time of pid (clock ticks since boot).  Returns 0, or
 * -errno: -ENOENT once it is gone. */
static int start_of(int pid, uint64_t *start)
{
	struct procfs_stat ps;
	int err = procfs_read_stat("/proc", pid, &ps);

	if (err)
		return err == -ESRCH ? -ENOENT : err;
	*start = ps.start_ticks;
	return 0;
}

int recorder_self(int *pid, uint64_t *start_ticks)
{
	*pid = (int)getpid();
	return start_of(*pid, start_ticks);
}

static int same_text(const unsigned char *a, const char *b)
{
	return a && strcmp((const char *)a, b) == 0;
}

int recorder_boot_id(char *buf, size_t len)
{
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");

	buf[0] = '\0';
	if (!f)
		return -errno;
	if (!fgets(buf, (int)len, f)) {
		fclose(f);
		buf[0] = '\0';
		return -EIO;
	}
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

int store_run_recording(struct store *s, int64_t run)
{
	sqlite3_stmt *st;
	char host[256] = "", boot[64] = "";
	uint64_t start = 0;
	int rc, pid, alive = 0;

	rc = sqlite3_prepare_v2(store_db(s), "SELECT ended IS NULL, recorder_pid,"
				" recorder_start, host, boot_id FROM run WHERE id = ?1",
				-1, &st, NULL);
	if (rc != SQLITE_OK)
		return -EIO;
	sqlite3_bind_int64(st, 1, run);
	if (sqlite3_step(st) != SQLITE_ROW || !sqlite3_column_int(st, 0) ||
	    sqlite3_column_type(st, 1) == SQLITE_NULL)
		goto out;
	gethostname(host, sizeof host - 1);
	recorder_boot_id(boot, sizeof boot);
	if (!same_text(sqlite3_column_text(st, 3), host) ||
	    !same_text(sqlite3_column_text(st, 4), boot))
		goto out;
	pid = sqlite3_column_int(st, 1);
	if (start_of(pid, &start) == 0)
		alive = start == (uint64_t)sqlite3_column_int64(st, 2);
	else
		/* Another user's recorder under hidepid (memtided's
		 * ProtectProc=invisible): it exists if it may not be
		 * signalled; its start time cannot be checked. */
		alive = kill(pid, 0) < 0 && errno == EPERM;
out:
	sqlite3_finalize(st);
	return alive;
}
