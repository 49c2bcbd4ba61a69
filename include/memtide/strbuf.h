/* strbuf.h - a growing string buffer for code that builds text piece by
 * piece (metrics pages, redacted command lines).  After a failed allocation
 * every append is a no-op and oom is set, so the caller checks once at the
 * end; p stays NUL-terminated after the first append.
 */
#ifndef MEMTIDE_STRBUF_H
#define MEMTIDE_STRBUF_H

#include <stddef.h>

struct strbuf {
	char *p;         /* malloc'd, the caller frees it; NULL before any append */
	size_t len, cap; /* bytes held (without the NUL), bytes allocated */
	int oom;         /* an allocation failed: the contents are incomplete */
};

/* Makes room for more bytes ahead (one allocation for a page of known
 * size).  Returns 1, or 0 after a failed allocation. */
int strbuf_reserve(struct strbuf *b, size_t more);
/* Appends n bytes of s (which may hold NULs). */
void strbuf_add(struct strbuf *b, const char *s, size_t n);
/* Appends the NUL-terminated s. */
void strbuf_str(struct strbuf *b, const char *s);
/* Appends printf output, cut at 255 bytes. */
void strbuf_printf(struct strbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
