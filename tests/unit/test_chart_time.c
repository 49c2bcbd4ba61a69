/* test_chart_time.c - wall-clock axes and --since/--until: ticks on local
 * boundaries whatever the zone, labels, the zone named, and every form of
 * time a user may type. */
#include "harness.h"

#include "../../plot/timeaxis.h"
#include "../../plot/when.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void zone(const char *tz)
{
	setenv("TZ", tz, 1);
	tzset();
}

/* 2026-11-20T10:07:13Z */
#define T_1007 1795169233.0

TEST(timeaxis_two_hours_in_utc)
{
	struct timeaxis a;
	char buf[64];

	zone("UTC");
	timeaxis_ticks(T_1007, T_1007 + 7200, 10, &a);
	CHECK_EQ_INT(a.unit, TIMEAXIS_MINUTE);
	CHECK_EQ_INT(a.step, 15);
	CHECK(a.n >= 7 && a.n <= 10);
	CHECK_EQ_STR(timeaxis_label(&a, a.t[0], buf, sizeof buf), "10:15");
	for (int i = 0; i < a.n; i++)
		CHECK(fmod(a.t[i], 900) == 0);
	CHECK_EQ_STR(timeaxis_title(T_1007, T_1007 + 7200, buf, sizeof buf),
		     "time (UTC), Fri 20 Nov 2026");
	zone("");
}

TEST(timeaxis_days_and_midnight)
{
	struct timeaxis a;
	char buf[80];

	zone("UTC");
	/* Three days with room for 12 ticks: 6 h steps, midnight as a date. */
	timeaxis_ticks(T_1007, T_1007 + 3 * 86400, 12, &a);
	CHECK_EQ_INT(a.unit, TIMEAXIS_HOUR);
	CHECK_EQ_INT(a.step, 6);
	CHECK_EQ_STR(timeaxis_label(&a, a.t[0], buf, sizeof buf), "12:00");
	CHECK_EQ_STR(timeaxis_label(&a, a.t[2], buf, sizeof buf), "21 Nov");
	/* A year: months. */
	timeaxis_ticks(T_1007, T_1007 + 365 * 86400.0, 8, &a);
	CHECK_EQ_INT(a.unit, TIMEAXIS_MONTH);
	CHECK_EQ_STR(timeaxis_label(&a, a.t[0], buf, sizeof buf), "Jan 2027");
	/* Seconds. */
	timeaxis_ticks(T_1007, T_1007 + 50, 6, &a);
	CHECK_EQ_INT(a.unit, TIMEAXIS_SECOND);
	CHECK_EQ_INT(a.step, 10);
	CHECK_EQ_STR(timeaxis_label(&a, a.t[0], buf, sizeof buf), "10:07:20");
	zone("");
}

TEST(timeaxis_local_zone_is_named_and_followed)
{
	struct timeaxis a;
	char buf[80];

	zone("Asia/Kolkata"); /* UTC+05:30: hours fall on :30 of UTC */
	timeaxis_ticks(T_1007, T_1007 + 6 * 3600, 8, &a);
	CHECK_EQ_INT(a.unit, TIMEAXIS_HOUR);
	CHECK(fmod(a.t[0] - 1800, 3600) == 0);
	CHECK_EQ_STR(timeaxis_label(&a, a.t[0], buf, sizeof buf), "16:00");
	CHECK_EQ_STR(timeaxis_title(T_1007, T_1007 + 600, buf, sizeof buf),
		     "time (IST, UTC+05:30), Fri 20 Nov 2026");
	zone("Europe/Berlin");
	CHECK(strstr(timeaxis_title(T_1007, T_1007 + 3 * 86400, buf,
				    sizeof buf),
		     "time (CET, UTC+01:00), 20 Nov 2026") == buf);
	zone("");
}

TEST(when_parses_what_users_type)
{
	double t, now = T_1007;

	zone("UTC");
	CHECK(when_parse("2h", now, &t) == 0 && t == now - 7200);
	CHECK(when_parse("1d", now, &t) == 0 && t == now - 86400);
	CHECK(when_parse("90m", now, &t) == 0 && t == now - 5400);
	CHECK(when_parse("365d", now, &t) == 0 && t == now - 365 * 86400.0);
	CHECK(when_parse("2w", now, &t) == 0 && t == now - 14 * 86400.0);
	CHECK(when_parse("now", now, &t) == 0 && t == now);
	CHECK(when_parse("2026-11-20T10:07:13", now, &t) == 0 && t == T_1007);
	CHECK(when_parse("2026-11-20 10:07:13.5", now, &t) == 0 &&
	      t == T_1007 + 0.5);
	CHECK(when_parse("2026-11-20", now, &t) == 0 &&
	      t == T_1007 - 10 * 3600 - 7 * 60 - 13);
	CHECK(when_parse("2026-11-20T11:07:13+01:00", now, &t) == 0 &&
	      t == T_1007);
	CHECK(when_parse("2026-11-20T10:07Z", now, &t) == 0 && t == T_1007 - 13);
	CHECK(when_parse("@1795169233", now, &t) == 0 && t == T_1007);
	zone("Europe/Berlin");
	CHECK(when_parse("2026-11-20T11:07:13", now, &t) == 0 && t == T_1007);
	for (const char *const *s = (const char *const[]){
		     "", "yesterday", "2h ago", "-2h", "2026-13-01", "2026-11-31",
		     "2026-11-20T25:00", "2026/11/20", "2026-11-20T12", "0h",
		     "@", "@x", "2026-11-20T12:00+1", NULL};
	     *s; s++) {
		if (when_parse(*s, now, &t) == 0) {
			fprintf(stderr, "  accepted '%s'\n", *s);
			*failed_ = 1;
		}
	}
	zone("");
}
