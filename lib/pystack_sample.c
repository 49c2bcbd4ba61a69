/* pystack_sample.c - one stack sample of a CPython, read from outside, and
 * the caches that keep it cheap (see pystack.h).  The target keeps
 * running while we read, so every pointer may be stale: reads that fail or
 * objects of the wrong type end the sample with -EAGAIN, and every walk
 * is bounded. */
#include "pystack_reader.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MAX_THREADS 4096       /* a longer thread list is a torn one */
#define MAX_NAME_CHARS 1024    /* longer names are cut */
#define MAX_TABLE_BYTES (256u << 10) /* a line table beyond this: line 0 */
#define MAX_STRING_BYTES (8u << 20)  /* interned names, kept until close */
#define MAX_SKIPPED 256        /* shim and incomplete frames per sample */

enum { OWNED_BY_GENERATOR = 1, OWNED_BY_CSTACK = 3 };

static uint64_t ptr_at(const uint8_t *buf, long off)
{
	uint64_t v;

	memcpy(&v, buf + off, sizeof v);
	return v;
}

static int32_t int_at(const uint8_t *buf, long off)
{
	int32_t v;

	memcpy(&v, buf + off, sizeof v);
	return v;
}

/* The pages copied in the current sample: per thread rather than per
 * reader, as they live for one sample only and a daemon holds a reader per
 * process. */
static _Thread_local struct pystack_page pages[PYSTACK_PAGES];
static _Thread_local unsigned next_page;

static void pages_forget(void)
{
	for (unsigned i = 0; i < PYSTACK_PAGES; i++)
		pages[i].addr = 0;
}

/* A read within one sample: served from the pages copied so far in this
 * sample, else the whole page is copied (a read across a page end is made
 * directly: the next page may not be mapped). */
static int sread(struct pystack *r, uint64_t addr, void *buf, size_t len)
{
	uint64_t page = addr & ~(uint64_t)(PYSTACK_PAGE - 1);
	struct pystack_page *p;
	int err;

	if (addr - page + len > PYSTACK_PAGE)
		return pystack_peek(r, addr, buf, len);
	for (unsigned i = 0; i < PYSTACK_PAGES; i++)
		if (pages[i].addr == page && page) {
			memcpy(buf, pages[i].data + (addr - page), len);
			return 0;
		}
	p = &pages[next_page++ % PYSTACK_PAGES];
	p->addr = 0;
	err = pystack_peek(r, page, p->data, PYSTACK_PAGE);
	if (err)
		return err;
	p->addr = page;
	memcpy(buf, p->data + (addr - page), len);
	return 0;
}

/* The first size bytes of an object of the target, into buf (cap bytes),
 * checked to be of the type at type_addr when that is known: a stale
 * pointer mostly lands on another type. */
static int read_object(struct pystack *r, uint64_t addr, uint8_t *buf, size_t cap, long size,
		       uint64_t type_addr)
{
	int err;

	if (size <= r->L.object_type || (size_t)size > cap)
		return -EAGAIN;
	err = sread(r, addr, buf, (size_t)size);
	if (err)
		return err;
	if (type_addr && ptr_at(buf, r->L.object_type) != type_addr)
		return -EAGAIN;
	return 0;
}

static int read_ptr(struct pystack *r, uint64_t addr, uint64_t *out)
{
	return sread(r, addr, out, sizeof *out);
}

/* FNV-1a, for the string pool. */
static uint64_t hash_bytes(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (uint8_t)s[i]) * 1099511628211ull;
	return h;
}

static int strings_grow(struct pystack_strings *p)
{
	size_t n = p->nslots ? p->nslots * 2 : 256;
	char **slots = calloc(n, sizeof *slots);

	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; i < p->nslots; i++) {
		size_t j;

		if (!p->slots[i])
			continue;
		j = hash_bytes(p->slots[i], strlen(p->slots[i])) & (n - 1);
		while (slots[j])
			j = (j + 1) & (n - 1);
		slots[j] = p->slots[i];
	}
	free(p->slots);
	p->slots = slots;
	p->nslots = n;
	return 0;
}

