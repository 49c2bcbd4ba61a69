/* pystack_reader.h - the state of one stack reader, shared by
 * lib/pystack.c (finding the interpreter), lib/pystack_sample.c (walking
 * it) and lib/pystack_code.c (its code objects).  Not part of memtide's
 * API. */
#ifndef MEMTIDE_PYSTACK_READER_H
#define MEMTIDE_PYSTACK_READER_H

#include "memtide/pystack.h"
#include "pystack_layout.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* A sample copies whole pages of the target (lib/pystack_sample.c): at
 * most PYSTACK_PAGES of them, PYSTACK_PAGE bytes each. */
#define PYSTACK_PAGE 4096
#define PYSTACK_PAGES 16

/* A code object seen before, by its address in the target. */
struct pystack_code {
	uint64_t addr; /* 0: an empty slot */
	const char *function, *file; /* interned: valid until close */
	uint8_t *table;              /* its line table, table_len bytes */
	uint32_t table_len;
	int firstlineno;
	int firsttraceable; /* code units before the first traceable one */
	/* What tells this code object from a later one at the same address
	 * (see check_code in pystack_code.c). */
	uint64_t name_addr, file_addr, table_addr;
	int64_t name_hash;
};

/* Strings interned by content, kept until close so frames stay valid. */
struct pystack_strings {
	char **slots;
	size_t nslots, count, bytes;
};

struct pystack {
	int pid;
	int pidfd; /* -1 when the kernel has no pidfd_open */
	int minor;
	char version[32];
	struct pystack_layout L;
	uint64_t runtime;   /* &_PyRuntime in the target */
	uint64_t code_type; /* &PyCode_Type, 0 when unknown */
	uint64_t unicode_type, bytes_type;
	struct pystack_code *codes; /* open addressing, code_slots of them */
	size_t ncodes;
	size_t code_slots; /* a power of two, up to PYSTACK_CODE_SLOTS */
	unsigned rotor; /* which outer frame the next sample checks */
	int last_depth;
	/* 3.8 to 3.10 keep a thread's pthread_t, not its id: where glibc's (or
	 * musl's) struct pthread keeps the id, learnt from the main thread,
	 * whose id is the pid; -1 until known. */
	long pthread_tid_at;
	int tid_tries;
	struct pystack_strings strings;
	/* The pages the last sample read, copied again all in one
	 * process_vm_readv at the start of the next (lib/pystack_sample.c):
	 * a program that stays in a few functions is read in one call. */
	uint64_t warm[PYSTACK_PAGES];
	unsigned warm_idle[PYSTACK_PAGES]; /* samples since one read it */
	unsigned nwarm;	/* process_vm_readv calls made (tests and benches read it). */
	unsigned long reads;
};

#define PYSTACK_CODE_SLOTS 4096 /* at most; a program using more code
				  * objects than 3/4 of this starts over */

/* Reads len bytes at addr of the target: 0, -ESRCH (gone), -EPERM, or
 * -EAGAIN (unmapped or partial: a torn pointer). */
int pystack_peek(struct pystack *r, uint64_t addr, void *buf, size_t len);

/* Reads n pages of PYSTACK_PAGE bytes, at addr[i] of the target into
 * buf[i], in one call, in order, up to the first that fails.  Returns how
 * many were read (0 on any error: the reads that follow say which). */
unsigned pystack_peek_pages(struct pystack *r, const uint64_t *addr, uint8_t *const *buf,
			    unsigned n);

/* -ESRCH when the target is gone, else err. */
int pystack_gone_or(struct pystack *r, int err);

/* pystack_peek() within one sample, through the pages copied so far in
 * it (lib/pystack_sample.c). */
int pystack_sread(struct pystack *r, uint64_t addr, void *buf, size_t len);

/* The code object at addr of the target, from the cache or read on a
 * miss; with check set, the cached entry is first checked against the
 * target (a code object compiled anew at a freed one's address).  *out
 * stays valid until the next call.  0 or -EAGAIN, -ESRCH, -EPERM, -ENOMEM
 * (lib/pystack_code.c). */
int pystack_code_get(struct pystack *r, uint64_t addr, int check,
		     const struct pystack_code **out);

/* The line of a code object at a bytecode offset (see pystack_layout.h). */
int pystack_code_line(const struct pystack *r, const struct pystack_code *c, int lasti_bytes);

/* Frees the code cache and the interned strings. */
void pystack_cache_free(struct pystack *r);

/* Fields of a struct copied from the target, at a byte offset. */
static inline uint64_t pystack_ptr_at(const uint8_t *buf, long off)
{
	uint64_t v;

	memcpy(&v, buf + off, sizeof v);
	return v;
}

static inline int32_t pystack_int_at(const uint8_t *buf, long off)
{
	int32_t v;

	memcpy(&v, buf + off, sizeof v);
	return v;
}

#endif
