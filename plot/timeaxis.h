/* timeaxis.h - wall-clock time axes for daemon history: ticks on natural
 * boundaries of the local time zone (whole seconds, minutes, hours, days,
 * months, years), their labels, and an axis title that names the zone.
 * Pure: only libc's time functions, so TZ decides the zone and a test can
 * set it.  Month names are the C locale's. */
#ifndef MEMTIDE_PLOT_TIMEAXIS_H
#define MEMTIDE_PLOT_TIMEAXIS_H

#include <stddef.h>

#define TIMEAXIS_MAX 64

enum timeaxis_unit {
	TIMEAXIS_SECOND,
	TIMEAXIS_MINUTE,
	TIMEAXIS_HOUR,
	TIMEAXIS_DAY,
	TIMEAXIS_MONTH,
	TIMEAXIS_YEAR,
};

struct timeaxis {
	enum timeaxis_unit unit;
	int step;              /* in units: 1, 2, 5, 10, 15, 30 minutes... */
	int n;                 /* ticks */
	double t[TIMEAXIS_MAX]; /* Unix seconds, increasing, within [t0, t1] */
};

/* The ticks of the coarsest-enough natural step that puts at most
 * max_ticks (>= 2) ticks in [t0, t1] (Unix seconds, t0 < t1), on local
 * boundaries: 10:15:00, 00:00 of a day, the first of a month.  Steps are
 * 1 2 5 10 15 30 s, 1 2 5 10 15 30 min, 1 2 3 6 12 h, 1 2 7 14 days,
 * 1 2 3 6 months, 1 2 5 10... years.  A window with room for fewer than
 * two of any step gets the ticks of the finest step (possibly none). */
void timeaxis_ticks(double t0, double t1, int max_ticks, struct timeaxis *a);

/* The label of tick time t on axis a: "14:05:30" (second steps), "14:05"
 * (minutes and hours; the date "21 Nov" on a local midnight), "21 Nov"
 * (days), "Nov 2026" (months), "2026" (years).  Returns buf. */
char *timeaxis_label(const struct timeaxis *a, double t, char *buf,
		     size_t len);

/* The axis title for [t0, t1]: "time (UTC), Fri 20 Nov 2026", or with two
 * dates "time (CET, UTC+01:00), 20 Nov 2026 - 22 Nov 2026".  Returns
 * buf. */
char *timeaxis_title(double t0, double t1, char *buf, size_t len);

#endif