/* The one copy of s[0..n); "?" when the pool is full. */
static const char *intern(struct pystack *r, const char *s, size_t n)
{
	struct pystack_strings *p = &r->strings;
	size_t j;

	if ((p->count + 1) * 2 > p->nslots && strings_grow(p))
		return "?";
	j = hash_bytes(s, n) & (p->nslots - 1);
	for (; p->slots[j]; j = (j + 1) & (p->nslots - 1))
		if (strncmp(p->slots[j], s, n) == 0 && p->slots[j][n] == '\0')
			return p->slots[j];
	if (p->bytes + n + 1 > MAX_STRING_BYTES)
		return "?";
	p->slots[j] = strndup(s, n);
	if (!p->slots[j])
		return "?";
	p->count++;
	p->bytes += n + 1;
	return p->slots[j];
}

static size_t put_utf8(char *o, uint32_t c)
{
	if (c < 0x80) {
		o[0] = (char)c;
		return 1;
	}
	if (c < 0x800) {
		o[0] = (char)(0xc0 | (c >> 6));
		o[1] = (char)(0x80 | (c & 63));
		return 2;
	}
	if (c < 0x10000) {
		o[0] = (char)(0xe0 | (c >> 12));
		o[1] = (char)(0x80 | ((c >> 6) & 63));
		o[2] = (char)(0x80 | (c & 63));
		return 3;
	}
	if (c > 0x10ffff)
		c = 0xfffd;
	o[0] = (char)(0xf0 | (c >> 18));
	o[1] = (char)(0x80 | ((c >> 12) & 63));
	o[2] = (char)(0x80 | ((c >> 6) & 63));
	o[3] = (char)(0x80 | (c & 63));
	return 4;
}

/* A str object of the target, as an interned UTF-8 string.  Names and
 * file names are always compact strings: the data follows the header,
 * right after PyASCIIObject when ASCII, else after PyCompactUnicodeObject,
 * in 1, 2 or 4 bytes a character. */
static int read_str(struct pystack *r, uint64_t addr, const char **out)
{
	uint8_t head[128], data[MAX_NAME_CHARS * 4];
	char utf8[MAX_NAME_CHARS * 4 + 1];
	const struct pystack_layout *L = &r->L;
	uint32_t state;
	int64_t len;
	unsigned kind;
	size_t o = 0;
	int err;

	err = read_object(r, addr, head, sizeof head, L->unicode_ascii_size, r->unicode_type);
	if (err)
		return err;
	memcpy(&len, head + L->unicode_length, sizeof len);
	memcpy(&state, head + L->unicode_state, sizeof state);
	kind = (state >> 2) & 7;
	if (len < 0 || !(state & (1u << 5)) || (kind != 1 && kind != 2 && kind != 4))
		return -EAGAIN;
	if (len > MAX_NAME_CHARS)
		len = MAX_NAME_CHARS;
	if (len) {
		uint64_t at = addr + (uint64_t)((state & (1u << 6)) ? L->unicode_ascii_size
								     : L->unicode_compact_size);

		err = sread(r, at, data, (size_t)len * kind);
		if (err)
			return err;
	}
	for (int64_t i = 0; i < len; i++) {
		uint32_t c = kind == 1 ? data[i] : 0;

		if (kind == 2) {
			uint16_t c16;

			memcpy(&c16, data + 2 * i, 2);
			c = c16;
		} else if (kind == 4) {
			memcpy(&c, data + 4 * i, 4);
		}
		/* A NUL would cut the name short; a lone surrogate (a file name
		 * decoded with surrogateescape) is not UTF-8. */
		if (c == 0 || (c >= 0xd800 && c <= 0xdfff))
			c = 0xfffd;
		o += put_utf8(utf8 + o, c);
	}
	*out = intern(r, utf8, o);
	return 0;
}

/* A bytes object of the target: a malloc'd copy of its contents. */
static int read_bytes(struct pystack *r, uint64_t addr, uint8_t **out, uint32_t *out_len)
{
	uint8_t head[64];
	int64_t len;
	int err;

	*out = NULL;
	*out_len = 0;
	err = read_object(r, addr, head, sizeof head, r->L.bytes_sval, r->bytes_type);
	if (err)
		return err;
	memcpy(&len, head + r->L.varobject_size, sizeof len);
	if (len < 0)
		return -EAGAIN;
	if (len == 0 || len > (int64_t)MAX_TABLE_BYTES)
		return 0;
	*out = malloc((size_t)len);
	if (!*out)
		return -ENOMEM;
	err = sread(r, addr + (uint64_t)r->L.bytes_sval, *out, (size_t)len);
	if (err) {
		free(*out);
		*out = NULL;
		return err;
	}
	*out_len = (uint32_t)len;
	return 0;
}

