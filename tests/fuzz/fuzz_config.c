/* fuzz_config.c - config_parse on any file: it succeeds with a usable
 * config (at least one named rule, durations in bounds and on the 10 ms tick
 * where the daemon needs it) or fails with "F:LINE: message" naming a line
 * of the input and leaves the config empty. */
#include "fuzz.h"

#include "memtide/config.h"

#include <errno.h>

#define S 1000000000LL

static void check_ok(const struct config *c)
{
	FUZZ_ASSERT(c->path && strcmp(c->path, "F") == 0);
	FUZZ_ASSERT(c->database && *c->database);
	FUZZ_ASSERT(c->interval_ns >= CONFIG_TICK_NS && c->interval_ns <= 3600 * S);
	FUZZ_ASSERT(c->interval_ns % CONFIG_TICK_NS == 0);
	FUZZ_ASSERT(c->scan_ns >= S / 10 && c->scan_ns <= 3600 * S);
	FUZZ_ASSERT(c->retention_ns >= 60 * S);
	FUZZ_ASSERT(c->rollup_retention_ns >= 60 * S);
	FUZZ_ASSERT(config_level_name(c->log_level) != NULL);
	FUZZ_ASSERT(!c->metrics || *c->metrics);
	for (size_t i = 0; i < c->nredact; i++)
		FUZZ_ASSERT(c->redact[i] != NULL);
	FUZZ_ASSERT(c->nrules >= 1 && c->rules);
	for (size_t i = 0; i < c->nrules; i++) {
		const struct config_rule *r = &c->rules[i];
		int64_t iv = config_rule_interval(c, r);

		FUZZ_ASSERT(r->name && *r->name);
		for (size_t j = 0; j < i; j++)
			FUZZ_ASSERT(strcmp(c->rules[j].name, r->name) != 0);
		FUZZ_ASSERT(r->python >= -1 && r->python <= 1);
		FUZZ_ASSERT(r->children == 0 || r->children == 1);
		FUZZ_ASSERT(r->pss == 0 || r->pss == 1);
		FUZZ_ASSERT(r->pid >= 0 && r->pid <= 4194304);
		FUZZ_ASSERT(!r->cmdline || *r->cmdline);
		FUZZ_ASSERT(!r->unit || *r->unit);
		FUZZ_ASSERT((r->user != NULL) == (r->uid >= 0));
		FUZZ_ASSERT(iv >= CONFIG_TICK_NS && iv % CONFIG_TICK_NS == 0);
		if (r->cmdline) /* the compiled regex is usable */
			regexec(&r->cmdline_re, "python3 -m x", 0, NULL, 0);
	}
}

/* "F:N: message" with 1 <= N <= the number of lines in the input. */
static void check_err(const char *err, const uint8_t *data, size_t size)
{
	size_t lines = 1;
	long n = 0;
	const char *s;

	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n';
	FUZZ_ASSERT(strncmp(err, "F:", 2) == 0);
	for (s = err + 2; *s >= '0' && *s <= '9' && n < 1000000000; s++)
		n = n * 10 + (*s - '0');
	FUZZ_ASSERT(s > err + 2 && s[0] == ':' && s[1] == ' ' && s[2]);
	FUZZ_ASSERT(n >= 1 && (size_t)n <= lines);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config c;
	char err[1024];
	char *text;
	int rc;

	if (size > 16384) /* glibc regcomp is not the subject here */
		return 0;
	text = fuzz_exact(data, size);
	memset(&c, 0xa5, sizeof c);
	err[0] = '\0';
	rc = config_parse("F", text, size, &c, err, sizeof err);
	if (rc == 0) {
		check_ok(&c);
		config_free(&c);
	} else {
		FUZZ_ASSERT(rc == -EINVAL || rc == -ENOMEM);
		if (rc == -EINVAL)
			check_err(err, data, size);
		FUZZ_ASSERT(c.nrules == 0 && c.rules == NULL && c.path == NULL);
	}
	free(text);
	return 0;
}
