/* mprof.c - mprof's .dat lines, parsed and formatted by hand (see
 * include/memtide/mprof.h): sscanf and printf("%f") would be the slowest part
 * of importing a million lines, and neither keeps values exact. */
#include "memtide/mprof.h"

#include <errno.h>
#include <string.h>

#define LINE_MAX_BYTES (1 << 20)

void mprof_reader_init(struct mprof_reader *r, const char *buf, size_t len)
{
	r->p = buf;
	r->end = buf + len;
	r->line = 0;
	r->why = NULL;
}

static int is_space(char c)
{
	return c == ' ' || c == '\t';
}

/* The next field of [*p, e): skips blanks, returns its start and sets *fe
 * to its end; NULL when there is none. */
static const char *field(const char **p, const char *e, const char **fe)
{
	const char *s = *p, *f;

	while (s < e && is_space(*s))
		s++;
	if (s == e)
		return NULL;
	f = s;
	while (f < e && !is_space(*f))
		f++;
	*fe = f;
	*p = f;
	return s;
}

/* A non-negative decimal ("12", "12.5", ".5") scaled by 10^digits and
 * rounded half away from zero.  Returns 0, or -1 for anything else. */
static int fixed(const char *s, const char *e, int digits, int64_t *out)
{
	int64_t v = 0;
	int ndig = 0, frac = 0, seen = 0;

	if (s == e)
		return -1;
	for (; s < e && *s >= '0' && *s <= '9'; s++, seen = 1) {
		/* 10^13 s or MiB is not a measurement, and v holds the value
		 * with its decimals: 18 digits at most fit an int64_t. */
		if (++ndig > 13 || ndig + digits > 18)
			return -1;
		v = v * 10 + (*s - '0');
	}
	if (s < e && *s == '.') {
		for (s++; s < e && *s >= '0' && *s <= '9'; s++, seen = 1) {
			if (frac < digits) {
				v = v * 10 + (*s - '0');
				frac++;
			} else if (frac == digits) {
				v += *s >= '5';
				frac++;
			}
		}
	}
	if (s != e || !seen)
		return -1;
	for (; frac < digits; frac++)
		v *= 10;
	*out = v;
	return 0;
}

/* A non-negative integer that fits an int. */
static int small_int(const char *s, const char *e, int64_t max, int64_t *out)
{
	int64_t v = 0;

	if (s == e)
		return -1;
	for (; s < e; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (*s - '0');
		if (v > max)
			return -1;
	}
	*out = v;
	return 0;
}

static int bad(struct mprof_reader *r, const char *why)
{
	r->why = why;
	return -EINVAL;
}

static int tag_is(const char *s, const char *e, const char *tag)
{
	size_t n = strlen(tag);

	return (size_t)(e - s) == n && memcmp(s, tag, n) == 0;
}

/* "<MiB> <time>": the tail of MEM and CHLD, and an old untagged MEM line. */
static int mem_time(struct mprof_reader *r, const char **p, const char *e,
		    struct mprof_line *out)
{
	const char *s, *fe;

	if (!(s = field(p, e, &fe)))
		return bad(r, "missing memory (MiB)");
	if (fixed(s, fe, 6, &out->umib))
		return bad(r, "bad memory value (MiB)");
	if (!(s = field(p, e, &fe)))
		return bad(r, "missing time");
	if (fixed(s, fe, 4, &out->t))
		return bad(r, "bad time");
	if (field(p, e, &fe))
		return bad(r, "unexpected field after the time");
	return 1;
}

static int func(struct mprof_reader *r, const char **p, const char *e,
		struct mprof_line *out)
{
	const char *s, *fe;
	int64_t v;

	if (!(s = field(p, e, &fe)))
		return bad(r, "FUNC without a name");
	out->text = s;
	out->text_len = (size_t)(fe - s);
	if (!(s = field(p, e, &fe)) || fixed(s, fe, 6, &out->umib))
		return bad(r, "bad or missing memory at entry (MiB)");
	if (!(s = field(p, e, &fe)) || fixed(s, fe, 4, &out->t))
		return bad(r, "bad or missing entry time");
	if (!(s = field(p, e, &fe)) || fixed(s, fe, 6, &out->umib_end))
		return bad(r, "bad or missing memory at exit (MiB)");
	if (!(s = field(p, e, &fe)) || fixed(s, fe, 4, &out->t_end))
		return bad(r, "bad or missing exit time");
	if ((s = field(p, e, &fe))) {
		if (small_int(s, fe, 1000000, &v))
			return bad(r, "bad stack level");
		out->level = (int)v;
	}
	if (field(p, e, &fe))
		return bad(r, "unexpected field after the stack level");
	if (out->t_end < out->t)
		return bad(r, "FUNC ends before it starts");
	return 1;
}

static int parse(struct mprof_reader *r, const char *p, const char *e,
		 struct mprof_line *out)
{
	const char *tag, *te, *s, *fe, *q;

