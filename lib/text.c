/* text.c - display forms of command lines (see include/memtide/text.h). */
#include "memtide/text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t text_utf8_len(const unsigned char *p, size_t n)
{
	unsigned c;

	if (n == 0)
		return 0;
	c = p[0];
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return n >= 2 && (p[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		if (n < 3 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80)
			return 0;
		/* E0 80..9F: overlong; ED A0..BF: a UTF-16 surrogate. */
		if ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] > 0x9f))
			return 0;
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if (n < 4 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80 ||
		    (p[3] & 0xc0) != 0x80)
			return 0;
		/* F0 80..8F: overlong; F4 90 and up: above U+10FFFF. */
		if ((c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] > 0x8f))
			return 0;
		return 4;
	}
	return 0;
}

int text_ends_with(const char *s, size_t n, const char *suffix)
{
	size_t m = strlen(suffix);

	return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

const char *text_base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

static int needs_quotes(const char *a, size_t n)
{
	if (n == 0)
		return 1;
	for (size_t i = 0; i < n; i++)
		if (strchr(" \t\n'\"\\$`*?;&|<>(){}[]~#!", a[i]) && a[i])
			return 1;
	return 0;
}

char *text_argv(const char *argv, size_t len, int quote)
{
	char *out, *o;

	while (len > 0 && argv[len - 1] == '\0')
		len--;
	/* Worst case: every byte becomes \xNN, plus quotes around each. */
	if (!(out = malloc(len * 4 + 2 * len + 3)))
		return NULL;
	o = out;
	for (size_t start = 0; start <= len;) {
		const char *a = argv + start;
		const char *nul = memchr(a, '\0', len - start);
		size_t n = nul ? (size_t)(nul - a) : len - start;
		int q = quote && needs_quotes(a, n);

		if (start)
			*o++ = ' ';
		if (q)
			*o++ = '\'';
		for (size_t i = 0; i < n;) {
			unsigned char c = (unsigned char)a[i];
			size_t u = text_utf8_len((const unsigned char *)a + i, n - i);

			if (c == '\n') {
				o += sprintf(o, "\\n");
			} else if (c == '\t') {
				o += sprintf(o, "\\t");
			} else if (c < 0x20 || c == 0x7f || !u) {
				o += sprintf(o, "\\x%02x", c);
			} else if (c == '\'' && q) {
				o += sprintf(o, "'\\''");
			} else {
				memcpy(o, a + i, u);
				o += u;
				i += u;
				continue;
			}
			i++;
		}
		if (q)
			*o++ = '\'';
		start += n + 1;
	}
	*o = '\0';
	return out;
}

/* The escaped form of the character at p (at most n bytes) into o (room
 * for 9 bytes: two \xNN and sprintf's NUL); *used gets how many bytes of p
 * it covers.  C1 controls (U+0080-U+009F) are escaped too: a terminal obeys
 * them as it does ESC. */
static size_t escape_char(char *o, const unsigned char *p, size_t n, size_t *used)
{
	size_t u = text_utf8_len(p, n);

	*used = 1;
	if (p[0] == '\n')
		return (size_t)sprintf(o, "\\n");
	if (p[0] == '\t')
		return (size_t)sprintf(o, "\\t");
	if (p[0] < 0x20 || p[0] == 0x7f || !u)
		return (size_t)sprintf(o, "\\x%02x", p[0]);
	if (u == 2 && p[0] == 0xc2 && p[1] < 0xa0) {
		*used = 2;
		return (size_t)sprintf(o, "\\x%02x\\x%02x", p[0], p[1]);
	}
	memcpy(o, p, u);
	*used = u;
	return u;
}

size_t text_escape(char *out, size_t cap, const char *s, size_t len)
{
	size_t o = 0;

	if (cap == 0)
		return 0;
	for (size_t i = 0; i < len;) {
		char e[16];
		size_t used, k = escape_char(e, (const unsigned char *)s + i, len - i, &used);

		/* Never half an escape or half a character. */
		if (o + k >= cap)
			break;
		memcpy(out + o, e, k);
		o += k;
		i += used;
	}
	out[o] = '\0';
	return o;
}
