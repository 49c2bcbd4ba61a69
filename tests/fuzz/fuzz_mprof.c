/* fuzz_mprof.c - mprof_next over any bytes, line by line: no crash, line
 * numbers count up, and every value read comes back the same when written
 * with the library's mprof_format_* and read again (FUNC memory, written at
 * %.4f, comes back the same from the second writing on). */
#include "fuzz.h"

#include "memtide/mprof.h"

#include <errno.h>

static char line[MPROF_LINE_MAX + (1 << 20) + 16];

/* The one line of buf[0..n), read back. */
static void reread(size_t n, struct mprof_line *out)
{
	struct mprof_reader r;

	FUZZ_ASSERT(n > 0 && line[n - 1] == '\n');
	FUZZ_ASSERT(memchr(line, '\n', n) == line + n - 1);
	mprof_reader_init(&r, line, n);
	FUZZ_ASSERT(mprof_next(&r, out) == 1);
	FUZZ_ASSERT(mprof_next(&r, out + 1) == 0);
}

static void round_trip(const struct mprof_line *l)
{
	struct mprof_line b[2], c[2];
	size_t n;

	switch (l->tag) {
	case MPROF_MEM:
		n = mprof_format_mem(line, mprof_bytes(l->umib), l->t);
		FUZZ_ASSERT(n <= MPROF_LINE_MAX);
		reread(n, b);
		FUZZ_ASSERT(b[0].tag == MPROF_MEM);
		FUZZ_ASSERT(b[0].umib == l->umib && b[0].t == l->t);
		break;
	case MPROF_CHLD:
		n = mprof_format_chld(line, l->child, mprof_bytes(l->umib), l->t);
		FUZZ_ASSERT(n <= MPROF_LINE_MAX);
		reread(n, b);
		FUZZ_ASSERT(b[0].tag == MPROF_CHLD && b[0].child == l->child);
		FUZZ_ASSERT(b[0].umib == l->umib && b[0].t == l->t);
		break;
	case MPROF_FUNC:
		n = mprof_format_func(line, l->text, l->text_len, mprof_bytes(l->umib),
				      l->t, mprof_bytes(l->umib_end), l->t_end, l->level);
		FUZZ_ASSERT(n <= MPROF_LINE_MAX + l->text_len);
		reread(n, b);
		FUZZ_ASSERT(b[0].tag == MPROF_FUNC && b[0].text_len == l->text_len);
		FUZZ_ASSERT(b[0].t == l->t && b[0].t_end == l->t_end);
		FUZZ_ASSERT(b[0].level == l->level);
		FUZZ_ASSERT(b[0].umib % 100 == 0 && b[0].umib_end % 100 == 0);
		FUZZ_ASSERT(llabs(b[0].umib - l->umib) <= 50);
		FUZZ_ASSERT(llabs(b[0].umib_end - l->umib_end) <= 50);
		n = mprof_format_func(line, b[0].text, b[0].text_len,
				      mprof_bytes(b[0].umib), b[0].t,
				      mprof_bytes(b[0].umib_end), b[0].t_end, b[0].level);
		reread(n, c);
		FUZZ_ASSERT(c[0].umib == b[0].umib && c[0].umib_end == b[0].umib_end);
		break;
	case MPROF_CMDLINE:
		n = mprof_format_cmdline(line, l->text, l->text_len);
		FUZZ_ASSERT(n <= MPROF_LINE_MAX + l->text_len);
		reread(n, b);
		FUZZ_ASSERT(b[0].tag == MPROF_CMDLINE && b[0].text_len == l->text_len);
		for (size_t i = 0; i < l->text_len; i++) {
			unsigned char ch = (unsigned char)l->text[i];

			FUZZ_ASSERT(b[0].text[i] ==
				    (ch < ' ' || ch == 0x7f ? '?' : (char)ch));
		}
		break;
	case MPROF_TS_FUNC:
		FUZZ_ASSERT(l->text_len > 0 && l->t_end >= l->t);
		break;
	case MPROF_BLANK:
		break;
	default:
		FUZZ_ASSERT(!"unknown tag");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = fuzz_exact(data, size);
	struct mprof_reader r;
	struct mprof_line l;
	long want = 0;
	int rc;

	mprof_reader_init(&r, buf, size);
	while ((rc = mprof_next(&r, &l)) == 1) {
		FUZZ_ASSERT(r.line == ++want);
		FUZZ_ASSERT(want <= (long)size);
		if (l.text)
			FUZZ_ASSERT(l.text >= buf && l.text + l.text_len <= buf + size);
		FUZZ_ASSERT(l.umib >= 0 && l.umib_end >= 0 && l.t >= 0 && l.t_end >= 0);
		round_trip(&l);
	}
	FUZZ_ASSERT(rc == 0 || rc == -EINVAL);
	if (rc == -EINVAL)
		FUZZ_ASSERT(r.why != NULL && r.line == want + 1);
	free(buf);
	return 0;
}
