/* pystack_code.c - what the stack reader keeps of code objects: their
 * names, file names and line tables, cached by address and checked against
 * code compiled anew at a freed address, and the strings interned once
 * for the reader's life (see pystack.h, pystack_reader.h). */
#include "pystack_reader.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MAX_NAME_CHARS 1024    /* longer names are cut */
#define MAX_TABLE_BYTES (256u << 10) /* a line table beyond this: line 0 */
#define MAX_STRING_BYTES (8u << 20)  /* interned names, kept until close */

/* The first size bytes of an object of the target, into buf (cap bytes),
 * checked to be of the type at type_addr when that is known: a stale
 * pointer mostly lands on another type. */
static int read_object(struct pystack *r, uint64_t addr, uint8_t *buf, size_t cap, long size,
		       uint64_t type_addr)
{
	int err;

	if (size <= r->L.object_type || (size_t)size > cap)
		return -EAGAIN;
	err = pystack_sread(r, addr, buf, (size_t)size);
	if (err)
		return err;
	if (type_addr && pystack_ptr_at(buf, r->L.object_type) != type_addr)
		return -EAGAIN;
	return 0;
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

		err = pystack_sread(r, at, data, (size_t)len * kind);
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
	err = pystack_sread(r, addr + (uint64_t)r->L.bytes_sval, *out, (size_t)len);
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
	id->name_addr = pystack_ptr_at(buf, L->code_qualname >= 0 ? L->code_qualname : L->code_name);
	id->file_addr = pystack_ptr_at(buf, L->code_filename);
	id->table_addr = pystack_ptr_at(buf, L->code_linetable);
	id->firstlineno = pystack_int_at(buf, L->code_firstlineno);
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
	c->firsttraceable = L->code_firsttraceable >= 0 ? pystack_int_at(buf, L->code_firsttraceable) : 0;
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
int pystack_code_get(struct pystack *r, uint64_t addr, int check, const struct pystack_code **out)
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

int pystack_code_line(const struct pystack *r, const struct pystack_code *c, int lasti_bytes)
{
	if (!c->table)
		return r->minor >= 10 ? 0 : c->firstlineno;
	if (r->minor <= 9)
		return pystack_line_lnotab(c->table, c->table_len, c->firstlineno, lasti_bytes);
	if (r->minor == 10)
		return pystack_line_310(c->table, c->table_len, c->firstlineno, lasti_bytes);
	return pystack_line_311(c->table, c->table_len, c->firstlineno, lasti_bytes);
}
