/* pystack_sample.c - one stack sample of a CPython, read from outside
 * (see pystack.h); code objects are lib/pystack_code.c's.  The target keeps
 * running while we read, so every pointer may be stale: reads that fail or
 * objects of the wrong type end the sample with -EAGAIN, and every walk
 * is bounded. */
#include "pystack_reader.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define MAX_THREADS 4096       /* a longer thread list is a torn one */
#define MAX_SKIPPED 256        /* shim and incomplete frames per sample */

enum { OWNED_BY_GENERATOR = 1, OWNED_BY_CSTACK = 3 };

/* A page of the target copied during one sample: frames of 3.11+ lie
 * side by side in the thread's data stack, and the small reads of a sample
 * mostly fall in a few pages, so one read serves many. */
struct pystack_page {
	uint64_t addr; /* 0: empty */
	int used;      /* read from in this sample */
	unsigned idle; /* samples in a row before this one that did not */
	uint8_t data[PYSTACK_PAGE];
};

/* The pages copied in the current sample: per thread rather than per
 * reader, as they live for one sample only and a daemon holds a reader per
 * process; allocated by a thread's first sample, not in every thread's
 * TLS (memtide's other threads would each fault in 64 KiB of zeros), and
 * freed when that thread exits. */
static _Thread_local struct pystack_page *pages;
static _Thread_local unsigned next_page;
static pthread_once_t pages_once = PTHREAD_ONCE_INIT;
static pthread_key_t pages_key;

static void pages_key_make(void)
{
	pthread_key_create(&pages_key, free);
}

static int pages_alloc(void)
{
	if (pages)
		return 0;
	pthread_once(&pages_once, pages_key_make);
	pages = calloc(PYSTACK_PAGES, sizeof *pages);
	if (!pages)
		return -ENOMEM;
	pthread_setspecific(pages_key, pages);
	return 0;
}

/* Starts a sample by copying again, in one process_vm_readv, the pages
 * the reader's last sample read (its runtime, thread state, frames and the
 * code objects it checked): a program still in the same functions is then
 * read with that one call.  A page that can no longer be read is left
 * empty, and read (or failed) where the walk needs it. */
static void pages_begin(struct pystack *r)
{
	uint8_t *buf[PYSTACK_PAGES];
	unsigned got;

	for (unsigned i = 0; i < PYSTACK_PAGES; i++) {
		pages[i].addr = 0;
		pages[i].used = 0;
		pages[i].idle = 0;
		buf[i] = pages[i].data;
	}
	got = pystack_peek_pages(r, r->warm, buf, r->nwarm);
	for (unsigned i = 0; i < got; i++) {
		pages[i].addr = r->warm[i];
		pages[i].idle = r->warm_idle[i];
	}
	next_page = 0;
}

/* Keeps for the next sample the pages this one read, and those the last
 * PYSTACK_IDLE_KEPT ones read: each sample checks a different outer
 * frame's code object (walk()), whose page comes back a sample or two
 * later. */
#define PYSTACK_IDLE_KEPT 2

static void pages_end(struct pystack *r)
{
	r->nwarm = 0;
	for (unsigned i = 0; i < PYSTACK_PAGES; i++) {
		if (!pages[i].addr || (!pages[i].used && pages[i].idle >= PYSTACK_IDLE_KEPT))
			continue;
		r->warm[r->nwarm] = pages[i].addr;
		r->warm_idle[r->nwarm++] = pages[i].used ? 0 : pages[i].idle + 1;
	}
}

/* The slot for a page not copied yet: an empty one, else one this sample
 * has not read from yet (a page the last sample read, not needed so far),
 * else the next in turn. */
static struct pystack_page *page_slot(void)
{
	for (unsigned i = 0; i < PYSTACK_PAGES; i++)
		if (!pages[i].addr)
			return &pages[i];
	for (unsigned i = 0; i < PYSTACK_PAGES; i++)
		if (!pages[i].used)
			return &pages[i];
	return &pages[next_page++ % PYSTACK_PAGES];
}

/* A read within one sample: served from the pages copied so far in this
 * sample, else the whole page is copied.  A read across a page end is
 * served by both pages (what it reads lies in both, so both are mapped);
 * a read longer than a page (a line table) is made directly. */
