/* pystack.c - opening a stack reader: which file holds the interpreter,
 * where it is loaded, which version it is (see pystack.h).  Walking the
 * stacks is lib/pystack_sample.c. */
#include "pystack_reader.h"

#include "memtide/procfs.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#define MAX_MAPS_BYTES (8u << 20)
#define DELETED " (deleted)"
#define DELETED_LEN (sizeof DELETED - 1)

/* The symbols looked up, in this order. */
enum { SYM_RUNTIME, SYM_VERSION, SYM_CODE_TYPE, SYM_UNICODE_TYPE, SYM_BYTES_TYPE, SYM_REFDEBUG,
       NSYMS };
static const char *const sym_names[NSYMS] = {
	"_PyRuntime", "Py_Version", "PyCode_Type", "PyUnicode_Type", "PyBytes_Type",
	"_Py_NegativeRefcount", /* only in debug builds, whose objects are bigger */
};

static int fail(char *why, size_t why_len, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int fail(char *why, size_t why_len, int err, const char *fmt, ...)
{
	va_list ap;

	if (why && why_len) {
		va_start(ap, fmt);
		vsnprintf(why, why_len, fmt, ap);
		va_end(ap);
	}
	return err;
}

int pystack_peek(struct pystack *r, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = { buf, len }, remote = { (void *)(uintptr_t)addr, len };
	ssize_t n;

	/* A pointer into the first page is a torn read, not an address. */
	if (addr < 4096)
		return -EAGAIN;
	r->reads++;
	n = process_vm_readv(r->pid, &local, 1, &remote, 1, 0);
	if (n == (ssize_t)len)
		return 0;
	if (n < 0 && (errno == ESRCH || errno == EPERM))
		return -errno;
	return -EAGAIN;
}

unsigned pystack_peek_pages(struct pystack *r, const uint64_t *addr, uint8_t *const *buf,
			    unsigned n)
{
	struct iovec local[PYSTACK_PAGES], remote[PYSTACK_PAGES];
	ssize_t got;

	if (n > PYSTACK_PAGES)
		n = PYSTACK_PAGES;
	for (unsigned i = 0; i < n; i++) {
		local[i] = (struct iovec){ buf[i], PYSTACK_PAGE };
		remote[i] = (struct iovec){ (void *)(uintptr_t)addr[i], PYSTACK_PAGE };
	}
	if (!n)
		return 0;
	r->reads++;
	/* A partial read stops at a whole iovec, never inside one. */
	got = process_vm_readv(r->pid, local, n, remote, n, 0);
	return got > 0 ? (unsigned)(got / PYSTACK_PAGE) : 0;
}

static int pidfd_alive(int pidfd)
{
#ifdef SYS_pidfd_send_signal
	return syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) == 0 || errno != ESRCH;
#else
	(void)pidfd;
	return 1;
#endif
}

int pystack_gone_or(struct pystack *r, int err)
{
	if (err == -ESRCH)
		return err;
	if (r->pidfd >= 0 ? !pidfd_alive(r->pidfd) : (kill(r->pid, 0) < 0 && errno == ESRCH))
		return -ESRCH;
	return err;
}

/* One line of /proc/PID/maps that maps a file. */
struct map_line {
	uint64_t start, end, offset, inode;
	unsigned dev_major, dev_minor;
	const char *path; /* into the maps buffer, up to the newline */
	size_t path_len;
};

static int parse_map_line(const char *p, const char *eol, struct map_line *m)
{
	int n = 0;
	char perms[5];

	if (sscanf(p, "%" SCNx64 "-%" SCNx64 " %4s %" SCNx64 " %x:%x %" SCNu64 " %n", &m->start, &m->end,
		   perms, &m->offset, &m->dev_major, &m->dev_minor, &m->inode, &n) < 7 ||
	    n <= 0 || p + n > eol)
		return 0;
	m->path = p + n;
	m->path_len = (size_t)(eol - m->path);
	return m->path_len > 0 && m->path[0] == '/';
}

static const char *base_of(const char *path, size_t len, size_t *blen)
{
	const char *b = path;

	for (size_t i = 0; i < len; i++)
		if (path[i] == '/')
			b = path + i + 1;
	*blen = len - (size_t)(b - path);
	return b;
}

