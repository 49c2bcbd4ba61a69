/* text.h - the display form of command lines. */
#ifndef MEMTIDE_TEXT_H
#define MEMTIDE_TEXT_H

#include <stddef.h>

/* The display form of a NUL-separated argv (len bytes, trailing NULs
 * ignored): arguments joined by spaces; with quote, an argument that is
 * empty or holds spaces or shell metacharacters is single-quoted.  Control
 * bytes and invalid UTF-8 are escaped (\n, \t, \xNN), so one command is
 * always one line.  Returns a malloc'd string, or NULL. */
char *text_argv(const char *argv, size_t len, int quote);

#endif
