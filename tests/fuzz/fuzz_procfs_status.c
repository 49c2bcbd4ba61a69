/* fuzz_procfs_status.c - procfs_parse_status_hwm on any bytes. */
#include "fuzz.h"

#include "memtide/procfs.h"

#include <errno.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = fuzz_exact(data, size);
	int64_t hwm = -1;
	int rc = procfs_parse_status_hwm(buf, size, &hwm);

	FUZZ_ASSERT(rc == 0 || rc == -ENOENT || rc == -EINVAL);
	if (rc == 0)
		FUZZ_ASSERT(size > 6 && memmem(buf, size, "VmHWM:", 6) != NULL);
	free(buf);
	return 0;
}