/* The lowest mapping of the file (dev, inode), or of a libpython when
 * want_libpython: its start address and path. */
static int find_mapping(const char *maps, size_t len, const struct stat *st, int want_libpython,
			struct map_line *out)
{
	const char *p = maps, *end = maps + len;
	int found = 0;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		struct map_line m;

		if (!eol)
			eol = end;
		if (parse_map_line(p, eol, &m)) {
			size_t blen;
			const char *b = base_of(m.path, m.path_len, &blen);
			int match = want_libpython
					    ? blen > 12 && strncmp(b, "libpython", 9) == 0 &&
						      memmem(b, blen, ".so", 3)
					    : m.inode == st->st_ino && m.dev_major == major(st->st_dev) &&
						      m.dev_minor == minor(st->st_dev);

			if (match && (!found || m.start < out->start)) {
				*out = m;
				found = 1;
			}
		}
		p = eol + 1;
	}
	return found;
}

/* "3.11" from ".../libpython3.11.so.1.0" or ".../python3.11"; 0 if none. */
static int minor_from_name(const char *path, size_t len, char *suffix)
{
	size_t blen;
	const char *b = base_of(path, len, &blen), *s;
	char name[NAME_MAX + 1];
	int minor = 0;

	if (blen > NAME_MAX)
		return 0;
	memcpy(name, b, blen);
	name[blen] = '\0';
	s = strstr(name, "python3.");
	if (!s)
		return 0;
	s += 8;
	while (*s >= '0' && *s <= '9' && minor < 1000)
		minor = minor * 10 + (*s++ - '0');
	*suffix = *s == 'd' || *s == 't' ? *s : '\0';
	return minor;
}

struct found {
	int fd;
	uint64_t sym[NSYMS];
	uint64_t bias; /* add to the file's addresses */
	char path[PATH_MAX];
};

static int load_file(struct found *f, const char *maps, size_t maps_len, int want_libpython)
{
	struct pystack_elf elf;
	struct map_line m;
	struct stat st;
	int r;

	if (fstat(f->fd, &st) < 0)
		return -errno;
	r = pystack_elf_symbols(f->fd, sym_names, f->sym, NSYMS, &elf);
	if (r || !f->sym[SYM_RUNTIME])
		return r ? r : -ENOENT;
	if (!find_mapping(maps, maps_len, &st, want_libpython, &m))
		return -ENOENT;
	/* A non-PIE executable runs at the addresses it was linked at. */
	f->bias = elf.is_dyn ? m.start - m.offset - elf.first_load_vaddr : 0;
	return 0;
}

static int check_access(struct pystack *r, int err, char *why, size_t why_len)
{
	if (err == -EPERM)
		return fail(why, why_len, -EPERM,
			    "no ptrace read access to process %d: run as its user with "
			    "kernel.yama.ptrace_scope <= 1, or as root (CAP_SYS_PTRACE)",
			    r->pid);
	if (err == -ESRCH)
		return fail(why, why_len, -ESRCH, "process %d is gone", r->pid);
	return fail(why, why_len, -ENOTSUP, "cannot read _PyRuntime of process %d", r->pid);
}

static int peek_for_elf(void *r, uint64_t addr, void *buf, size_t len)
{
	return pystack_peek(r, addr, buf, len);
}

/* The symbols of a libpython that cannot be opened, read from the target's
 * memory: the mapping m must be that of its file offset 0. */
static int load_loaded(struct pystack *r, struct found *f, const struct map_line *m)
{
	struct pystack_elf elf;
	int err;

	if (m->offset != 0)
		return -ENOENT;
	err = pystack_elf_symbols_loaded(peek_for_elf, r, m->start, sym_names, f->sym, NSYMS, &elf);
	if (err || !f->sym[SYM_RUNTIME])
		return err ? err : -ENOENT;
	f->bias = elf.is_dyn ? m->start - elf.first_load_vaddr : 0;
	return 0;
}

/* The executable if it holds _PyRuntime (Debian's python3.11), else the
 * libpython it maps (pyenv's builds, embedded interpreters). */
