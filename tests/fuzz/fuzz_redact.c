/* fuzz_redact.c - redact_argv with the default rules on any argv: the
 * arguments and the NULs between them are kept, and redacting again
 * changes nothing more. */
#include "fuzz.h"

#include "memtide/redact.h"

static struct redact *rules;

static size_t nuls(const char *p, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		k += p[i] == '\0';
	return k;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *argv, *out, *again;
	size_t out_len, again_len;
	int hidden;

	if (!rules && (redact_new(&rules) || redact_add_defaults(rules)))
		abort();
	if (size > 4096) /* glibc regexec is not the subject here */
		return 0;
	argv = fuzz_exact(data, size);
	hidden = redact_argv(rules, argv, size, &out, &out_len);
	FUZZ_ASSERT(hidden >= 0);
	FUZZ_ASSERT(out[out_len] == '\0');
	FUZZ_ASSERT(nuls(out, out_len) == nuls(argv, size));
	if (hidden == 0)
		FUZZ_ASSERT(out_len == size && memcmp(out, argv, size) == 0);
	FUZZ_ASSERT(redact_argv(rules, out, out_len, &again, &again_len) >= 0);
	FUZZ_ASSERT(again_len == out_len && memcmp(again, out, out_len) == 0);
	free(again);
	free(out);
	free(argv);
	return 0;
}
