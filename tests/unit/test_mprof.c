/* test_mprof.c - the mprof .dat reader and writer: every line kind, the
 * errors a user sees, and values that survive a read and a write. */
#include "harness.h"

#include "memtide/marksock.h"
#include "memtide/units.h"
#include "memtide/mprof.h"

#include <errno.h>
#include <string.h>

static int one(const char *text, struct mprof_line *l, struct mprof_reader *r)
{
	mprof_reader_init(r, text, strlen(text));
	return mprof_next(r, l);
}

TEST(mprof_reads_every_line_kind)
{
	static const char file[] =
		"FUNC __main__.load 9.9023 1713264000.1100 54.8711 1713264000.2990 0\n"
		"CMDLINE /usr/bin/python3 train.py --epochs 2\n"
		"MEM 9.882812 1713264000.1021\r\n"
		"\n"
		"CHLD 48211 12.503906 1713264000.2031\n"
		"FUNC mod.f 1.0000 5.0000 2.0000 6.5000\n"
		"9.500000 1713264000.3000\n"
		"mod.g 1713264000.4 1713264000.5";
	struct mprof_reader r;
	struct mprof_line l;

	mprof_reader_init(&r, file, sizeof file - 1);
	CHECK_EQ_INT(mprof_next(&r, &l), 1);
	CHECK_EQ_INT(l.tag, MPROF_FUNC);
	CHECK(l.text_len == 13 && memcmp(l.text, "__main__.load", 13) == 0);
	CHECK_EQ_INT(l.umib, 9902300);
	CHECK_EQ_INT(l.t, 17132640001100LL);
	CHECK_EQ_INT(l.umib_end, 54871100);
	CHECK_EQ_INT(l.t_end, 17132640002990LL);
	CHECK_EQ_INT(l.level, 0);
	CHECK_EQ_INT(mprof_next(&r, &l), 1);
	CHECK_EQ_INT(l.tag, MPROF_CMDLINE);
	CHECK(l.text_len == 36 &&
	      memcmp(l.text, "/usr/bin/python3 train.py --epochs 2", 36) == 0);
	CHECK_EQ_INT(mprof_next(&r, &l), 1);
	CHECK_EQ_INT(l.tag, MPROF_MEM);
	CHECK_EQ_INT(l.umib, 9882812);
	CHECK_EQ_INT(l.t, 17132640001021LL);
	CHECK_EQ_INT(mprof_next(&r, &l), 1);
	CHECK_EQ_INT(l.tag, MPROF_BLANK);
	CHECK_EQ_INT(mprof_next(&r, &l), 1);
	CHECK_EQ_INT(l.tag, MPROF_CHLD);
	CHECK_EQ_INT(l.child, 48211);
	CHECK_EQ_INT(l.umib, 12503906);
	CHECK_EQ_INT(mprof_next(&r, &l), 1);
	CHECK_EQ_INT(l.tag, MPROF_FUNC);
	CHECK_EQ_INT(l.level, -1); /* before memory_profiler 0.53 */
	CHECK_EQ_INT(mprof_next(&r, &l), 1);
	CHECK_EQ_INT(l.tag, MPROF_MEM); /* the untagged 2013 format */
	CHECK_EQ_INT(l.umib, 9500000);
	CHECK_EQ_INT(mprof_next(&r, &l), 1);
	CHECK_EQ_INT(l.tag, MPROF_TS_FUNC); /* a _ts.dat line */
	CHECK_EQ_INT(l.t, 17132640004000LL);
	CHECK_EQ_INT(l.t_end, 17132640005000LL);
	CHECK_EQ_INT(r.line, 8);
	CHECK_EQ_INT(mprof_next(&r, &l), 0);
}

