/* fuzz_text_escape.c - text_escape on any bytes and any room: the result
 * fits, is one line of valid UTF-8 without control characters, and with
 * room enough says every byte (each kept or escaped). */
#include "fuzz.h"

#include "memtide/text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t cap = size ? data[0] : 0, n;
	char *in = fuzz_exact(data, size), *out = malloc(size * 8 + 1);

	FUZZ_ASSERT(out != NULL);
	for (int pass = 0; pass < 2; pass++) {
		size_t room = pass ? size * 8 + 1 : cap + 1;

		n = text_escape(out, room, in, size);
		FUZZ_ASSERT(n < room && out[n] == '\0');
		for (size_t i = 0; i < n;) {
			const unsigned char *p = (const unsigned char *)out + i;
			size_t u = text_utf8_len(p, n - i);

			FUZZ_ASSERT(u > 0);
			FUZZ_ASSERT(*p >= 0x20 && *p != 0x7f);
			FUZZ_ASSERT(!(u == 2 && p[0] == 0xc2 && p[1] < 0xa0));
			i += u;
		}
		if (pass)
			FUZZ_ASSERT(n >= size);
	}
	free(out);
	free(in);
	return 0;
}
