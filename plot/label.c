/* label.c - short command names (see label.h). */
#include "label.h"

#include <string.h>

/* The longest prefix of the len bytes at s that is at most max bytes and
 * does not end inside a UTF-8 sequence: back off continuation bytes
 * (10xxxxxx) so the cut lands before the lead byte of a sequence. */
static size_t cut(const char *s, size_t len, size_t max)
{
	size_t n = max;

	if (len <= max)
		return len;
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	return n;
}

size_t label_utf8_cut(const char *s, size_t max)
{
	return cut(s, strlen(s), max);
}

/* Appends len bytes of src to buf (cap bytes in all) at *used, cutting on a
 * character boundary when full. */
static void append(char *buf, size_t cap, size_t *used, const char *src,
		   size_t len)
{
	len = cut(src, len, cap - 1 - *used);
	memcpy(buf + *used, src, len);
	*used += len;
	buf[*used] = '\0';
}

static const char *base_of(const char *tok, size_t len, size_t *out_len)
{
	const char *p = tok + len;

	while (p > tok && p[-1] != '/')
		p--;
	*out_len = len - (size_t)(p - tok);
	if (*out_len == 0) { /* "dir/": keep it whole */
		*out_len = len;
		return tok;
	}
	return p;
}

char *label_command(const char *cmdline, const char *exe, char *buf, size_t len)
{
	const char *p = cmdline;
	size_t used = 0;
	int first = 1;

	if (len == 0)
		return buf;
	buf[0] = '\0';
	while (p && *p == ' ')
		p++;
	if (!p || !*p) {
		size_t n;
		const char *b;

		if (!exe || !*exe) {
			append(buf, len, &used, "?", 1);
			return buf;
		}
		b = base_of(exe, strlen(exe), &n);
		append(buf, len, &used, b, n);
		return buf;
	}
	while (*p && used + 1 < len) {
		size_t n = strcspn(p, " ");
		const char *tok = p;
		size_t tlen = n;

		if (first || (tok[0] != '-' && memchr(tok, '/', n)))
			tok = base_of(p, n, &tlen);
		if (!first)
			append(buf, len, &used, " ", 1);
		append(buf, len, &used, tok, tlen);
		first = 0;
		p += n;
		while (*p == ' ')
			p++;
	}
	return buf;
}