	memset(out, 0, sizeof *out);
	out->level = -1;
	if (!(tag = field(&p, e, &te))) {
		out->tag = MPROF_BLANK;
		return 1;
	}
	if (tag_is(tag, te, "CMDLINE")) {
		out->tag = MPROF_CMDLINE;
		/* mprof splits the tag off at the first space: keep the rest
		 * as it is. */
		s = te < e ? te + 1 : te;
		out->text = s;
		out->text_len = (size_t)(e - s);
		return 1;
	}
	if (tag_is(tag, te, "MEM")) {
		out->tag = MPROF_MEM;
		return mem_time(r, &p, e, out);
	}
	if (tag_is(tag, te, "CHLD")) {
		out->tag = MPROF_CHLD;
		if (!(s = field(&p, e, &fe)) ||
		    small_int(s, fe, INT32_MAX, &out->child))
			return bad(r, "bad or missing child pid");
		return mem_time(r, &p, e, out);
	}
	if (tag_is(tag, te, "FUNC")) {
		out->tag = MPROF_FUNC;
		return func(r, &p, e, out);
	}
	if (*tag >= '0' && *tag <= '9') {
		out->tag = MPROF_MEM;
		p = tag;
		return mem_time(r, &p, e, out);
	}
	/* "<name> <start> <end>" of an old _ts.dat file, or a tag unknown. */
	q = p;
	if ((s = field(&q, e, &fe)) && fixed(s, fe, 4, &out->t) == 0 &&
	    (s = field(&q, e, &fe)) && fixed(s, fe, 4, &out->t_end) == 0 &&
	    !field(&q, e, &fe)) {
		out->tag = MPROF_TS_FUNC;
		out->text = tag;
		out->text_len = (size_t)(te - tag);
		if (out->t_end < out->t)
			return bad(r, "function ends before it starts");
		return 1;
	}
	return bad(r, "unknown line (expected CMDLINE, MEM, CHLD or FUNC)");
}

int mprof_next(struct mprof_reader *r, struct mprof_line *out)
{
	const char *nl, *e;

	if (r->p >= r->end)
		return 0;
	r->line++;
	nl = memchr(r->p, '\n', (size_t)(r->end - r->p));
	e = nl ? nl : r->end;
	if (e - r->p > LINE_MAX_BYTES)
		return bad(r, "line longer than 1 MiB");
	if (memchr(r->p, '\0', (size_t)(e - r->p)))
		return bad(r, "NUL byte in line (not a text file?)");
	{
		const char *p = r->p;

		r->p = nl ? nl + 1 : r->end;
		if (e > p && e[-1] == '\r')
			e--;
		return parse(r, p, e, out);
	}
}

int64_t mprof_bytes(int64_t umib)
{
	return (int64_t)(((__int128)umib * 1048576 + 500000) / 1000000);
}

/* bytes / 2^20 in units of 10^-digits, rounded half to even. */
static int64_t scaled_mib(int64_t bytes, int64_t pow10)
{
	__int128 n = (__int128)bytes * pow10;
	int64_t q = (int64_t)(n >> 20);
	int64_t rem = (int64_t)(n & 0xfffff);

	if (rem > 0x80000 || (rem == 0x80000 && (q & 1)))
		q++;
	return q;
}

static char *put_uint(char *p, uint64_t v)
{
	char tmp[24];
	int n = 0;

	do
		tmp[n++] = (char)('0' + v % 10);
	while ((v /= 10));
	while (n)
		*p++ = tmp[--n];
	return p;
}

/* v / 10^digits with exactly digits decimals. */
static char *put_fixed(char *p, int64_t v, int digits)
{
	uint64_t pow = 1, u;

	if (v < 0) {
		*p++ = '-';
		v = -v;
	}
	u = (uint64_t)v;
	for (int i = 0; i < digits; i++)
		pow *= 10;
	p = put_uint(p, u / pow);
	*p++ = '.';
	u %= pow;
	for (int i = digits - 1; i >= 0; i--) {
		p[i] = (char)('0' + u % 10);
		u /= 10;
	}
	return p + digits;
}

static char *put_str(char *p, const char *s)
{
	size_t n = strlen(s);

	memcpy(p, s, n);
	return p + n;
}

size_t mprof_format_mem(char *buf, int64_t bytes, int64_t t)
{
	char *p = put_str(buf, "MEM ");

	p = put_fixed(p, scaled_mib(bytes, 1000000), 6);
	*p++ = ' ';
	p = put_fixed(p, t, 4);
	*p++ = '\n';
	return (size_t)(p - buf);
}

size_t mprof_format_chld(char *buf, int64_t child, int64_t bytes, int64_t t)
{
	char *p = put_str(buf, "CHLD ");

	p = put_uint(p, (uint64_t)(child < 0 ? 0 : child));
	*p++ = ' ';
	p = put_fixed(p, scaled_mib(bytes, 1000000), 6);
	*p++ = ' ';
	p = put_fixed(p, t, 4);
	*p++ = '\n';
	return (size_t)(p - buf);
}

size_t mprof_format_func(char *buf, const char *name, size_t name_len,
			 int64_t bytes, int64_t t, int64_t bytes_end,
			 int64_t t_end, int level)
{
	char *p = put_str(buf, "FUNC ");

	if (name_len == 0)
		*p++ = '_';
	for (size_t i = 0; i < name_len; i++) {
		unsigned char c = (unsigned char)name[i];

		*p++ = c <= ' ' || c == 0x7f ? '_' : (char)c;
	}
	*p++ = ' ';
	p = put_fixed(p, scaled_mib(bytes, 10000), 4);
	*p++ = ' ';
	p = put_fixed(p, t, 4);
	*p++ = ' ';
	p = put_fixed(p, scaled_mib(bytes_end, 10000), 4);
	*p++ = ' ';
	p = put_fixed(p, t_end, 4);
	if (level >= 0) {
		*p++ = ' ';
		p = put_uint(p, (uint64_t)level);
	}
	*p++ = '\n';
	return (size_t)(p - buf);
}

size_t mprof_format_cmdline(char *buf, const char *text, size_t text_len)
{
	char *p = put_str(buf, "CMDLINE ");

	for (size_t i = 0; i < text_len; i++) {
		unsigned char c = (unsigned char)text[i];

		*p++ = c < ' ' || c == 0x7f ? '?' : (char)c;
	}
	*p++ = '\n';
	return (size_t)(p - buf);
}
