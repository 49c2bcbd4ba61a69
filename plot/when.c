/* when.c - --since and --until (see when.h). */
#include "when.h"

#include "memtide/units.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Days and weeks past units_parse_duration()'s 100-day bound: a year of
 * history is a fair thing to ask for. */
static int long_duration(const char *s, double *seconds)
{
	char *end;
	double v;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || !(v > 0) || !isfinite(v))
		return -EINVAL;
	if (strcmp(end, "d") == 0)
		v *= 86400;
	else if (strcmp(end, "w") == 0)
		v *= 7 * 86400;
	else
		return -EINVAL;
	if (v > 100 * 365.25 * 86400)
		return -EINVAL;
	*seconds = v;
	return 0;
}

/* Reads exactly n digits at *p into *v. */
static int digits(const char **p, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++, (*p)++) {
		if (!isdigit((unsigned char)**p))
			return -EINVAL;
		*v = *v * 10 + (**p - '0');
	}
	return 0;
}

static int iso(const char *s, double *t)
{
	const char *p = s;
	int y, mo, d, h = 0, mi = 0, sec = 0, utc = 0, oh, om;
	long off = 0;
	double frac = 0;
	struct tm tm = {0};
	time_t r;

	if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) ||
	    *p++ != '-' || digits(&p, 2, &d))
		return -EINVAL;
	if (*p == 'T' || *p == ' ') {
		p++;
		if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi))
			return -EINVAL;
		if (*p == ':') {
			p++;
			if (digits(&p, 2, &sec))
				return -EINVAL;
			if (*p == '.') {
				char *end;

				frac = strtod(p, &end);
				if (end == p + 1)
					return -EINVAL;
				p = end;
			}
		}
	}
	if (*p == 'Z') {
		utc = 1;
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p++ == '-' ? -1 : 1;

		if (digits(&p, 2, &oh))
			return -EINVAL;
		if (*p == ':')
			p++;
		if (digits(&p, 2, &om) || oh > 23 || om > 59)
			return -EINVAL;
		utc = 1;
		off = sign * (oh * 3600L + om * 60L);
	}
	if (*p || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
	    sec > 60)
		return -EINVAL;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	tm.tm_isdst = -1;
	r = utc ? timegm(&tm) : mktime(&tm);
	/* mktime() normalises 31 Nov into 1 Dec: refuse what moved. */
	if (r == (time_t)-1 || tm.tm_mday != d || tm.tm_mon != mo - 1)
		return -EINVAL;
	*t = (double)r - (double)off + frac;
	return 0;
}

int when_parse(const char *s, double now, double *t)
{
	int64_t ns;
	double secs;
	char *end;

	if (!s || !*s)
		return -EINVAL;
	if (strcmp(s, "now") == 0) {
		*t = now;
		return 0;
	}
	if (*s == '@') {
		errno = 0;
		*t = strtod(s + 1, &end);
		return end == s + 1 || *end || errno || !isfinite(*t) ? -EINVAL
								      : 0;
	}
	if (strlen(s) >= 10 && s[4] == '-')
		return iso(s, t);
	if (units_parse_duration(s, &ns) == 0) {
		*t = now - (double)ns / 1e9;
		return 0;
	}
	if (long_duration(s, &secs) == 0) {
		*t = now - secs;
		return 0;
	}
	return -EINVAL;
}
