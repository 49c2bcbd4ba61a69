/* pystack_elf.c - a few symbols of an ELF file's .dynsym, read with pread
 * from the file itself (see pystack_layout.h).  Only what finding
 * _PyRuntime needs: 64-bit little-endian files; .dynsym found through the
 * section headers (Debian strips .symtab, never .dynsym), or, when those
 * are gone too (sstrip), through PT_DYNAMIC and its GNU hash table, as the
 * dynamic loader does; the same tables can be read from a process that
 * loaded the file.  Every size read from the file is checked against the
 * file, every table walk is bounded. */
#include "pystack_layout.h"

#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* libpython's .dynsym is ~100 KiB; a table far larger is not one. */
#define MAX_TABLE_BYTES (64u << 20)

static int read_at(int fd, void *buf, size_t len, uint64_t off)
{
	size_t got = 0;

	while (got < len) {
		ssize_t r = pread(fd, (char *)buf + got, len - got, (off_t)(off + got));

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			return -ENOEXEC; /* truncated file */
		got += (size_t)r;
	}
	return 0;
}

/* A malloc'd copy of a file range that must lie inside the file. */
static void *read_range(int fd, uint64_t off, uint64_t len, uint64_t file_size, int *err)
{
	void *p;

	if (len == 0 || len > MAX_TABLE_BYTES || off > file_size || len > file_size - off) {
		*err = -ENOEXEC;
		return NULL;
	}
	p = malloc(len);
	if (!p) {
		*err = -ENOMEM;
		return NULL;
	}
	*err = read_at(fd, p, len, off);
	if (*err) {
		free(p);
		return NULL;
	}
	return p;
}

/* The program headers, MAX_PHDRS at most. */
#define MAX_PHDRS 64
struct phdrs {
	Elf64_Phdr ph[MAX_PHDRS];
	unsigned n;
};

static int read_phdrs(int fd, const Elf64_Ehdr *eh, uint64_t file_size, struct phdrs *p)
{
	if (eh->e_phentsize != sizeof(Elf64_Phdr) || eh->e_phoff > file_size ||
	    eh->e_phnum > MAX_PHDRS || eh->e_phnum == 0)
		return -ENOEXEC;
	p->n = eh->e_phnum;
	return read_at(fd, p->ph, p->n * sizeof(Elf64_Phdr), eh->e_phoff);
}

static int first_load(const struct phdrs *p, struct pystack_elf *elf)
{
	for (unsigned i = 0; i < p->n; i++)
		if (p->ph[i].p_type == PT_LOAD) {
			elf->first_load_vaddr = p->ph[i].p_vaddr - p->ph[i].p_offset;
			return 0;
		}
	return -ENOEXEC;
}

static void match_symbols(const Elf64_Sym *syms, size_t nsyms, const char *str, size_t strsz,
			  const char *const *names, uint64_t *values, int n)
{
	for (size_t s = 0; s < nsyms; s++) {
		const char *name;

		if (syms[s].st_name >= strsz || syms[s].st_shndx == SHN_UNDEF)
			continue;
		name = str + syms[s].st_name;
		for (int k = 0; k < n; k++)
			if (!values[k] && strcmp(name, names[k]) == 0)
				values[k] = syms[s].st_value;
	}
}

/* Through the section headers: .dynsym and its string table. */
static int by_sections(int fd, const Elf64_Ehdr *eh, uint64_t file_size,
		       const char *const *names, uint64_t *values, int n)
{
	Elf64_Shdr *sh = NULL;
	Elf64_Sym *syms = NULL;
	char *str = NULL;
	int r = -ENOEXEC, found = 0;

	if (eh->e_shoff == 0 || eh->e_shnum == 0 || eh->e_shentsize != sizeof(Elf64_Shdr))
		return -ENOEXEC; /* stripped of its section headers (sstrip) */
	sh = read_range(fd, eh->e_shoff, (uint64_t)eh->e_shnum * sizeof *sh, file_size, &r);
	if (!sh)
		return r;
	for (unsigned i = 0; i < eh->e_shnum && !found; i++) {
		const Elf64_Shdr *link;

		if (sh[i].sh_type != SHT_DYNSYM || sh[i].sh_link >= eh->e_shnum ||
		    sh[i].sh_entsize != sizeof(Elf64_Sym))
			continue;
		link = &sh[sh[i].sh_link];
		syms = read_range(fd, sh[i].sh_offset, sh[i].sh_size, file_size, &r);
		str = syms ? read_range(fd, link->sh_offset, link->sh_size, file_size, &r) : NULL;
		if (!syms || !str)
			goto out;
		str[link->sh_size - 1] = '\0'; /* every name ends inside the table */
		match_symbols(syms, sh[i].sh_size / sizeof *syms, str, link->sh_size, names, values,
			      n);
		found = 1;
	}
	r = found ? 0 : -ENOEXEC;
out:
	free(sh);
	free(syms);
	free(str);
	return r;
}