void pystack_cache_free(struct pystack *r)
{
	if (r->codes)
		for (size_t i = 0; i < r->code_slots; i++)
			free(r->codes[i].table);
	free(r->codes);
	r->codes = NULL;
	r->ncodes = 0;
	for (size_t i = 0; i < r->strings.nslots; i++)
		free(r->strings.slots[i]);
	free(r->strings.slots);
	memset(&r->strings, 0, sizeof r->strings);
}

static size_t code_slot(const struct pystack *r, uint64_t addr)
{
	return ((addr >> 4) * 11400714819323198485ull >> 32) & (r->code_slots - 1);
}

/* Makes room for one more code object: doubles the table up to
 * PYSTACK_CODE_SLOTS, and past that forgets every code object (not the
 * strings: frames handed out point at them), which bounds the table and
 * drops entries of code objects freed since. */
static void codes_make_room(struct pystack *r)
{
	struct pystack_code *old = r->codes, *grown;
	size_t n = r->code_slots;

	if (r->ncodes + 1 <= n * 3 / 4)
		return;
	grown = n < PYSTACK_CODE_SLOTS ? calloc(n * 2, sizeof *grown) : NULL;
	if (!grown) {
		for (size_t i = 0; i < n; i++)
			free(old[i].table);
		memset(old, 0, n * sizeof *old);
		r->ncodes = 0;
		return;
	}
	r->codes = grown;
	r->code_slots = n * 2;
	for (size_t i = 0; i < n; i++) {
		size_t j;

		if (!old[i].addr)
			continue;
		for (j = code_slot(r, old[i].addr); grown[j].addr; j = (j + 1) & (r->code_slots - 1))
			;
		grown[j] = old[i];
	}
	free(old);
}

/* What identifies the code object at addr: the addresses of its name,
 * file name and line table, its first line, and the hash CPython keeps in
 * its name (names are interned, so hashed).  A code object freed and
 * replaced by another at the same address mostly differs in one of them;
 * the hash tells apart even names allocated where the old ones were.
 * buf receives the object's header. */
static int code_identity(struct pystack *r, uint64_t addr, uint8_t *buf, size_t cap,
			 struct pystack_code *id)
{
	const struct pystack_layout *L = &r->L;
	uint8_t head[128];
	int err;

	err = read_object(r, addr, buf, cap, L->code_size, r->code_type);
	if (err)
		return err;
	id->name_addr = ptr_at(buf, L->code_qualname >= 0 ? L->code_qualname : L->code_name);
	id->file_addr = ptr_at(buf, L->code_filename);
	id->table_addr = ptr_at(buf, L->code_linetable);
	id->firstlineno = int_at(buf, L->code_firstlineno);
	err = read_object(r, id->name_addr, head, sizeof head, L->unicode_ascii_size,
			  r->unicode_type);
	if (err)
		return err;
	memcpy(&id->name_hash, head + L->unicode_length + 8, sizeof id->name_hash);
	return 0;
}

static int same_code(const struct pystack_code *a, const struct pystack_code *b)
{
	return a->name_addr == b->name_addr && a->file_addr == b->file_addr &&
	       a->table_addr == b->table_addr && a->firstlineno == b->firstlineno &&
	       a->name_hash == b->name_hash;
}

static int load_code(struct pystack *r, uint64_t addr, struct pystack_code *c)
{
	const struct pystack_layout *L = &r->L;
	uint8_t buf[512];
	int err;

	err = code_identity(r, addr, buf, sizeof buf, c);
	if (!err)
		err = read_str(r, c->name_addr, &c->function);
	if (!err)
		err = read_str(r, c->file_addr, &c->file);
	if (!err)
		err = read_bytes(r, c->table_addr, &c->table, &c->table_len);
	if (err)
		return err;
	c->firsttraceable = L->code_firsttraceable >= 0 ? int_at(buf, L->code_firsttraceable) : 0;
	c->addr = addr;
	return 0;
}

/* Whether the cached entry still describes the code object at its
 * address; if not, reads it again in place. */
static int check_code(struct pystack *r, struct pystack_code *c)
{
	struct pystack_code now = { 0 };
	uint8_t buf[512];
	int err;

	err = code_identity(r, c->addr, buf, sizeof buf, &now);
	if (err || same_code(c, &now))
		return err;
	err = load_code(r, c->addr, &now);
	if (err) {
		free(now.table);
		return err;
	}
	free(c->table);
	*c = now;
	return 0;
}

