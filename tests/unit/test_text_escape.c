/* test_text_escape.c - outside text made safe for a log line: no byte of
 * it can start a new line, steer a terminal or pass as UTF-8 it is not. */
#include "harness.h"

#include "memtide/text.h"

#include <string.h>

static const char *esc(const char *s, size_t len, size_t cap)
{
	static char out[256];

	text_escape(out, cap, s, len);
	return out;
}

TEST(text_escape_cases)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
		{"plain label", "plain label"},
		{"x\nmemtided: error: database corrupted", "x\\nmemtided: error: database corrupted"},
		{"<3>forged", "<3>forged"}, /* harmless: never at the start of a line */
		{"a\rb\tc\x1b[31m", "a\\x0db\\tc\\x1b[31m"},
		{"del\x7f", "del\\x7f"},
		{"caf\xc3\xa9 \xe2\x82\xac", "caf\xc3\xa9 \xe2\x82\xac"},   /* valid UTF-8 kept */
		{"bad \xff\xfe end", "bad \\xff\\xfe end"},
		{"cut \xe2\x82", "cut \\xe2\\x82"},                          /* truncated */
		{"csi \xc2\x9b" "2J", "csi \\xc2\\x9b2J"},                  /* C1 control */
		{"overlong \xc0\xaf", "overlong \\xc0\\xaf"},
	};

	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
		CHECK_EQ_STR(esc(cases[i].in, strlen(cases[i].in), 256), cases[i].want);
	/* A NUL inside is a control byte like any other. */
	CHECK_EQ_STR(esc("a\0b", 3, 256), "a\\x00b");
}

TEST(text_escape_cuts_between_characters)
{
	char out[8];

	/* "ab\n" + "\xff": 2 + 2 + 4 bytes; room for 7 takes "ab\\n", never
	 * half of "\\xff". */
	CHECK_EQ_INT(text_escape(out, sizeof out, "ab\n\xff", 4), 4);
	CHECK_EQ_STR(out, "ab\\n");
	CHECK_EQ_INT(text_escape(out, 4, "\xe2\x82\xac\xe2\x82\xac", 6), 3);
	CHECK_EQ_STR(out, "\xe2\x82\xac");
	CHECK_EQ_INT(text_escape(out, 1, "abc", 3), 0);
	CHECK_EQ_STR(out, "");
}