int pystack_sread(struct pystack *r, uint64_t addr, void *buf, size_t len)
{
	uint64_t page = addr & ~(uint64_t)(PYSTACK_PAGE - 1);
	struct pystack_page *p;
	int err;

	if (len > PYSTACK_PAGE)
		return pystack_peek(r, addr, buf, len);
	if (addr - page + len > PYSTACK_PAGE) {
		size_t head = (size_t)(page + PYSTACK_PAGE - addr);

		err = pystack_sread(r, addr, buf, head);
		return err ? err : pystack_sread(r, addr + head, (uint8_t *)buf + head, len - head);
	}
	for (unsigned i = 0; i < PYSTACK_PAGES; i++)
		if (pages[i].addr == page && page) {
			pages[i].used = 1;
			memcpy(buf, pages[i].data + (addr - page), len);
			return 0;
		}
	p = page_slot();
	p->addr = 0;
	p->used = 0;
	p->idle = 0;
	err = pystack_peek(r, page, p->data, PYSTACK_PAGE);
	if (err)
		return err;
	p->addr = page;
	p->used = 1;
	memcpy(buf, p->data + (addr - page), len);
	return 0;
}

static int read_ptr(struct pystack *r, uint64_t addr, uint64_t *out)
{
	return pystack_sread(r, addr, out, sizeof *out);
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
	err = pystack_sread(r, addr, buf, need);
	if (err)
		return err;
	s->code = pystack_ptr_at(buf, L->frame_code);
	s->next = pystack_ptr_at(buf, L->frame_back);
	lasti = pystack_int_at(buf, L->frame_lasti);
	/* No code object is a gigabyte long: a frame freed or reused as it
	 * was read (UBSan saw 1926398000 * 2 overflow under test_where). */
	if (lasti > INT_MAX / 2)
		return -EAGAIN;
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
	err = pystack_sread(r, addr, buf, (size_t)L->frame_size);
	if (err)
		return err;
	s->code = pystack_ptr_at(buf, L->frame_code);
	s->next = pystack_ptr_at(buf, L->frame_back);
	owner = buf[L->frame_owner];
	instr = pystack_ptr_at(buf, L->frame_instr);
	s->lasti_bytes = -1;
	if (owner == OWNED_BY_CSTACK)
		return 0;
	err = pystack_code_get(r, s->code, check, code);
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
	uint64_t f = pystack_ptr_at(tstate, r->L.tstate_frame);

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
			if (!c && (err = pystack_code_get(r, s.code, check, &c)))
				return err;
			frames[n].function = c->function;
			frames[n].file = c->file;
			frames[n].line = pystack_code_line(r, c, s.lasti_bytes);
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
		err = pystack_sread(r, gil + (uint64_t)locked_at, &locked, sizeof locked);
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
		err = pystack_sread(r, t, tstate, tlen);
		if (err)
			return err;
		found = 1;
		if (t == holder)
			return 0;
		t = pystack_ptr_at(tstate, L->tstate_next);
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
	uint64_t next = pystack_ptr_at(tstate, L->tstate_next);

	r->tid_tries++;
	memcpy(t, tstate, (size_t)L->tstate_thread_id + 8);
	for (int i = 0; next && i < MAX_THREADS; i++) { /* to the main thread */
		if ((next & 7) || pystack_sread(r, next, t, (size_t)L->tstate_thread_id + 8))
			return;
		next = pystack_ptr_at(t, L->tstate_next);
	}
	if (next || pystack_peek(r, pystack_ptr_at(t, L->tstate_thread_id), ints, sizeof ints))
		return;
	if (ints[GLIBC_TID_AT / 4] == r->pid)
		r->pthread_tid_at = GLIBC_TID_AT;
	for (long i = 0; i < PTHREAD_SCAN_BYTES / 4 && r->pthread_tid_at < 0; i++)
		if (ints[i] == r->pid)
			r->pthread_tid_at = i * 4;
}

static int thread_tid(struct pystack *r, const uint8_t *tstate)
{
	uint64_t pthread = pystack_ptr_at(tstate, r->L.tstate_thread_id);
	int32_t v = 0;

	if (r->pthread_tid_at < 0 && r->tid_tries < TID_TRIES)
		find_tid_offset(r, tstate);
	if (r->pthread_tid_at < 0 || !pthread ||
	    pystack_sread(r, pthread + (uint64_t)r->pthread_tid_at, &v, sizeof v))
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
	if (pages_alloc())
		return -ENOMEM;
	pages_begin(r);
	n = pick_thread(r, tstate, (size_t)tlen);
	if (n == 0)
		n = walk(r, tstate, frames, max);
	if (n >= 0 && tid && L->tstate_native_id >= 0)
		*tid = pystack_int_at(tstate, L->tstate_native_id);
	else if (n >= 0 && tid)
		*tid = thread_tid(r, tstate);
	pages_end(r);
	if (n == -ENOENT)
		return 0; /* no interpreter or thread yet, or any more */
	return n < 0 ? pystack_gone_or(r, n) : n;
}

size_t pystack_memory(const struct pystack *r)
{
	size_t bytes = sizeof *r + r->code_slots * sizeof *r->codes;

	for (size_t i = 0; r->codes && i < r->code_slots; i++)
		bytes += r->codes[i].table_len;
	return bytes + r->strings.nslots * sizeof(char *) + r->strings.bytes;
}