TEST(mprof_reports_bad_lines)
{
	static const struct {
		const char *line, *why;
	} bad[] = {
		{"MEM 9.8 abc", "bad time"},
		{"MEM 9.8", "missing time"},
		{"MEM -1.0 5.0", "bad memory value (MiB)"},
		{"MEM 1.0 5.0 7", "unexpected field after the time"},
		{"CHLD x 1.0 2.0", "bad or missing child pid"},
		{"FUNC f 1.0 2.0 1.0", "bad or missing exit time"},
		{"FUNC f 1.0 3.0 1.0 2.0", "FUNC ends before it starts"},
		{"FUNC f 1.0 2.0 1.0 3.0 x", "bad stack level"},
		{"HELLO world", "unknown line (expected CMDLINE, MEM, CHLD or FUNC)"},
		{"MEM 1e5 2.0", "bad memory value (MiB)"},
	};

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct mprof_reader r;
		struct mprof_line l;

		CHECK_EQ_INT(one(bad[i].line, &l, &r), -EINVAL);
		CHECK_EQ_STR(r.why, bad[i].why);
		CHECK_EQ_INT(r.line, 1);
	}
	{
		struct mprof_reader r;
		struct mprof_line l;
		static const char nul[] = "MEM 1.0 2.0\nMEM 1\0 2.0\n";

		mprof_reader_init(&r, nul, sizeof nul - 1);
		CHECK_EQ_INT(mprof_next(&r, &l), 1);
		CHECK_EQ_INT(mprof_next(&r, &l), -EINVAL);
		CHECK_EQ_INT(r.line, 2);
	}
}

/* A tie (12.5078125 MiB) rounds to even, as Python's "%.6f" does; a value
 * read from a file comes back as the same text. */
TEST(mprof_formats_as_python)
{
	char buf[MPROF_LINE_MAX];
	size_t n;

	n = mprof_format_mem(buf, 13115392, 17132640001021LL);
	buf[n] = '\0';
	CHECK_EQ_STR(buf, "MEM 12.507812 1713264000.1021\n");
	n = mprof_format_mem(buf, 3 * 4096, 5);
	buf[n] = '\0';
	CHECK_EQ_STR(buf, "MEM 0.011719 0.0005\n");
	n = mprof_format_chld(buf, 48211, 0, 17132640000000LL);
	buf[n] = '\0';
	CHECK_EQ_STR(buf, "CHLD 48211 0.000000 1713264000.0000\n");
	n = mprof_format_func(buf, "load data", 9, mprof_bytes(9902300), 1,
			      mprof_bytes(54871100), 2, 3);
	buf[n] = '\0';
	CHECK_EQ_STR(buf, "FUNC load_data 9.9023 0.0001 54.8711 0.0002 3\n");
	n = mprof_format_func(buf, "f", 1, 0, 1, 0, 2, -1);
	buf[n] = '\0';
	CHECK_EQ_STR(buf, "FUNC f 0.0000 0.0001 0.0000 0.0002\n");
	n = mprof_format_cmdline(buf, "a\nb", 3);
	buf[n] = '\0';
	CHECK_EQ_STR(buf, "CMDLINE a?b\n");
	/* Every 6-decimal MiB value survives bytes and back. */
	for (int64_t umib = 0; umib < 3000000; umib += 7) {
		struct mprof_reader r;
		struct mprof_line l;
		char in[64];

		n = mprof_format_mem(buf, mprof_bytes(umib), 17132640001021LL);
		buf[n] = '\0';
		snprintf(in, sizeof in, "MEM %lld.%06lld 1713264000.1021\n",
			 (long long)(umib / 1000000), (long long)(umib % 1000000));
		if (strcmp(buf, in) != 0) {
			CHECK_EQ_STR(buf, in);
			break;
		}
		CHECK_EQ_INT(one(in, &l, &r), 1);
		CHECK_EQ_INT(l.umib, umib);
	}
}

TEST(marksock_parses_and_formats)
{
	char buf[MARKSOCK_MSG_MAX + 1];
	struct marksock_event ev = {MARKSOCK_BEGIN, 1713264000.25, 7, 2, 0, 0, "load data",
				    0, 0, 0, NULL}, got;
	int n = marksock_format(buf, &ev);

	CHECK(n > 0);
	CHECK_EQ_INT(marksock_parse(buf, (size_t)n, &got), 0);
	CHECK_EQ_INT(got.kind, MARKSOCK_BEGIN);
	CHECK(got.t > 1713264000.24 && got.t < 1713264000.26);
	CHECK_EQ_INT(got.id, 7);
	CHECK_EQ_INT(got.level, 2);
	CHECK_EQ_STR(got.label, "load data");
	strcpy(buf, "E 12.5 3 0");
	CHECK_EQ_INT(marksock_parse(buf, strlen(buf), &got), 0);
	CHECK_EQ_STR(got.label, "");
	strcpy(buf, "M 12.5 0 0");
	CHECK_EQ_INT(marksock_parse(buf, strlen(buf), &got), -EINVAL);
	strcpy(buf, "X 12.5 0 0 a");
	CHECK_EQ_INT(marksock_parse(buf, strlen(buf), &got), -EINVAL);
	strcpy(buf, "M -1 0 0 a");
	CHECK_EQ_INT(marksock_parse(buf, strlen(buf), &got), -EINVAL);
	strcpy(buf, "M 1 0 -2 a");
	CHECK_EQ_INT(marksock_parse(buf, strlen(buf), &got), -EINVAL);
}