static int find_runtime(struct pystack *rd, const char *maps, size_t maps_len, struct found *f,
			char *why, size_t why_len)
{
	int pid = rd->pid;
	char link[64], path[PATH_MAX + 32];
	struct map_line m;
	ssize_t n;
	int r;

	snprintf(link, sizeof link, "/proc/%d/exe", pid);
	n = readlink(link, f->path, sizeof f->path - 1);
	f->path[n > 0 ? n : 0] = '\0';
	f->fd = open(link, O_RDONLY | O_CLOEXEC);
	if (f->fd < 0)
		return errno == ENOENT ? fail(why, why_len, -ESRCH, "process %d is gone", pid)
				       : fail(why, why_len, -EPERM,
					      "cannot read the executable of process %d: %s", pid,
					      strerror(errno));
	r = load_file(f, maps, maps_len, 0);
	if (r == 0)
		return 0;
	close(f->fd);
	f->fd = -1;
	if (!find_mapping(maps, maps_len, NULL, 1, &m)) {
		const char *exe = strrchr(f->path, '/');

		if (strstr(exe ? exe : f->path, "pypy") || memmem(maps, maps_len, "libpypy", 7))
			return fail(why, why_len, -ENOTSUP,
				    "PyPy is not supported (CPython 3.8 to 3.13 are)");
		return fail(why, why_len, -ENOTSUP,
			    "no _PyRuntime in %s nor a libpython mapped: not CPython 3.8 to 3.13, "
			    "or its symbols are stripped",
			    f->path[0] ? f->path : "its executable");
	}
	snprintf(f->path, sizeof f->path, "%.*s", (int)m.path_len, m.path);
	if (m.path_len > DELETED_LEN &&
	    memcmp(m.path + m.path_len - DELETED_LEN, DELETED, DELETED_LEN) == 0) {
		/* Replaced on disk (an upgrade) while the target runs: the
		 * kernel still holds the file it mapped. */
		snprintf(path, sizeof path, "/proc/%d/map_files/%" PRIx64 "-%" PRIx64, pid, m.start,
			 m.end);
		f->fd = open(path, O_RDONLY | O_CLOEXEC);
	} else {
		/* Through the target's root first: it may live in a container. */
		snprintf(path, sizeof path, "/proc/%d/root%s", pid, f->path);
		f->fd = open(path, O_RDONLY | O_CLOEXEC);
		if (f->fd < 0)
			f->fd = open(f->path, O_RDONLY | O_CLOEXEC);
	}
	if (f->fd < 0) {
		int open_err = errno;

		/* Read it where the target has it loaded. */
		r = load_loaded(rd, f, &m);
		if (r == -ESRCH || r == -EPERM)
			return check_access(rd, r, why, why_len);
		if (r)
			return fail(why, why_len, -ENOTSUP, "cannot open %s: %s", f->path,
				    strerror(open_err));
		return 0;
	}
	r = load_file(f, maps, maps_len, 1);
	if (r)
		return fail(why, why_len, -ENOTSUP,
			    "no _PyRuntime in %s: not CPython 3.8 to 3.13, or its symbols are stripped",
			    f->path);
	return 0;
}

/* The version: Py_Version (3.11+), else the file's name; 3.13 and later
 * also carry it in _Py_DebugOffsets. */
