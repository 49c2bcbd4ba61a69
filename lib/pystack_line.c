/* pystack_line.c - a code object's line table, decoded (see
 * pystack_layout.h).  Each format as CPython documents it in
 * Objects/lnotab_notes.txt (3.8 to 3.10) and Objects/locations.md (3.11+).
 * The tables come from another process and may be torn: every read stays
 * inside [t, t + n). */
#include "pystack_layout.h"

/* 3.8, 3.9: pairs (address increment, signed line increment); the line of
 * an address is the line of the last pair whose address is <= it. */
int pystack_line_lnotab(const uint8_t *t, size_t n, int firstlineno, int lasti_bytes)
{
	int line = firstlineno, addr = 0;

	for (size_t i = 0; i + 1 < n; i += 2) {
		addr += t[i];
		if (addr > lasti_bytes)
			break;
		line += (int8_t)t[i + 1];
	}
	return line;
}

/* 3.10 (PEP 626): pairs (bytes covered, signed line delta), a delta of
 * -128 meaning "no line" for that range. */
int pystack_line_310(const uint8_t *t, size_t n, int firstlineno, int lasti_bytes)
{
	int line = firstlineno, end = 0;

	if (lasti_bytes < 0)
		return firstlineno;
	for (size_t i = 0; i + 1 < n; i += 2) {
		int start = end, delta = (int8_t)t[i + 1];

		end += t[i];
		if (delta != -128)
			line += delta;
		if (start <= lasti_bytes && lasti_bytes < end)
			return delta == -128 ? 0 : line;
	}
	return 0;
}

/* A varint of the location table: 6 bits a byte, bit 6 = more follow. */
static unsigned varint(const uint8_t *t, size_t n, size_t *i)
{
	unsigned v = 0, shift = 0;

	while (*i < n) {
		uint8_t b = t[(*i)++];

		if (shift < 30)
			v |= (unsigned)(b & 63) << shift;
		shift += 6;
		if (!(b & 64))
			break;
	}
	return v;
}

static int svarint(const uint8_t *t, size_t n, size_t *i)
{
	unsigned v = varint(t, n, i);

	return (v & 1) ? -(int)(v >> 1) : (int)(v >> 1);
}

enum {
	LOC_ONE_LINE0 = 10,
	LOC_ONE_LINE2 = 12,
	LOC_NO_COLUMNS = 13,
	LOC_LONG = 14,
	LOC_NONE = 15,
};

/* 3.11+: entries each starting with a byte whose bit 7 is set, bits 3-6 a
 * code and bits 0-2 the number of code units covered minus one; the line
 * delta is a signed varint (long and no-column forms), code - 10 (one-line
 * forms) or 0 (short forms). */
int pystack_line_311(const uint8_t *t, size_t n, int firstlineno, int lasti_bytes)
{
	int line = firstlineno, end = 0;
	size_t i = 0;

	while (i < n) {
		uint8_t first = t[i++];
		int code = (first >> 3) & 15, start = end;

		if (!(first & 128))
			return 0; /* not at an entry: a torn or foreign table */
		end += ((first & 7) + 1) * 2;
		if (code == LOC_NO_COLUMNS || code == LOC_LONG) {
			size_t j = i;

			line += svarint(t, n, &j);
		} else if (code >= LOC_ONE_LINE0 && code <= LOC_ONE_LINE2) {
			line += code - LOC_ONE_LINE0;
		}
		if (start <= lasti_bytes && lasti_bytes < end)
			return code == LOC_NONE || line < 0 ? 0 : line;
		while (i < n && !(t[i] & 128))
			i++;
	}
	return 0;
}
