/* label.h - short display names for processes and commands, and UTF-8 safe
 * truncation.  Pure string work: no cairo, no I/O. */
#ifndef MEMTIDE_PLOT_LABEL_H
#define MEMTIDE_PLOT_LABEL_H

#include <stddef.h>

/* The short form of a command line, for a legend: the program's basename
 * and the basename of every later argument that is a path and not an option
 * ("/usr/bin/python3 /srv/app/worker.py -n 3" -> "python3 worker.py -n 3").
 * Falls back to the basename of exe, then to "?", when cmdline is NULL or
 * blank (a zombie, a kernel thread).  Writes at most len bytes including the
 * NUL into buf, cut on a character boundary; returns buf. */
char *label_command(const char *cmdline, const char *exe, char *buf,
		    size_t len);

/* The length of the longest prefix of s that is at most max bytes long and
 * does not end inside a UTF-8 sequence. */
size_t label_utf8_cut(const char *s, size_t max);

#endif