/* The cached code object at addr, read on a miss, and checked against
 * the target when check is set. */
static int get_code(struct pystack *r, uint64_t addr, int check, const struct pystack_code **out)
{
	size_t j = code_slot(r, addr);
	struct pystack_code c = { 0 };
	int err;

	for (; r->codes[j].addr; j = (j + 1) & (r->code_slots - 1))
		if (r->codes[j].addr == addr) {
			*out = &r->codes[j];
			return check ? check_code(r, &r->codes[j]) : 0;
		}
	err = load_code(r, addr, &c);
	if (err) {
		free(c.table);
		return err;
	}
	codes_make_room(r);
	for (j = code_slot(r, addr); r->codes[j].addr; j = (j + 1) & (r->code_slots - 1))
		;
	r->codes[j] = c;
	r->ncodes++;
	*out = &r->codes[j];
	return 0;
}

static int line_of(const struct pystack *r, const struct pystack_code *c, int lasti_bytes)
{
	if (!c->table)
		return r->minor >= 10 ? 0 : c->firstlineno;
	if (r->minor <= 9)
		return pystack_line_lnotab(c->table, c->table_len, c->firstlineno, lasti_bytes);
	if (r->minor == 10)
		return pystack_line_310(c->table, c->table_len, c->firstlineno, lasti_bytes);
	return pystack_line_311(c->table, c->table_len, c->firstlineno, lasti_bytes);
}

/* Brent's cycle check over the frame addresses of one walk: a torn chain
 * that loops is caught in O(length) steps with O(1) memory. */
struct cycle {
	uint64_t saved;
	unsigned power, steps;
};

static int cycle_seen(struct cycle *c, uint64_t addr)
{
	if (addr == c->saved)
		return 1;
	if (++c->steps == c->power) {
		c->saved = addr;
		c->power *= 2;
		c->steps = 0;
	}
	return 0;
}

/* One frame of the walk: what it ran and where the walk goes next. */
struct step {
	uint64_t code, next;
	int lasti_bytes; /* -1: not a frame to report */
};

/* 3.8 to 3.10: a PyFrameObject. */
static int step_frame_object(struct pystack *r, uint64_t addr, struct step *s)
{
	const struct pystack_layout *L = &r->L;
	uint8_t buf[512];
	size_t need = (size_t)L->frame_lasti + 4;
	int lasti;
	int err;

	if (need > sizeof buf)
		return -EAGAIN;
	err = sread(r, addr, buf, need);
	if (err)
		return err;
	s->code = ptr_at(buf, L->frame_code);
	s->next = ptr_at(buf, L->frame_back);
	lasti = int_at(buf, L->frame_lasti);
	/* 3.10 counts code units of 2 bytes; -1 before the first one. */
	s->lasti_bytes = r->minor == 10 ? (lasti < 0 ? -1 : lasti * 2) : lasti;
	if (s->lasti_bytes < 0)
		s->lasti_bytes = 0;
	return 0;
}

/* 3.11+: an _PyInterpreterFrame.  Frames owned by the C stack (3.12's shim
 * frames) and frames not yet past their first RESUME are not reported,
 * as CPython itself skips them in tracebacks. */
static int step_interp_frame(struct pystack *r, uint64_t addr, struct step *s, int check,
			     const struct pystack_code **code)
{
	const struct pystack_layout *L = &r->L;
	uint8_t buf[256];
	uint64_t instr, first;
	int owner, err;

	if (L->frame_size > (long)sizeof buf)
		return -EAGAIN;
	err = sread(r, addr, buf, (size_t)L->frame_size);
	if (err)
		return err;
	s->code = ptr_at(buf, L->frame_code);
	s->next = ptr_at(buf, L->frame_back);
	owner = buf[L->frame_owner];
	instr = ptr_at(buf, L->frame_instr);
	s->lasti_bytes = -1;
	if (owner == OWNED_BY_CSTACK)
		return 0;
	err = get_code(r, s->code, check, code);
	if (err)
		return err;
	first = s->code + (uint64_t)L->code_adaptive;
	if (owner != OWNED_BY_GENERATOR && instr < first + 2 * (uint64_t)(*code)->firsttraceable)
		return 0;
	if (instr < first || instr - first > (1u << 30))
		return -EAGAIN;
	s->lasti_bytes = (int)(instr - first);
	return 0;
}

