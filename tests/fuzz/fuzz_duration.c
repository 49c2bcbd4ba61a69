/* fuzz_duration.c - units_parse_duration on any string: it either refuses
 * it or gives a duration in (0, 100 days]. */
#include "fuzz.h"

#include "memtide/units.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_string(data, size);
	int64_t ns = -1;

	if (units_parse_duration(s, &ns) == 0)
		FUZZ_ASSERT(ns > 0 && ns <= 100LL * 86400 * 1000000000);
	free(s);
	return 0;
}
