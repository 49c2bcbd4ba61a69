/* fuzz_procfs_statm.c - procfs_parse_statm on any bytes. */
#include "fuzz.h"

#include "memtide/procfs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = fuzz_exact(data, size);
	int64_t rss = -1;

	if (procfs_parse_statm(buf, size, &rss) == 0)
		FUZZ_ASSERT(size >= 3); /* two numbers and a separator at least */
	free(buf);
	return 0;
}
