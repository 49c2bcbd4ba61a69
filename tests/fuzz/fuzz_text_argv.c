/* fuzz_text_argv.c - text_argv on any argv bytes: the display form is one
 * line of printable text. */
#include "fuzz.h"

#include "memtide/text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int quote = size && (data[0] & 1);
	char *argv = fuzz_exact(data, size);

	for (int q = 0; q < 2; q++) {
		char *out = text_argv(argv, size, q ^ quote);

		FUZZ_ASSERT(out != NULL);
		for (const unsigned char *p = (const unsigned char *)out; *p; p++)
			FUZZ_ASSERT(*p >= 0x20 && *p != 0x7f);
		free(out);
	}
	free(argv);
	return 0;
}