/* The file offset of a virtual address of the file, or 0. */
static uint64_t vaddr_to_offset(const struct phdrs *p, uint64_t v)
{
	for (unsigned i = 0; i < p->n; i++) {
		const Elf64_Phdr *ph = &p->ph[i];

		if (ph->p_type == PT_LOAD && v >= ph->p_vaddr && v - ph->p_vaddr < ph->p_filesz)
			return v - ph->p_vaddr + ph->p_offset;
	}
	return 0;
}

/* Where the dynamic tables are read from: the file (at file offsets) or
 * the memory of a process that loaded it (at bias + virtual address). */
struct elfview {
	int (*read)(void *ctx, uint64_t at, void *buf, size_t len);
	void *ctx;
	int in_memory;
	uint64_t bias;
	struct phdrs ph;
};

static int read_file(void *ctx, uint64_t at, void *buf, size_t len)
{
	return read_at(*(int *)ctx, buf, len, at);
}

static uint64_t view_at(const struct elfview *v, uint64_t vaddr)
{
	if (!v->in_memory)
		return vaddr_to_offset(&v->ph, vaddr);
	/* glibc's ld.so rewrites these PT_DYNAMIC entries in place with the
	 * load bias added; the file has them without. */
	if (v->bias && vaddr >= v->bias)
		return vaddr;
	return v->bias + vaddr;
}

/* What the dynamic loader itself uses: PT_DYNAMIC's symbol table, string
 * table and GNU hash table (DT_GNU_HASH), as the view's addresses. */
struct dyn_tables {
	uint64_t symtab, strtab, strsz, gnu_hash;
};

/* PT_DYNAMIC entries read at most: a real one has a few dozen. */
#define MAX_DYN 1024

static int read_dynamic(const struct elfview *v, struct dyn_tables *t)
{
	uint64_t vsym = 0, vstr = 0, vhash = 0;
	Elf64_Dyn d;

	memset(t, 0, sizeof *t);
	for (unsigned i = 0; i < v->ph.n; i++) {
		const Elf64_Phdr *ph = &v->ph.ph[i];
		uint64_t at = v->in_memory ? v->bias + ph->p_vaddr : ph->p_offset;

		if (ph->p_type != PT_DYNAMIC)
			continue;
		for (uint64_t k = 0; k < MAX_DYN && (k + 1) * sizeof d <= ph->p_filesz; k++) {
			if (v->read(v->ctx, at + k * sizeof d, &d, sizeof d))
				return -ENOEXEC;
			if (d.d_tag == DT_NULL)
				break;
			if (d.d_tag == DT_SYMTAB)
				vsym = d.d_un.d_ptr;
			else if (d.d_tag == DT_STRTAB)
				vstr = d.d_un.d_ptr;
			else if (d.d_tag == DT_STRSZ)
				t->strsz = d.d_un.d_val;
			else if (d.d_tag == DT_GNU_HASH)
				vhash = d.d_un.d_ptr;
		}
	}
	if (!vsym || !vstr || !vhash || !t->strsz)
		return -ENOEXEC;
	t->symtab = view_at(v, vsym);
	t->strtab = view_at(v, vstr);
	t->gnu_hash = view_at(v, vhash);
	return t->symtab && t->strtab && t->gnu_hash ? 0 : -ENOEXEC;
}

static uint32_t gnu_hash(const char *s)
{
	uint32_t h = 5381;

	while (*s)
		h = h * 33 + (uint8_t)*s++;
	return h;
}

/* A chain of the GNU hash table longer than this is not a real one. */
#define MAX_CHAIN 100000

/* One name through DT_GNU_HASH: its bucket, then its chain, comparing the
 * hash (low bit: end of chain) and then the name. */
