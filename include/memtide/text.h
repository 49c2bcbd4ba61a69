/* text.h - the display form of command lines and of other outside text,
 * and UTF-8 checks. */
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

/* Bytes from outside (a marker label, an exe path, a whole log line) made
 * safe for a log or a terminal: newline and tab as \n and \t, other control
 * bytes (C0, DEL, C1) and invalid UTF-8 as \xNN, so they can neither start
 * a forged line nor steer a terminal.  Writes at most cap - 1 bytes of the
 * escaped form of the len bytes at s into out, cut between characters, and a
 * NUL (cap > 0).  Returns the bytes written, NUL not counted. */
size_t text_escape(char *out, size_t cap, const char *s, size_t len);

#endif
