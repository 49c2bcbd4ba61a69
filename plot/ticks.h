/* ticks.h - "nice" axis ticks (1-2-5 steps) and the byte unit an axis is
 * labelled in.  Pure arithmetic: no cairo, no I/O. */
#ifndef MEMTIDE_PLOT_TICKS_H
#define MEMTIDE_PLOT_TICKS_H

#include <stddef.h>

/* Ticks first, first + step, ..., first + (n - 1) * step, all inside the
 * range they were computed for; decimals is how many digits after the point
 * a label needs to tell two ticks apart. */
struct ticks {
	double first, step;
	int n;
	int decimals;
};

/* A binary unit: name ("KiB", "MiB", "GiB", "TiB") and its size in bytes. */
struct ticks_unit {
	const char *name;
	double bytes;
};

/* The smallest step of the form {1, 2, 5} x 10^k such that [0, span] holds
 * at most max_ticks ticks (max_ticks >= 2).  span > 0; returns 1 otherwise. */
double ticks_step(double span, int max_ticks);

/* The ticks of step ticks_step(hi - lo, max_ticks) that fall inside [lo, hi]
 * (with a tolerance of a millionth of a step).  lo < hi; a degenerate range
 * gives one tick at lo. */
void ticks_nice(double lo, double hi, int max_ticks, struct ticks *t);

/* How many digits after the point labels of ticks step apart need. */
int ticks_decimals(double step);

/* The value of tick i, rounded onto the step so that 0.1 + 0.2 prints as 0.3
 * and zero is never negative. */
double ticks_value(const struct ticks *t, int i);

/* Formats v with t->decimals digits after the point into buf; returns buf. */
char *ticks_format(const struct ticks *t, double v, char *buf, size_t len);

/* The unit an axis whose largest value is max_bytes is labelled in: the
 * largest of KiB, MiB, GiB, TiB in which max_bytes is at least 1, so labels
 * stay below 1024 units.  0 or negative gives MiB, as mprof uses. */
const struct ticks_unit *ticks_unit_bytes(double max_bytes);

/* Formats bytes in unit with enough digits for about four significant ones
 * ("301.2 MiB", "9.88 MiB", "1.53 GiB") into buf; returns buf. */
char *ticks_format_bytes(double bytes, const struct ticks_unit *unit, char *buf,
			 size_t len);

/* A rate as a label says it, in units that fit a window of window_s
 * seconds: per second under ten minutes, else per hour, in the byte unit
 * of the rate ("+1.25 MiB/s", "-512.0 KiB/h"); for a count or a
 * percentage (bytes 0), the bare number ("+3.0/h").  per_s is units a
 * second.  Returns buf. */
char *ticks_format_rate(double per_s, double window_s, int bytes, char *buf,
			size_t len);

#endif
