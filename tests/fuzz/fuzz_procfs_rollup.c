/* fuzz_procfs_rollup.c - procfs_parse_rollup on any bytes. */
#include "fuzz.h"

#include "memtide/procfs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = fuzz_exact(data, size);
	struct procfs_rollup r;

	if (procfs_parse_rollup(buf, size, &r) == 0)
		FUZZ_ASSERT(memmem(buf, size, "Pss:", 4) != NULL);
	free(buf);
	return 0;
}