/* A marker's own memory (python/memtide) rides in one '@' word that a label
 * starting with '@' can never be taken for. */
TEST(marksock_carries_memory_and_outcome)
{
	char buf[MARKSOCK_MSG_MAX + 1];
	struct marksock_event ev = {MARKSOCK_END, 12.5, 3, 1, 0, 0, "t::x", 11534336,
				    73400320, 80000000, "passed"}, got;
	int n = marksock_format(buf, &ev);

	CHECK_EQ_STR(buf, "E 12.500000 3 1 @rss=11534336,peak=73400320,hwm=80000000,"
			  "outcome=passed t::x");
	CHECK_EQ_INT(marksock_parse(buf, (size_t)n, &got), 0);
	CHECK_EQ_INT(got.rss, 11534336);
	CHECK_EQ_INT(got.peak, 73400320);
	CHECK_EQ_INT(got.hwm, 80000000);
	CHECK_EQ_STR(got.outcome, "passed");
	CHECK_EQ_STR(got.label, "t::x");
	ev = (struct marksock_event){MARKSOCK_MOMENT, 1, 0, 0, 0, 0, "@home", 0, 0, 0, NULL};
	n = marksock_format(buf, &ev);
	CHECK_EQ_STR(buf, "M 1.000000 0 0 @ @home");
	CHECK_EQ_INT(marksock_parse(buf, (size_t)n, &got), 0);
	CHECK_EQ_STR(got.label, "@home");
	CHECK_EQ_INT(got.rss, -1);
	strcpy(buf, "B 1 2 0 @rss=12,future=x label");
	CHECK_EQ_INT(marksock_parse(buf, strlen(buf), &got), 0);
	CHECK_EQ_INT(got.rss, 12);
	CHECK_EQ_STR(got.label, "label");
	strcpy(buf, "B 1 2 0 @rss=-5 label");
	CHECK_EQ_INT(marksock_parse(buf, strlen(buf), &got), -EINVAL);
	strcpy(buf, "B 1 2 0 @rss label");
	CHECK_EQ_INT(marksock_parse(buf, strlen(buf), &got), -EINVAL);
}

TEST(units_parse_bytes_reads_sizes)
{
	int64_t b;

	CHECK_EQ_INT(units_parse_bytes("200 MiB", &b), 0);
	CHECK_EQ_INT(b, 200LL << 20);
	CHECK_EQ_INT(units_parse_bytes("1.5g", &b), 0);
	CHECK_EQ_INT(b, 3LL << 29);
	CHECK_EQ_INT(units_parse_bytes("10MB", &b), 0);
	CHECK_EQ_INT(b, 10000000);
	CHECK_EQ_INT(units_parse_bytes("4096", &b), 0);
	CHECK_EQ_INT(b, 4096);
	CHECK_EQ_INT(units_parse_bytes("-1M", &b), -EINVAL);
	CHECK_EQ_INT(units_parse_bytes("12 parsecs", &b), -EINVAL);
	CHECK_EQ_INT(units_parse_bytes("", &b), -EINVAL);
}

/* Found by fuzz_mprof: 13 digits of MiB with 6 decimals overflowed int64_t
 * (undefined behaviour) instead of being refused; 12 digits still read. */
TEST(mprof_refuses_values_too_large_to_hold)
{
	struct mprof_reader r;
	struct mprof_line l;

	CHECK_EQ_INT(one("MEM 9991713264000.6021 1.0", &l, &r), -EINVAL);
	CHECK_EQ_STR(r.why, "bad memory value (MiB)");
	CHECK_EQ_INT(one("CHLD 1 9999999999999 1.0", &l, &r), -EINVAL);
	CHECK_EQ_INT(one("FUNC f 9999999999999.0 1.0 1.0 2.0", &l, &r), -EINVAL);
	CHECK_EQ_INT(one("MEM 999999999999.9999999 9999999999999.99999", &l, &r), 1);
	CHECK_EQ_INT(l.umib, 1000000000000000000LL);
	CHECK_EQ_INT(l.t, 100000000000000000LL);
}
