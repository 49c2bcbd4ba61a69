/* fuzz_procfs_stat.c - procfs_parse_stat on any bytes: a hostile comm can
 * hold ')', spaces, newlines and NULs. */
#include "fuzz.h"

#include "memtide/procfs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = fuzz_exact(data, size);
	struct procfs_stat st;
	char comm[17];

	memset(comm, 'x', sizeof comm);
	if (procfs_parse_stat(buf, size, &st, comm, sizeof comm) == 0) {
		FUZZ_ASSERT(memchr(comm, '\0', sizeof comm) != NULL);
		FUZZ_ASSERT(memchr(buf, ')', size) != NULL);
	}
	/* Without a comm buffer too: the other path. */
	procfs_parse_stat(buf, size, &st, NULL, 0);
	free(buf);
	return 0;
}
