/* units.c - durations and sizes (see include/memtide/units.h). */
#include "memtide/units.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int units_parse_duration(const char *s, int64_t *ns)
{
	return units_parse_duration_max(s, 100 * 86400 * INT64_C(1000000000), ns);
}

int units_parse_duration_max(const char *s, int64_t max_ns, int64_t *ns)
{
	static const struct {
		const char *name;
		double seconds;
	} suffix[] = {
		{"", 1},     {"s", 1},    {"ms", 1e-3},  {"us", 1e-6}, {"m", 60},
		{"min", 60}, {"h", 3600}, {"d", 86400},
	};
	char *end;
	double v;

	if (!s || !*s || *s == ' ')
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || !(v > 0) || !isfinite(v))
		return -EINVAL;
	for (size_t i = 0; i < sizeof suffix / sizeof suffix[0]; i++) {
		if (strcmp(end, suffix[i].name) == 0) {
			double t = v * suffix[i].seconds;

			if (t * 1e9 > (double)max_ns || t < 1e-6)
				return -EINVAL;
			*ns = (int64_t)(t * 1e9 + 0.5);
			return 0;
		}
	}
	return -EINVAL;
}

char *units_format_bytes(int64_t bytes, char *buf, size_t len)
{
	static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	double v = (double)bytes;
	int u = 0;

	while ((v >= 1024 || v <= -1024) && u < 4) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%lld B", (long long)bytes);
	else
		snprintf(buf, len, "%.1f %s", v, unit[u]);
	return buf;
}

char *units_format_duration(double seconds, char *buf, size_t len)
{
	long s = (long)seconds;

	if (seconds < 60)
		snprintf(buf, len, "%.1f s", seconds);
	else if (seconds < 3600)
		snprintf(buf, len, "%ld min %02ld s", s / 60, s % 60);
	else
		snprintf(buf, len, "%ld h %02ld min", s / 3600, s / 60 % 60);
	return buf;
}

int units_parse_bytes(const char *s, int64_t *bytes)
{
	static const struct {
		const char *name;
		double bytes;
	} suffix[] = {
		{"", 1},          {"b", 1},          {"k", 1024.0},     {"kib", 1024.0},
		{"kb", 1e3},      {"m", 1048576.0},  {"mib", 1048576.0}, {"mb", 1e6},
		{"g", 1073741824.0}, {"gib", 1073741824.0}, {"gb", 1e9},
		{"t", 1099511627776.0}, {"tib", 1099511627776.0}, {"tb", 1e12},
	};
	char *end;
	double v;

	if (!s || !*s || *s == ' ' || *s == '-')
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || !(v >= 0) || !isfinite(v))
		return -EINVAL;
	while (*end == ' ')
		end++;
	for (size_t i = 0; i < sizeof suffix / sizeof suffix[0]; i++) {
		if (strcasecmp(end, suffix[i].name) == 0) {
			double b = v * suffix[i].bytes;

			if (b > 9e18)
				return -EINVAL;
			*bytes = (int64_t)(b + 0.5);
			return 0;
		}
	}
	return -EINVAL;
}