static int first_frame(struct pystack *r, const uint8_t *tstate, uint64_t *out)
{
	uint64_t f = ptr_at(tstate, r->L.tstate_frame);

	/* 3.11 and 3.12 keep the frame in tstate->cframe->current_frame. */
	if (r->L.cframe_current >= 0 && f)
		return read_ptr(r, f + (uint64_t)r->L.cframe_current, out);
	*out = f;
	return 0;
}

static int walk(struct pystack *r, const uint8_t *tstate, struct pystack_frame *frames, int max)
{
	struct cycle cyc = { .saved = 0, .power = 1, .steps = 0 };
	uint64_t addr;
	int n = 0, skipped = 0, err;
	/* The innermost frame, which memory growth is charged to, is checked
	 * against a code object replaced at the same address every sample;
	 * one outer frame in turn, so the whole stack is within a few
	 * samples. */
	int outer = r->last_depth > 1 ? 1 + (int)(r->rotor++ % (unsigned)(r->last_depth - 1)) : 0;

	err = first_frame(r, tstate, &addr);
	if (err)
		return err;
	while (addr && n < max) {
		const struct pystack_code *c = NULL;
		struct step s;

		/* Frames and thread states are malloc'd or on CPython's data
		 * stack, 8-aligned: anything else is a torn pointer. */
		if ((addr & 7) || cycle_seen(&cyc, addr))
			return -EAGAIN;
		int check = n == 0 || n == outer;

		err = r->minor <= 10 ? step_frame_object(r, addr, &s)
				     : step_interp_frame(r, addr, &s, check, &c);
		if (err)
			return err;
		if (s.lasti_bytes >= 0) {
			if (!c && (err = get_code(r, s.code, check, &c)))
				return err;
			frames[n].function = c->function;
			frames[n].file = c->file;
			frames[n].line = line_of(r, c, s.lasti_bytes);
			n++;
		} else if (++skipped > MAX_SKIPPED) {
			return -EAGAIN;
		}
		addr = s.next;
	}
	r->last_depth = n;
	return n;
}

/* The thread holding the GIL (3.8 to 3.11 keep the GIL in _PyRuntime,
 * 3.12+ per interpreter), or 0 when none does. */
static int gil_holder(struct pystack *r, uint64_t interp, uint64_t *holder)
{
	const struct pystack_layout *L = &r->L;
	uint64_t gil = r->runtime + (uint64_t)L->runtime_gil_holder;
	long locked_at = L->runtime_gil_locked - L->runtime_gil_holder;
	int32_t locked;
	int err;

	if (L->runtime_gil_holder < 0) {
		err = read_ptr(r, interp + (uint64_t)L->interp_gil, &gil);
		if (err || !gil)
			return err;
		gil += (uint64_t)L->gil_holder;
		locked_at = L->gil_locked - L->gil_holder;
	}
	err = read_ptr(r, gil, holder);
	if (!err)
		err = sread(r, gil + (uint64_t)locked_at, &locked, sizeof locked);
	if (!err && !locked)
		*holder = 0;
	return err;
}

/* The main interpreter: the last of the list, as each new one (3.8+ can
 * make subinterpreters) goes to its head. */
#define MAX_INTERPRETERS 256

static int main_interp(struct pystack *r, uint64_t *interp)
{
	struct cycle cyc = { .saved = 0, .power = 1, .steps = 0 };
	uint64_t next;
	int err;

	err = read_ptr(r, r->runtime + (uint64_t)r->L.runtime_interp_head, interp);
	if (err || !*interp)
		return err ? err : -ENOENT;
	for (int i = 0; i < MAX_INTERPRETERS; i++) {
		if ((*interp & 7) || cycle_seen(&cyc, *interp))
			return -EAGAIN;
		err = read_ptr(r, *interp + (uint64_t)r->L.interp_next, &next);
		if (err || !next)
			return err;
		*interp = next;
	}
	return -EAGAIN;
}

/* The thread state to sample: the GIL's holder if it is one of the
 * interpreter's threads, else the main thread (the oldest, last in the
 * list).  tstate receives its first bytes. */
