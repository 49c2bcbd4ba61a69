/* text.h - the display form of command lines, and UTF-8 checks. */
#ifndef MEMTIDE_TEXT_H
#define MEMTIDE_TEXT_H

#include <stddef.h>

/* The display form of a NUL-separated argv (len bytes, trailing NULs
 * ignored): arguments joined by spaces; with quote, an argument that is
 * empty or holds spaces or shell metacharacters is single-quoted.  Control
 * bytes and invalid UTF-8 are escaped (\n, \t, \xNN), so one command is
 * always one line.  Returns a malloc'd string, or NULL. */
char *text_argv(const char *argv, size_t len, int quote);

/* The length (1-4) of the valid UTF-8 sequence at p, of at most n bytes,
 * or 0 when there is none: a stray continuation byte, a truncated or
 * overlong sequence, a UTF-16 surrogate (U+D800-U+DFFF) or a code point
 * above U+10FFFF (RFC 3629). */
size_t text_utf8_len(const unsigned char *p, size_t n);

/* Whether the n bytes at s end with the NUL-terminated suffix. */
int text_ends_with(const char *s, size_t n, const char *suffix);
/* The last component of path: what follows its last '/', or path. */
const char *text_base_name(const char *path);

#endif