static int gnu_lookup(const struct elfview *v, const struct dyn_tables *t, const char *name,
		      uint64_t *value)
{
	uint32_t head[4], h = gnu_hash(name), bucket, chain;
	size_t len = strlen(name);
	uint64_t buckets, chains;
	int r;

	r = v->read(v->ctx, t->gnu_hash, head, sizeof head);
	if (r)
		return r;
	if (head[0] == 0)
		return 0;
	buckets = t->gnu_hash + sizeof head + (uint64_t)head[2] * 8; /* after the bloom words */
	chains = buckets + (uint64_t)head[0] * 4;
	r = v->read(v->ctx, buckets + (h % head[0]) * 4, &bucket, sizeof bucket);
	if (r || bucket < head[1])
		return r;
	for (uint32_t i = bucket; i - bucket < MAX_CHAIN; i++) {
		Elf64_Sym sym;
		char got[256];

		r = v->read(v->ctx, chains + (uint64_t)(i - head[1]) * 4, &chain, sizeof chain);
		if (r)
			return r;
		if ((chain | 1) == (h | 1)) {
			r = v->read(v->ctx, t->symtab + (uint64_t)i * sizeof sym, &sym, sizeof sym);
			if (r)
				return r;
			if (sym.st_name < t->strsz && len < sizeof got &&
			    v->read(v->ctx, t->strtab + sym.st_name, got, len + 1) == 0 &&
			    memcmp(got, name, len + 1) == 0 && sym.st_shndx != SHN_UNDEF) {
				*value = sym.st_value;
				return 0;
			}
		}
		if (chain & 1)
			return 0;
	}
	return -ENOEXEC;
}

static int by_gnu_hash(const struct elfview *v, const char *const *names, uint64_t *values,
		       int n)
{
	struct dyn_tables t;
	int r = read_dynamic(v, &t);

	for (int k = 0; k < n && !r; k++)
		r = gnu_lookup(v, &t, names[k], &values[k]);
	return r;
}

static int check_ehdr(const Elf64_Ehdr *eh)
{
	if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh->e_ident[EI_DATA] != ELFDATA2LSB)
		return -ENOEXEC;
	return 0;
}

int pystack_elf_symbols_loaded(int (*read)(void *ctx, uint64_t addr, void *buf, size_t len),
			       void *ctx, uint64_t base, const char *const *names,
			       uint64_t *values, int n, struct pystack_elf *elf)
{
	struct elfview v = { .read = read, .ctx = ctx, .in_memory = 1 };
	Elf64_Ehdr eh;
	int r;

	for (int k = 0; k < n; k++)
		values[k] = 0;
	r = read(ctx, base, &eh, sizeof eh);
	if (!r)
		r = check_ehdr(&eh);
	if (r)
		return r;
	elf->is_dyn = eh.e_type == ET_DYN;
	if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum > MAX_PHDRS || eh.e_phnum == 0)
		return -ENOEXEC;
	v.ph.n = eh.e_phnum;
	r = read(ctx, base + eh.e_phoff, v.ph.ph, v.ph.n * sizeof(Elf64_Phdr));
	if (!r)
		r = first_load(&v.ph, elf);
	if (r)
		return r;
	v.bias = elf->is_dyn ? base - elf->first_load_vaddr : 0;
	return by_gnu_hash(&v, names, values, n);
}

int pystack_elf_symbols(int fd, const char *const *names, uint64_t *values, int n,
			struct pystack_elf *elf)
{
	struct elfview v = { .read = read_file, .ctx = &fd };
	Elf64_Ehdr eh;
	struct stat st;
	int r;

	for (int k = 0; k < n; k++)
		values[k] = 0;
	if (fstat(fd, &st) < 0)
		return -errno;
	r = read_at(fd, &eh, sizeof eh, 0);
	if (!r)
		r = check_ehdr(&eh);
	if (r)
		return r;
	elf->is_dyn = eh.e_type == ET_DYN;
	r = read_phdrs(fd, &eh, (uint64_t)st.st_size, &v.ph);
	if (!r)
		r = first_load(&v.ph, elf);
	if (r)
		return r;
	r = by_sections(fd, &eh, (uint64_t)st.st_size, names, values, n);
	if (r != -ENOEXEC)
		return r;
	return by_gnu_hash(&v, names, values, n);
}