static int pick_thread(struct pystack *r, uint8_t *tstate, size_t tlen)
{
	const struct pystack_layout *L = &r->L;
	uint64_t interp, t, holder = 0;
	int err, found = 0;

	err = main_interp(r, &interp);
	if (err)
		return err;
	err = gil_holder(r, interp, &holder);
	if (err)
		return err;
	err = read_ptr(r, interp + (uint64_t)L->interp_tstate_head, &t);
	if (err)
		return err;
	struct cycle cyc = { .saved = 0, .power = 1, .steps = 0 };

	for (int i = 0; t; i++) {
		if (i == MAX_THREADS || (t & 7) || cycle_seen(&cyc, t))
			return -EAGAIN;
		err = sread(r, t, tstate, tlen);
		if (err)
			return err;
		found = 1;
		if (t == holder)
			return 0;
		t = ptr_at(tstate, L->tstate_next);
	}
	return found ? 0 : -ENOENT;
}

/* The native id of a thread of 3.8 to 3.10 from its pthread_t (the
 * address of its struct pthread), or 0.  The offset of the id is found
 * once in the main thread's struct pthread (the last thread state of the
 * list) as the int equal to the pid; glibc x86-64 keeps it at 720, tried
 * first. */
#define PTHREAD_SCAN_BYTES 1024
#define GLIBC_TID_AT 720
#define MAX_TID (1 << 22) /* pid_max's ceiling */
#define TID_TRIES 100     /* samples that may try to find the offset */

static void find_tid_offset(struct pystack *r, const uint8_t *tstate)
{
	const struct pystack_layout *L = &r->L;
	int32_t ints[PTHREAD_SCAN_BYTES / 4];
	uint8_t t[512];
	uint64_t next = ptr_at(tstate, L->tstate_next);

	r->tid_tries++;
	memcpy(t, tstate, (size_t)L->tstate_thread_id + 8);
	for (int i = 0; next && i < MAX_THREADS; i++) { /* to the main thread */
		if ((next & 7) || sread(r, next, t, (size_t)L->tstate_thread_id + 8))
			return;
		next = ptr_at(t, L->tstate_next);
	}
	if (next || pystack_peek(r, ptr_at(t, L->tstate_thread_id), ints, sizeof ints))
		return;
	if (ints[GLIBC_TID_AT / 4] == r->pid)
		r->pthread_tid_at = GLIBC_TID_AT;
	for (long i = 0; i < PTHREAD_SCAN_BYTES / 4 && r->pthread_tid_at < 0; i++)
		if (ints[i] == r->pid)
			r->pthread_tid_at = i * 4;
}

static int thread_tid(struct pystack *r, const uint8_t *tstate)
{
	uint64_t pthread = ptr_at(tstate, r->L.tstate_thread_id);
	int32_t v = 0;

	if (r->pthread_tid_at < 0 && r->tid_tries < TID_TRIES)
		find_tid_offset(r, tstate);
	if (r->pthread_tid_at < 0 || !pthread ||
	    sread(r, pthread + (uint64_t)r->pthread_tid_at, &v, sizeof v))
		return 0;
	return v > 0 && v < MAX_TID ? v : 0;
}

int pystack_sample(struct pystack *r, struct pystack_frame *frames, int max, int *tid)
{
	const struct pystack_layout *L = &r->L;
	uint8_t tstate[512];
	long tlen = L->tstate_frame;
	int n;

	if (tid)
		*tid = 0;
	if (L->tstate_next > tlen)
		tlen = L->tstate_next;
	if (L->tstate_native_id > tlen)
		tlen = L->tstate_native_id;
	if (L->tstate_thread_id > tlen)
		tlen = L->tstate_thread_id;
	tlen += 8;
	if (tlen > (long)sizeof tstate || max < 0)
		return -EINVAL;
	pages_forget();
	n = pick_thread(r, tstate, (size_t)tlen);
	if (n == -ENOENT)
		return 0; /* no interpreter or thread yet, or any more */
	if (n == 0)
		n = walk(r, tstate, frames, max);
	if (n < 0)
		return pystack_gone_or(r, n);
	if (tid && L->tstate_native_id >= 0)
		*tid = int_at(tstate, L->tstate_native_id);
	else if (tid)
		*tid = thread_tid(r, tstate);
	return n;
}

size_t pystack_memory(const struct pystack *r)
{
	size_t bytes = sizeof *r + r->code_slots * sizeof *r->codes;

	for (size_t i = 0; r->codes && i < r->code_slots; i++)
		bytes += r->codes[i].table_len;
	return bytes + r->strings.nslots * sizeof(char *) + r->strings.bytes;
}
