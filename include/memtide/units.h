/* units.h - parsing and printing of durations and sizes, for every program. */
#ifndef MEMTIDE_UNITS_H
#define MEMTIDE_UNITS_H

#include <stddef.h>
#include <stdint.h>

/* Parses a duration: a number of seconds ("0.01", "2", as mprof takes them)
 * or a number with a unit ("10ms", "1.5s", "2m", "1h", "14d").  Returns 0 and
 * *ns (> 0), or -EINVAL for anything else: empty, negative, zero, trailing
 * garbage, or above 100 days. */
int units_parse_duration(const char *s, int64_t *ns);
/* The same with another upper bound, max_ns (memtided's retentions run to
 * years). */
int units_parse_duration_max(const char *s, int64_t max_ns, int64_t *ns);

/* Parses a size: bytes ("4096") or a number with a unit, a space allowed
 * between, any case: B, K/KiB, M/MiB, G/GiB, T/TiB (powers of 1024), KB,
 * MB, GB, TB (powers of 1000).  Returns 0 and *bytes (>= 0), or -EINVAL. */
int units_parse_bytes(const char *s, int64_t *bytes);

/* Formats bytes with a binary unit and one decimal: "301.2 MiB", "512 B".
 * Returns buf. */
char *units_format_bytes(int64_t bytes, char *buf, size_t len);

/* Formats a duration in seconds: "0.5 s", "12.3 s", "4 min 05 s",
 * "2 h 03 min".  Returns buf. */
char *units_format_duration(double seconds, char *buf, size_t len);

#endif