static int pick_version(struct pystack *r, const struct found *f, char *why, size_t why_len)
{
	uint8_t dbg[PYSTACK_DEBUG_OFFSETS_BYTES];
	uint64_t hex = 0;
	char suffix = '\0';
	int err;

	err = pystack_peek(r, r->runtime, dbg, sizeof dbg);
	if (err)
		return check_access(r, err, why, why_len);
	if (f->sym[SYM_VERSION]) {
		err = pystack_peek(r, f->sym[SYM_VERSION] + f->bias, &hex, sizeof hex);
		if (err)
			return check_access(r, err, why, why_len);
		r->minor = (hex >> 24) == 3 ? (int)((hex >> 16) & 0xff) : -1;
	} else if (memcmp(dbg, "xdebugpy", 8) == 0) {
		memcpy(&hex, dbg + 8, sizeof hex);
		r->minor = (hex >> 24) == 3 ? (int)((hex >> 16) & 0xff) : -1;
	} else {
		r->minor = minor_from_name(f->path, strlen(f->path), &suffix);
	}
	minor_from_name(f->path, strlen(f->path), &suffix);
	if (r->minor <= 0)
		return fail(why, why_len, -ENOTSUP,
			    "cannot tell which CPython %s is (no Py_Version, no version in its name)",
			    f->path);
	if (r->minor < 8 || r->minor > 13)
		return fail(why, why_len, -ENOTSUP,
			    "CPython 3.%d is not supported (3.8 to 3.13 are)", r->minor);
	if (suffix == 't' || (r->minor >= 13 && memcmp(dbg, "xdebugpy", 8) == 0 && dbg[16]))
		return fail(why, why_len, -ENOTSUP,
			    "free-threaded CPython 3.%dt is not supported", r->minor);
	if (suffix == 'd' || f->sym[SYM_REFDEBUG])
		return fail(why, why_len, -ENOTSUP,
			    "a debug build of CPython 3.%d is not supported", r->minor);
	if (r->minor >= 13) {
		if (pystack_layout_from_debug(dbg, sizeof dbg, &r->L))
			return fail(why, why_len, -ENOTSUP,
				    "CPython 3.%d without a readable _Py_DebugOffsets", r->minor);
	} else {
		r->L = *pystack_layout_for(r->minor);
	}
	if (hex)
		snprintf(r->version, sizeof r->version, "CPython %d.%d.%d", (int)(hex >> 24),
			 (int)((hex >> 16) & 0xff), (int)((hex >> 8) & 0xff));
	else
		snprintf(r->version, sizeof r->version, "CPython 3.%d", r->minor);
	return 0;
}

int pystack_open(int pid, struct pystack **out, char *why, size_t why_len)
{
	struct found f = { .fd = -1 };
	struct pystack *r;
	char *maps;
	size_t maps_len;
	int err;

	*out = NULL;
	if (why && why_len)
		why[0] = '\0';
	r = calloc(1, sizeof *r);
	if (!r)
		return fail(why, why_len, -ENOMEM, "out of memory");
	r->pid = pid;
	r->pidfd = -1;
	r->pthread_tid_at = -1;
	/* maps needs the same ptrace read access as process_vm_readv. */
	maps = procfs_read_all("/proc", pid, "maps", MAX_MAPS_BYTES, &maps_len);
	if (!maps) {
		err = check_access(r, errno == EACCES || errno == EPERM ? -EPERM : -ESRCH, why,
				   why_len);
		goto out;
	}
#ifdef SYS_pidfd_open
	r->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
#else
	r->pidfd = -1;
#endif
	err = find_runtime(r, maps, maps_len, &f, why, why_len);
	free(maps);
	if (f.fd >= 0)
		close(f.fd);
	if (err)
		goto out;
	r->runtime = f.sym[SYM_RUNTIME] + f.bias;
	r->code_type = f.sym[SYM_CODE_TYPE] ? f.sym[SYM_CODE_TYPE] + f.bias : 0;
	r->unicode_type = f.sym[SYM_UNICODE_TYPE] ? f.sym[SYM_UNICODE_TYPE] + f.bias : 0;
	r->bytes_type = f.sym[SYM_BYTES_TYPE] ? f.sym[SYM_BYTES_TYPE] + f.bias : 0;
	err = pick_version(r, &f, why, why_len);
	if (err)
		goto out;
	r->code_slots = 64;
	r->codes = calloc(r->code_slots, sizeof *r->codes);
	if (!r->codes) {
		err = fail(why, why_len, -ENOMEM, "out of memory");
		goto out;
	}
	*out = r;
	return 0;
out:
	pystack_close(r);
	return err;
}

const char *pystack_version(const struct pystack *r)
{
	return r->version;
}

void pystack_close(struct pystack *r)
{
	if (!r)
		return;
	pystack_cache_free(r);
	if (r->pidfd >= 0)
		close(r->pidfd);
	free(r);
}
