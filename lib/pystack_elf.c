/* pystack_elf.c - a few symbols of an ELF file's .dynsym, read with pread
 * from the file itself (see pystack_layout.h).  Only what finding
 * _PyRuntime needs: 64-bit little-endian files, section headers intact
 * (Debian strips .symtab, never .dynsym).  Every size read from the file is
 * checked against the file before it is used. */
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

static int first_load(int fd, const Elf64_Ehdr *eh, uint64_t file_size, struct pystack_elf *elf)
{
	Elf64_Phdr ph;

	if (eh->e_phentsize != sizeof ph || eh->e_phoff > file_size)
		return -ENOEXEC;
	for (unsigned i = 0; i < eh->e_phnum; i++) {
		int r = read_at(fd, &ph, sizeof ph, eh->e_phoff + (uint64_t)i * sizeof ph);

		if (r)
			return r;
		if (ph.p_type == PT_LOAD) {
			elf->first_load_vaddr = ph.p_vaddr - ph.p_offset;
			return 0;
		}
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

int pystack_elf_symbols(int fd, const char *const *names, uint64_t *values, int n,
			struct pystack_elf *elf)
{
	Elf64_Ehdr eh;
	Elf64_Shdr *sh = NULL;
	Elf64_Sym *syms = NULL;
	char *str = NULL;
	struct stat st;
	int r, found = 0;

	for (int k = 0; k < n; k++)
		values[k] = 0;
	if (fstat(fd, &st) < 0)
		return -errno;
	r = read_at(fd, &eh, sizeof eh, 0);
	if (r)
		return r;
	if (memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_ident[EI_DATA] != ELFDATA2LSB || eh.e_shentsize != sizeof(Elf64_Shdr))
		return -ENOEXEC;
	elf->is_dyn = eh.e_type == ET_DYN;
	r = first_load(fd, &eh, (uint64_t)st.st_size, elf);
	if (r)
		return r;
	sh = read_range(fd, eh.e_shoff, (uint64_t)eh.e_shnum * sizeof *sh, (uint64_t)st.st_size, &r);
	if (!sh)
		return r;
	for (unsigned i = 0; i < eh.e_shnum && !found; i++) {
		const Elf64_Shdr *link;

		if (sh[i].sh_type != SHT_DYNSYM || sh[i].sh_link >= eh.e_shnum ||
		    sh[i].sh_entsize != sizeof(Elf64_Sym))
			continue;
		link = &sh[sh[i].sh_link];
		syms = read_range(fd, sh[i].sh_offset, sh[i].sh_size, (uint64_t)st.st_size, &r);
		str = syms ? read_range(fd, link->sh_offset, link->sh_size, (uint64_t)st.st_size, &r)
			   : NULL;
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
