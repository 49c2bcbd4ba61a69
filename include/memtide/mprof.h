/* mprof.h - mprof's .dat format (memory_profiler 0.61 and older), read from
 * and written to memory buffers.  No I/O, no allocation, no policy: the
 * importer and exporter (cli/import.c, cli/export.c) decide what a line
 * means for a run, and a fuzzer can call mprof_next() on any bytes.
 *
 * The lines mprof writes (each "TAG rest", fields split by one space):
 *   CMDLINE <the command line, to the end of the line>
 *   MEM <MiB %.6f> <Unix time %.4f>            the process (or its total, -C)
 *   CHLD <pid> <MiB %.6f> <Unix time %.4f>     one child (mprof -M)
 *   FUNC <name> <MiB %.4f> <t %.4f> <MiB %.4f> <t %.4f> [<stack level>]
 *                                              a @profile'd call: memory and
 *                                              time at entry and exit; the
 *                                              level (0 outermost) is missing
 *                                              in files before 0.53
 * and the two files of mprof's first versions (the "mprofile" script, 2013):
 *   mprofile_<stamp>.dat      "<MiB> <time>": a MEM line without its tag
 *   mprofile_<stamp>_ts.dat   "<name> <t start> <t end>": a FUNC line
 *                             without tag and memory (--python timestamps)
 * Lines come in any order (FUNC lines are written when the program exits,
 * among the sampler's last MEM lines).  MiB = 2^20 bytes.
 *
 * Values are kept as scaled integers, so that a file read and written again
 * is the same text: times in units of 1e-4 s (mprof's %.4f), memory in
 * micro-MiB (1e-6 MiB, mprof's %.6f; FUNC's %.4f values are multiples of
 * 100).  More decimals than that are rounded (half away from zero).
 */
#ifndef MEMTIDE_MPROF_H
#define MEMTIDE_MPROF_H

#include <stddef.h>
#include <stdint.h>

enum mprof_tag {
	MPROF_BLANK,   /* an empty line: mprof's reader crashes on it; skip it */
	MPROF_CMDLINE, /* text */
	MPROF_MEM,     /* t, umib; also an old untagged "<MiB> <time>" line */
	MPROF_CHLD,    /* child, umib, t */
	MPROF_FUNC,    /* text (name), umib, t, umib_end, t_end, level */
	MPROF_TS_FUNC, /* old _ts.dat line: text (name), t, t_end; no memory */
};

struct mprof_line {
	enum mprof_tag tag;
	const char *text;   /* CMDLINE value or FUNC name, inside the buffer */
	size_t text_len;
	int64_t t, t_end;   /* 1e-4 s */
	int64_t umib, umib_end; /* 1e-6 MiB */
	int64_t child;      /* CHLD: the child's pid (an index in old files) */
	int level;          /* FUNC stack level, -1 when the line has none */
};

struct mprof_reader {
	const char *p, *end; /* what is left of the buffer */
	long line;           /* number of the line last returned, from 1 */
	const char *why;     /* after an error: what is wrong with that line */
};

/* Starts reading the len bytes at buf (not NUL-terminated; may hold NULs). */
void mprof_reader_init(struct mprof_reader *r, const char *buf, size_t len);

/* Reads the next line into *out.  Returns 1 with a line, 0 at the end, or
 * -EINVAL for a malformed line: r->line is its number and r->why a short
 * static message ("bad time 'x'", "unknown tag 'FOO'", ...).  A trailing
 * "\r" is ignored; a line may hold at most 1 MiB. */
int mprof_next(struct mprof_reader *r, struct mprof_line *out);

/* Bytes from micro-MiB, rounded to the nearest byte. */
int64_t mprof_bytes(int64_t umib);

/* Formats a line into buf (at least MPROF_LINE_MAX bytes, or text_len +
 * MPROF_LINE_MAX for CMDLINE and FUNC), with its "\n"; returns its length.
 * Memory is given in bytes and printed at mprof's precision, rounded half to
 * even as Python's format() does; times are in 1e-4 s. */
#define MPROF_LINE_MAX 160
size_t mprof_format_mem(char *buf, int64_t bytes, int64_t t);
size_t mprof_format_chld(char *buf, int64_t child, int64_t bytes, int64_t t);
/* The name's spaces and control bytes become '_': mprof splits on spaces.
 * level < 0 writes no level field. */
size_t mprof_format_func(char *buf, const char *name, size_t name_len,
			 int64_t bytes, int64_t t, int64_t bytes_end,
			 int64_t t_end, int level);
/* Control bytes (a newline would end the line) become '?'. */
size_t mprof_format_cmdline(char *buf, const char *text, size_t text_len);

#endif
