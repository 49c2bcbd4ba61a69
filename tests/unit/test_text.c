/* test_text.c - UTF-8 checks and the display form of command lines. */
#include "harness.h"

#include "memtide/text.h"

#include <stdlib.h>
#include <string.h>

#define U(s) (const unsigned char *)(s)

TEST(utf8_valid_sequences)
{
	CHECK_EQ_INT(text_utf8_len(U("a"), 1), 1);
	CHECK_EQ_INT(text_utf8_len(U("\xc3\xa9"), 2), 2);         /* é */
	CHECK_EQ_INT(text_utf8_len(U("\xe2\x82\xac"), 3), 3);     /* € */
	CHECK_EQ_INT(text_utf8_len(U("\xed\x9f\xbf"), 3), 3);     /* U+D7FF */
	CHECK_EQ_INT(text_utf8_len(U("\xee\x80\x80"), 3), 3);     /* U+E000 */
	CHECK_EQ_INT(text_utf8_len(U("\xf0\x9f\x98\x80"), 4), 4); /* 😀 */
	CHECK_EQ_INT(text_utf8_len(U("\xf4\x8f\xbf\xbf"), 4), 4); /* U+10FFFF */
}

/* RFC 3629 refuses what text.c once let through: surrogates (which metrics.c
 * refused: the two disagreed), overlong forms, code points past U+10FFFF,
 * and sequences cut short by the end of the buffer. */
TEST(utf8_refused_sequences)
{
	CHECK_EQ_INT(text_utf8_len(U("\xed\xa0\x80"), 3), 0);     /* U+D800 */
	CHECK_EQ_INT(text_utf8_len(U("\xed\xbf\xbf"), 3), 0);     /* U+DFFF */
	CHECK_EQ_INT(text_utf8_len(U("\xc0\xaf"), 2), 0);         /* overlong / */
	CHECK_EQ_INT(text_utf8_len(U("\xe0\x80\xaf"), 3), 0);     /* overlong / */
	CHECK_EQ_INT(text_utf8_len(U("\xf0\x80\x80\xaf"), 4), 0); /* overlong / */
	CHECK_EQ_INT(text_utf8_len(U("\xf4\x90\x80\x80"), 4), 0); /* U+110000 */
	CHECK_EQ_INT(text_utf8_len(U("\x80"), 1), 0);
	CHECK_EQ_INT(text_utf8_len(U("\xe2\x82\xac"), 2), 0); /* cut short */
	CHECK_EQ_INT(text_utf8_len(U(""), 0), 0);
}

TEST(argv_escapes_a_surrogate)
{
	static const char argv[] = "python3\0x\xed\xa0\x80y\0\xe2\x82\xac";
	char *s = text_argv(argv, sizeof argv - 1, 0);

	CHECK(s != NULL);
	CHECK_EQ_STR(s, "python3 x\\xed\\xa0\\x80y \xe2\x82\xac");
	free(s);
}

TEST(ends_with_and_base_name)
{
	CHECK(text_ends_with("run.py", 6, ".py"));
	CHECK(!text_ends_with("run.py", 5, ".py"));
	CHECK(!text_ends_with("py", 2, ".py"));
	CHECK(text_ends_with("a.service\0junk", 9, ".service"));
	CHECK_EQ_STR(text_base_name("/usr/bin/python3"), "python3");
	CHECK_EQ_STR(text_base_name("python3"), "python3");
	CHECK_EQ_STR(text_base_name("dir/"), "");
}
