/* timeaxis.c - wall-clock ticks and labels (see timeaxis.h). */
#include "timeaxis.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const struct {
	enum timeaxis_unit unit;
	int step;
	double seconds; /* roughly, to count ticks */
} steps[] = {
	{TIMEAXIS_SECOND, 1, 1},        {TIMEAXIS_SECOND, 2, 2},
	{TIMEAXIS_SECOND, 5, 5},        {TIMEAXIS_SECOND, 10, 10},
	{TIMEAXIS_SECOND, 15, 15},      {TIMEAXIS_SECOND, 30, 30},
	{TIMEAXIS_MINUTE, 1, 60},       {TIMEAXIS_MINUTE, 2, 120},
	{TIMEAXIS_MINUTE, 5, 300},      {TIMEAXIS_MINUTE, 10, 600},
	{TIMEAXIS_MINUTE, 15, 900},     {TIMEAXIS_MINUTE, 30, 1800},
	{TIMEAXIS_HOUR, 1, 3600},       {TIMEAXIS_HOUR, 2, 7200},
	{TIMEAXIS_HOUR, 3, 10800},      {TIMEAXIS_HOUR, 6, 21600},
	{TIMEAXIS_HOUR, 12, 43200},     {TIMEAXIS_DAY, 1, 86400},
	{TIMEAXIS_DAY, 2, 172800},      {TIMEAXIS_DAY, 7, 604800},
	{TIMEAXIS_DAY, 14, 1209600},    {TIMEAXIS_MONTH, 1, 2629746},
	{TIMEAXIS_MONTH, 2, 5259492},   {TIMEAXIS_MONTH, 3, 7889238},
	{TIMEAXIS_MONTH, 6, 15778476},  {TIMEAXIS_YEAR, 1, 31556952},
	{TIMEAXIS_YEAR, 2, 63113904},   {TIMEAXIS_YEAR, 5, 157784760},
	{TIMEAXIS_YEAR, 10, 315569520}, {TIMEAXIS_YEAR, 100, 3155695200},
};

/* The broken-down local time of t floored to a multiple of step units;
 * fields below the unit zeroed. */
static void floor_to(double t, enum timeaxis_unit u, int step, struct tm *tm)
{
	time_t s = (time_t)floor(t);

	localtime_r(&s, tm);
	tm->tm_isdst = -1;
	switch (u) {
	case TIMEAXIS_SECOND: tm->tm_sec -= tm->tm_sec % step; break;
	case TIMEAXIS_MINUTE:
		tm->tm_sec = 0;
		tm->tm_min -= tm->tm_min % step;
		break;
	case TIMEAXIS_HOUR:
		tm->tm_sec = tm->tm_min = 0;
		tm->tm_hour -= tm->tm_hour % step;
		break;
	case TIMEAXIS_DAY:
		tm->tm_sec = tm->tm_min = tm->tm_hour = 0;
		/* Weeks start on Mondays; two days on odd dates. */
		if (step >= 7)
			tm->tm_mday -= (tm->tm_wday + 6) % 7;
		else
			tm->tm_mday -= (tm->tm_mday - 1) % step;
		break;
	case TIMEAXIS_MONTH:
		tm->tm_sec = tm->tm_min = tm->tm_hour = 0;
		tm->tm_mday = 1;
		tm->tm_mon -= tm->tm_mon % step;
		break;
	case TIMEAXIS_YEAR:
		tm->tm_sec = tm->tm_min = tm->tm_hour = 0;
		tm->tm_mday = 1;
		tm->tm_mon = 0;
		tm->tm_year -= (tm->tm_year + 1900) % step;
		break;
	}
}

/* base advanced by k steps, through mktime so that DST and month lengths
 * come out right. */
static double advance(const struct tm *base, enum timeaxis_unit u, int step,
		      int k)
{
	struct tm tm = *base;

	switch (u) {
	case TIMEAXIS_SECOND: tm.tm_sec += k * step; break;
	case TIMEAXIS_MINUTE: tm.tm_min += k * step; break;
	case TIMEAXIS_HOUR: tm.tm_hour += k * step; break;
	case TIMEAXIS_DAY: tm.tm_mday += k * step; break;
	case TIMEAXIS_MONTH: tm.tm_mon += k * step; break;
	case TIMEAXIS_YEAR: tm.tm_year += k * step; break;
	}
	tm.tm_isdst = -1;
	return (double)mktime(&tm);
}

