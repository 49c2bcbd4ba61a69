/* fuzz.h - what every libFuzzer target of tests/fuzz/ shares.
 *
 * A target is tests/fuzz/fuzz_NAME.c defining LLVMFuzzerTestOneInput; the
 * Makefile builds each against an instrumented libmemtide.a and seeds it from
 * tests/fixtures/fuzz/NAME/.  Parsers that take (buf, len) get an exact-size
 * heap copy without a terminating NUL, so reading one byte past len is an
 * ASan report, not luck.  A broken invariant calls FUZZ_ASSERT, which aborts.
 */
#ifndef MEMTIDE_FUZZ_H
#define MEMTIDE_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_ASSERT(cond)                                                       \
	do {                                                                    \
		if (!(cond)) {                                                  \
			fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, \
				__LINE__, #cond);                               \
			abort();                                                \
		}                                                               \
	} while (0)

/* An exact-size heap copy of the input (no NUL after it). */
static inline char *fuzz_exact(const uint8_t *data, size_t size)
{
	char *p = malloc(size ? size : 1);

	if (p && size)
		memcpy(p, data, size);
	return p;
}

/* A NUL-terminated copy of the input (which may hold NULs itself). */
static inline char *fuzz_string(const uint8_t *data, size_t size)
{
	char *p = malloc(size + 1);

	if (p) {
		memcpy(p, data, size);
		p[size] = '\0';
	}
	return p;
}

#endif
