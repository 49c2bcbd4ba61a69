/* test_pystack_lines.c - line-table decoding of lib/pystack_line.c against
 * real tables: tests/fixtures/pystack/lines-3.X.txt hold the line table of
 * lines_src.sample as each CPython compiled it, with the line CPython
 * itself gives every instruction (run from the source root). */
#include "harness.h"
#include "pystack_layout.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define FIXTURES "tests/fixtures/pystack/"
#define MAX_TABLE 4096

typedef int (*decode_fn)(const uint8_t *, size_t, int, int);

static decode_fn decoder(int minor)
{
	return minor <= 9 ? pystack_line_lnotab : minor == 10 ? pystack_line_310 : pystack_line_311;
}

/* Checks every "at OFFSET LINE" of one fixture; returns how many. */
static int check_fixture(const char *name, int *failed_)
{
	char path[256], line[16384];
	uint8_t table[MAX_TABLE];
	size_t n = 0;
	int minor = 0, first = 0, checked = 0;
	FILE *f;

	snprintf(path, sizeof path, FIXTURES "%s", name);
	f = fopen(path, "r");
	CHECK(f != NULL);
	if (!f)
		return 0;
	while (fgets(line, sizeof line, f)) {
		int off, want;

		if (sscanf(line, "version 3.%d", &minor) == 1 ||
		    sscanf(line, "firstlineno %d", &first) == 1)
			continue;
		if (strncmp(line, "table ", 6) == 0) {
			for (const char *h = line + 6; h[0] && h[1] && h[0] != '\n' && n < MAX_TABLE;
			     h += 2) {
				unsigned b;

				sscanf(h, "%2x", &b);
				table[n++] = (uint8_t)b;
			}
		} else if (sscanf(line, "at %d %d", &off, &want) == 2) {
			int got = decoder(minor)(table, n, first, off);

			if (got != want) {
				fprintf(stderr, "  %s: offset %d: line %d, want %d\n", name, off, got,
					want);
				*failed_ = 1;
			}
			checked++;
		}
	}
	fclose(f);
	return checked;
}

TEST(pystack_lines_every_version)
{
	static const struct {
		const char *file;
		int instructions;
	} fx[] = {
		{ "lines-3.8.txt", 88 },   { "lines-3.9.txt", 87 },   { "lines-3.10.txt", 87 },
		{ "lines-3.11.txt", 187 }, { "lines-3.12.txt", 175 }, { "lines-3.13.txt", 184 },
	};

	for (size_t i = 0; i < sizeof fx / sizeof fx[0]; i++)
		CHECK_EQ_INT(check_fixture(fx[i].file, failed_), fx[i].instructions);
}

/* The return statement sits 170 lines below the previous one: the long
 * forms (3.8-3.10: several pairs; 3.11+: a varint delta) must add up. */
TEST(pystack_lines_long_jump)
{
	/* lnotab: (0, +127) then (2, +43): offset 2 is 170 lines below. */
	static const uint8_t lnotab[] = { 0, 127, 2, 43 };
	/* 3.10: 2 bytes at +1, then (0,+127), then 2 bytes at +43. */
	static const uint8_t t310[] = { 2, 1, 0, 127, 2, 43 };
	/* 3.11: no-column form (code 13), one code unit, delta +170 as a
	 * signed varint: 340 = 0b101010100 -> 0x54|0x40, 0x05. */
	static const uint8_t t311[] = { 0x80 | (13 << 3), 0x02, 0x80 | (13 << 3), 0x54 | 0x40, 0x05 };

	CHECK_EQ_INT(pystack_line_lnotab(lnotab, sizeof lnotab, 10, 0), 10 + 127 - 127 + 127);
	CHECK_EQ_INT(pystack_line_lnotab(lnotab, sizeof lnotab, 10, 2), 180);
	CHECK_EQ_INT(pystack_line_310(t310, sizeof t310, 10, 0), 11);
	CHECK_EQ_INT(pystack_line_310(t310, sizeof t310, 10, 2), 181);
	CHECK_EQ_INT(pystack_line_311(t311, sizeof t311, 10, 0), 11);
	CHECK_EQ_INT(pystack_line_311(t311, sizeof t311, 10, 2), 181);
}

/* "No line" entries give 0; a table cut short, pointing past its end or
 * giving a negative line gives 0, never a read outside it. */
TEST(pystack_lines_no_line_and_torn)
{
	static const uint8_t t310[] = { 4, 1, 2, (uint8_t)-128 };
	static const uint8_t t311[] = { 0x80 | (15 << 3), 0x80 | (13 << 3) | 1, 0x02 };
	static const uint8_t torn311[] = { 0x80 | (14 << 3) | 7, 0x41, 0x41, 0x41 };

	CHECK_EQ_INT(pystack_line_310(t310, sizeof t310, 10, 2), 11);
	CHECK_EQ_INT(pystack_line_310(t310, sizeof t310, 10, 4), 0);
	CHECK_EQ_INT(pystack_line_310(t310, sizeof t310, 10, 6), 0);
	CHECK_EQ_INT(pystack_line_311(t311, sizeof t311, 10, 0), 0);
	CHECK_EQ_INT(pystack_line_311(t311, sizeof t311, 10, 2), 11);
	CHECK_EQ_INT(pystack_line_311(t311, sizeof t311, 10, 6), 0);
	CHECK_EQ_INT(pystack_line_311(torn311, sizeof torn311, 10, 0), 0); /* line -2070 */
	CHECK_EQ_INT(pystack_line_311(t311, 0, 10, 0), 0);
	CHECK_EQ_INT(pystack_line_lnotab(t310, 1, 10, 8), 10);
}

/* 3.13's _Py_DebugOffsets: a wrong cookie, another version or a
 * free-threaded build are refused. */
TEST(pystack_layout_debug_offsets_refused)
{
	uint8_t buf[PYSTACK_DEBUG_OFFSETS_BYTES] = { 0 };
	struct pystack_layout L;
	uint64_t version = 0x030e00f0;

	CHECK_EQ_INT(pystack_layout_from_debug(buf, sizeof buf, &L), -EINVAL);
	memcpy(buf, "xdebugpy", 8);
	memcpy(buf + 8, &version, 8);
	CHECK_EQ_INT(pystack_layout_from_debug(buf, sizeof buf, &L), -EINVAL);
	version = 0x030d00f0;
	memcpy(buf + 8, &version, 8);
	buf[16] = 1;
	CHECK_EQ_INT(pystack_layout_from_debug(buf, sizeof buf, &L), -EINVAL);
	CHECK_EQ_INT(pystack_layout_from_debug(buf, 100, &L), -EINVAL);
	CHECK(pystack_layout_for(7) == NULL);
	CHECK(pystack_layout_for(14) == NULL);
	CHECK(pystack_layout_for(12) != NULL);
}
