/* ticks.c - nice 1-2-5 ticks and byte units (see ticks.h). */
#include "ticks.h"

#include <math.h>
#include <stdio.h>

double ticks_step(double span, int max_ticks)
{
	static const double mant[] = {1, 2, 5};
	double mag;

	if (!(span > 0) || !isfinite(span))
		return 1;
	if (max_ticks < 2)
		max_ticks = 2;
	/* Start one decade below the rough step so rounding never skips the
	 * best candidate, then walk up 1, 2, 5, 10, 20, ... */
	mag = pow(10, floor(log10(span / (max_ticks - 1))) - 1);
	for (;;) {
		for (int i = 0; i < 3; i++) {
			double step = mant[i] * mag;

			if (floor(span / step + 1e-9) + 1 <= max_ticks)
				return step;
		}
		mag *= 10;
	}
}

int ticks_decimals(double step)
{
	int d = -(int)floor(log10(step) + 1e-9);

	return d > 0 ? d : 0;
}

void ticks_nice(double lo, double hi, int max_ticks, struct ticks *t)
{
	double step, k0, k1;

	if (!(hi > lo)) {
		t->first = lo;
		t->step = 1;
		t->n = 1;
		t->decimals = 0;
		return;
	}
	step = ticks_step(hi - lo, max_ticks);
	k0 = ceil(lo / step - 1e-6);
	k1 = floor(hi / step + 1e-6);
	t->first = k0 * step;
	t->step = step;
	t->n = (int)(k1 - k0) + 1;
	t->decimals = ticks_decimals(step);
}

double ticks_value(const struct ticks *t, int i)
{
	double k = round(t->first / t->step) + i;
	double v = k * t->step;

	return v == 0 ? 0 : v;
}

char *ticks_format(const struct ticks *t, double v, char *buf, size_t len)
{
	double r = v;

	/* "%.1f" of -0.04 would print "-0.0". */
	if (fabs(v) < 0.5 * pow(10, -t->decimals))
		r = 0;
	snprintf(buf, len, "%.*f", t->decimals, r);
	return buf;
}

const struct ticks_unit *ticks_unit_bytes(double max_bytes)
{
	static const struct ticks_unit units[] = {
		{"KiB", 1024.0},
		{"MiB", 1024.0 * 1024},
		{"GiB", 1024.0 * 1024 * 1024},
		{"TiB", 1024.0 * 1024 * 1024 * 1024},
	};
	size_t u = 0;

	if (!(max_bytes > 0))
		return &units[1];
	while (u + 1 < sizeof units / sizeof units[0] &&
	       max_bytes >= units[u + 1].bytes)
		u++;
	return &units[u];
}

char *ticks_format_bytes(double bytes, const struct ticks_unit *unit, char *buf,
			 size_t len)
{
	double v = bytes / unit->bytes;
	int d = fabs(v) >= 10 ? 1 : 2;

	snprintf(buf, len, "%.*f %s", d, v, unit->name);
	return buf;
}

char *ticks_format_rate(double per_s, double window_s, int bytes, char *buf,
			size_t len)
{
	/* A rate per hour of a 35-second run is a figure nobody saw happen. */
	int per_second = window_s < 600;
	double v = per_s * (per_second ? 1 : 3600);
	const char *per = per_second ? "/s" : "/h";
	char num[48];

	if (!bytes) {
		snprintf(buf, len, "%+.1f%s", v, per);
		return buf;
	}
	ticks_format_bytes(fabs(v), ticks_unit_bytes(fabs(v)), num,
			   sizeof num);
	snprintf(buf, len, "%c%s%s", v < 0 ? '-' : '+', num, per);
	return buf;
}