static void fill(double t0, double t1, enum timeaxis_unit u, int step,
		 struct timeaxis *a)
{
	struct tm base;

	a->unit = u;
	a->step = step;
	a->n = 0;
	floor_to(t0, u, step, &base);
	for (int k = 0; k < 4 * TIMEAXIS_MAX && a->n < TIMEAXIS_MAX; k++) {
		double t = advance(&base, u, step, k);

		if (t > t1 + 1e-6)
			break;
		if (t >= t0 - 1e-6 && (a->n == 0 || t > a->t[a->n - 1]))
			a->t[a->n++] = t;
	}
}

void timeaxis_ticks(double t0, double t1, int max_ticks, struct timeaxis *a)
{
	size_t nsteps = sizeof steps / sizeof steps[0];

	if (max_ticks < 2)
		max_ticks = 2;
	if (max_ticks > TIMEAXIS_MAX)
		max_ticks = TIMEAXIS_MAX;
	for (size_t i = 0; i < nsteps; i++) {
		/* The count is a guess for months and DST days: check it. */
		if ((t1 - t0) / steps[i].seconds > max_ticks + 1)
			continue;
		fill(t0, t1, steps[i].unit, steps[i].step, a);
		if (a->n <= max_ticks)
			return;
	}
	fill(t0, t1, steps[nsteps - 1].unit, steps[nsteps - 1].step, a);
}

char *timeaxis_label(const struct timeaxis *a, double t, char *buf,
		     size_t len)
{
	time_t s = (time_t)floor(t + 0.5);
	struct tm tm;
	size_t n;

	localtime_r(&s, &tm);
	switch (a->unit) {
	case TIMEAXIS_SECOND: n = strftime(buf, len, "%H:%M:%S", &tm); break;
	case TIMEAXIS_MINUTE:
	case TIMEAXIS_HOUR:
		if (tm.tm_hour == 0 && tm.tm_min == 0)
			n = strftime(buf, len, "%d %b", &tm);
		else
			n = strftime(buf, len, "%H:%M", &tm);
		break;
	case TIMEAXIS_DAY: n = strftime(buf, len, "%d %b", &tm); break;
	case TIMEAXIS_MONTH: n = strftime(buf, len, "%b %Y", &tm); break;
	default: n = strftime(buf, len, "%Y", &tm); break;
	}
	if (!n && len)
		buf[0] = '\0';
	return buf;
}

/* "UTC", or "CET, UTC+01:00": the zone's name and its offset at t. */
static void zone_of(time_t t, char *buf, size_t len)
{
	struct tm tm;
	char name[32], off_s[40];
	long off;

	localtime_r(&t, &tm);
	off = tm.tm_gmtoff;
	if (!strftime(name, sizeof name, "%Z", &tm))
		name[0] = '\0';
	if (off == 0 && (!*name || !strcmp(name, "UTC") || !strcmp(name, "GMT"))) {
		snprintf(buf, len, "UTC");
		return;
	}
	snprintf(off_s, sizeof off_s, "UTC%c%02ld:%02ld", off < 0 ? '-' : '+',
		 labs(off) / 3600, labs(off) / 60 % 60);
	/* Zones without an abbreviation name themselves "+0530". */
	if (*name && *name != '+' && *name != '-')
		snprintf(buf, len, "%.15s, %.15s", name, off_s);
	else
		snprintf(buf, len, "%s", off_s);
}

char *timeaxis_title(double t0, double t1, char *buf, size_t len)
{
	time_t a = (time_t)floor(t0), b = (time_t)floor(t1);
	struct tm ta, tb;
	char zone[64], da[32], db[32];

	localtime_r(&a, &ta);
	localtime_r(&b, &tb);
	zone_of(a, zone, sizeof zone);
	if (ta.tm_year == tb.tm_year && ta.tm_yday == tb.tm_yday) {
		strftime(da, sizeof da, "%a %d %b %Y", &ta);
		snprintf(buf, len, "time (%s), %s", zone, da);
	} else {
		strftime(da, sizeof da, "%d %b %Y", &ta);
		strftime(db, sizeof db, "%d %b %Y", &tb);
		snprintf(buf, len, "time (%s), %s \xe2\x80\x93 %s", zone, da, db);
	}
	return buf;
}
