/* when.h - the points in time of --since and --until.  Pure: the caller
 * passes "now"; TZ decides what a local time means. */
#ifndef MEMTIDE_PLOT_WHEN_H
#define MEMTIDE_PLOT_WHEN_H

/* Parses s into *t (Unix seconds):
 *   a duration, meaning that long before now: "30s", "90m", "2h", "1d",
 *     "2w" (units_parse_duration's forms, and days or weeks beyond them);
 *   "now";
 *   an ISO 8601 date or date and time, local unless it says otherwise:
 *     "2026-11-20", "2026-11-20T12:00", "2026-11-20 12:00:05.5",
 *     "2026-11-20T12:00Z", "2026-11-20T12:00+01:00";
 *   "@" and Unix seconds: "@1763640000".
 * Returns 0, or -EINVAL for anything else (an impossible date included). */
int when_parse(const char *s, double now, double *t);

#endif
