/* pyinfo.c - Python detection and naming (see include/memtide/pyinfo.h). */
#include "memtide/pyinfo.h"

#include "memtide/redact.h"

#include "memtide/procfs.h"
#include "memtide/text.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NAME_MAX_BYTES 160 /* display names stay one readable line */
#define MAX_ARGV (128 * 1024)
#define MAX_MAPS (4 << 20) /* a process with huge maps: give up, not Python */

int pyinfo_exe_is_python(const char *exe)
{
	const char *b = text_base_name(exe), *s;
	size_t n = strlen(b);
	static const char deleted[] = " (deleted)";

	/* The binary was replaced under a running process (an upgrade). */
	if (n >= sizeof deleted - 1 && strcmp(b + n - (sizeof deleted - 1), deleted) == 0)
		n -= sizeof deleted - 1;
	if (n >= 6 && strncmp(b, "python", 6) == 0)
		s = b + 6;
	else if (n >= 4 && strncmp(b, "pypy", 4) == 0)
		s = b + 4;
	else
		return 0;
	while (s < b + n && ((*s >= '0' && *s <= '9') || *s == '.'))
		s++;
	while (s < b + n && strchr("dmut", *s))
		s++;
	return s == b + n;
}

int pyinfo_maps_libpython(const char *maps, size_t len, char *ver, size_t vlen)
{
	const char *p = maps, *end = maps + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end;
		const char *slash = NULL;

		for (const char *q = eol; q > p; q--)
			if (q[-1] == '/') {
				slash = q;
				break;
			}
		/* libpython3.11.so.1.0, libpython3.12d.so, libpypy3-c.so */
		if (slash && eol - slash > 12 && strncmp(slash, "libpython", 9) == 0 &&
		    memmem(slash, (size_t)(eol - slash), ".so", 3)) {
			size_t k = 0;
			const char *s = slash + 3; /* "python..." */

			while (s < eol && k + 1 < vlen && strncmp(s, ".so", 3) != 0)
				ver[k++] = *s++;
			ver[k] = '\0';
			return 1;
		}
		p = eol + 1;
	}
	return 0;
}

/* A NUL-separated list as an array of pointers into it. */
static size_t split(const char *buf, size_t len, const char **v, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < len && n < max;) {
		v[n++] = buf + i;
		i += strnlen(buf + i, len - i) + 1;
	}
	return n;
}

static const char *env_get(const char *env, size_t len, const char *key)
{
	size_t k = strlen(key);

	for (size_t i = 0; i < len;) {
		const char *e = env + i;
		size_t n = strnlen(e, len - i);

		if (n > k && memcmp(e, key, k) == 0 && e[k] == '=')
			return e + k + 1;
		i += n + 1;
	}
	return NULL;
}

static int has_pyvenv(const char *sysroot, const char *dir)
{
	char path[4096];

	snprintf(path, sizeof path, "%s%s/pyvenv.cfg", sysroot, dir);
	return access(path, F_OK) == 0;
}

/* The venv a bin/python path lives in: DIR/bin/python with DIR/pyvenv.cfg. */
static char *venv_of(const char *sysroot, const char *bin)
{
	char *d = bin && bin[0] == '/' ? strdup(bin) : NULL, *s;

	for (int up = 0; d && up < 2; up++) {
		if (!(s = strrchr(d, '/')) || s == d) {
			free(d);
			return NULL;
		}
		*s = '\0';
	}
	if (d && !has_pyvenv(sysroot, d)) {
		free(d);
		return NULL;
	}
	return d;
}

/* "myapp" for /srv/myapp/venv: a generic directory name says nothing. */
static void venv_label(const char *venv, char *out, size_t len)
{
	static const char *const generic[] = {"venv", ".venv", "env", ".env", "virtualenv"};
	char tmp[4096];
	const char *b;
	size_t n;

	snprintf(tmp, sizeof tmp, "%s", venv);
	n = strlen(tmp);
	while (n > 1 && tmp[n - 1] == '/')
		tmp[--n] = '\0';
	b = text_base_name(tmp);
	for (size_t i = 0; i < sizeof generic / sizeof generic[0]; i++)
		if (strcmp(b, generic[i]) == 0 && b > tmp + 1) {
			tmp[b - tmp - 1] = '\0';
			b = text_base_name(tmp);
			break;
		}
	snprintf(out, len, "%s", b);
}

/* Appends the display form of args[from..n) (joined by spaces) to buf. */
static void append_args(char *buf, size_t len, const char **args, size_t n, size_t from,
			const char *argv, size_t argv_len)
{
	char *t;
	size_t used = strlen(buf);

	if (from >= n)
		return;
	t = text_argv(args[from], argv_len - (size_t)(args[from] - argv), 0);
	if (!t)
		return;
	snprintf(buf + used, len - used, "%s%s", used ? " " : "", t);
	free(t);
}

/* Cuts s to at most max bytes without splitting a UTF-8 sequence. */
static void cut_utf8(char *s, size_t max)
{
	size_t n = strlen(s);

	if (n <= max)
		return;
	n = max - 3;
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	memcpy(s + n, "...", 4);
}

int pyinfo_describe(const char *exe, const char *argv, size_t argv_len,
		    const char *environ, size_t env_len, enum pyinfo_kind kind,
		    const char *interpreter, const char *sysroot, struct pyinfo *out)
{
	const char *args[256], *code = NULL, *venv_env;
	size_t n, i, rest = 0;
	char name[NAME_MAX_BYTES * 4] = "", label[256], *copy = NULL;
	int title = 0;

	memset(out, 0, sizeof *out);
	out->kind = kind;
	if (kind == PYINFO_NOT)
		return 0;
	/* setproctitle pads the rewritten title with NULs; a copy ends in
	 * exactly one, so every argument is a C string. */
	while (argv && argv_len && argv[argv_len - 1] == '\0')
		argv_len--;
	if (argv && argv_len) {
		if (!(copy = malloc(argv_len + 1)))
			return -ENOMEM;
		memcpy(copy, argv, argv_len);
		copy[argv_len] = '\0';
		argv = copy;
	}
	n = argv && argv_len ? split(argv, argv_len + 1, args, 256) : 0;
	if (kind == PYINFO_EXE) {
		const char *b = text_base_name(exe ? exe : "python");

		snprintf(out->interpreter, sizeof out->interpreter, "%.*s",
			 (int)strcspn(b, " "), b);
	} else {
		snprintf(out->interpreter, sizeof out->interpreter, "%s",
			 interpreter && *interpreter ? interpreter : "python");
	}
	/* A process that rewrote its argv (setproctitle: "gunicorn: worker
	 * [app]") is best called what it calls itself. */
	if (kind == PYINFO_EXE && n == 1 && !pyinfo_exe_is_python(args[0]))
		title = 1;
	if (kind == PYINFO_EXE && !title) {
		for (i = 1; i < n && !out->script && !out->module && !code; i++) {
			const char *a = args[i];

			if (strcmp(a, "--") == 0) {
				if (i + 1 < n)
					out->script = strdup(args[++i]);
				rest = i + 1;
				break;
			}
			if (a[0] != '-' || strcmp(a, "-") == 0) {
				out->script = strdup(a);
				rest = i + 1;
				break;
			}
			if (a[1] == '-') /* --version, --check-hash-based-pycs x */
				continue;
			for (const char *c = a + 1; *c; c++) {
				if (!strchr("mcWX", *c))
					continue;
				const char *val = c[1] ? c + 1 : i + 1 < n ? args[++i] : NULL;

				if (*c == 'm' && val)
					out->module = strdup(val);
				else if (*c == 'c' && val)
					code = val;
				rest = i + 1;
				break;
			}
		}
	}
	if (title) {
		append_args(name, sizeof name, args, n, 0, argv, argv_len);
	} else if (out->module) {
		snprintf(name, sizeof name, "%s", out->module);
		append_args(name, sizeof name, args, n, rest, argv, argv_len);
	} else if (out->script) {
		snprintf(name, sizeof name, "%s", text_base_name(out->script));
		append_args(name, sizeof name, args, n, rest, argv, argv_len);
	} else if (code) {
		char *t = text_argv(code, strlen(code), 0);

		snprintf(name, sizeof name, "%s -c %s", out->interpreter, t ? t : "");
		free(t);
	} else if (kind == PYINFO_EMBEDDED) {
		snprintf(name, sizeof name, "%s", text_base_name(exe ? exe : "?"));
		append_args(name, sizeof name, args, n, 1, argv, argv_len);
	} else {
		snprintf(name, sizeof name, "%s", out->interpreter);
	}
	cut_utf8(name, NAME_MAX_BYTES);
	venv_env = environ ? env_get(environ, env_len, "VIRTUAL_ENV") : NULL;
	if (venv_env && *venv_env)
		out->venv = strdup(venv_env);
	else if (!(out->venv = venv_of(sysroot, n ? args[0] : NULL)))
		out->venv = venv_of(sysroot, exe);
	if (out->venv) {
		size_t used = strlen(name);

		venv_label(out->venv, label, sizeof label);
		snprintf(name + used, sizeof name - used, " (venv %s)", label);
	}
	free(copy);
	if (!(out->name = strdup(name))) {
		pyinfo_free(out);
		return -ENOMEM;
	}
	return 0;
}

int pyinfo_read(const char *root, int pid, const char *sysroot,
		const struct redact *rd, struct pyinfo *out)
{
	char path[256], exe[4096], ver[64] = "";
	char *argv = NULL, *env = NULL, *maps;
	size_t argv_len = 0, env_len = 0, maps_len;
	enum pyinfo_kind kind = PYINFO_NOT;
	ssize_t n;
	int rc;

	memset(out, 0, sizeof *out);
	snprintf(path, sizeof path, "%s/%d/exe", root, pid);
	n = readlink(path, exe, sizeof exe - 1);
	if (n <= 0)
		return errno == ENOENT ? -ESRCH : 0; /* kernel threads have no exe */
	exe[n] = '\0';
	if (pyinfo_exe_is_python(exe)) {
		kind = PYINFO_EXE;
	} else if ((maps = procfs_read_all(root, pid, "maps", MAX_MAPS, &maps_len))) {
		if (pyinfo_maps_libpython(maps, maps_len, ver, sizeof ver))
			kind = PYINFO_EMBEDDED;
		free(maps);
	}
	if (kind == PYINFO_NOT)
		return 0;
	argv = procfs_read_all(root, pid, "cmdline", MAX_ARGV, &argv_len);
	if (argv && rd) {
		char *hidden = NULL;
		size_t hidden_len = 0;

		if (redact_argv(rd, argv, argv_len, &hidden, &hidden_len) < 0)
			hidden_len = 0;
		free(argv);
		argv = hidden;
		argv_len = hidden_len;
	}
	/* environ is readable by the owner and root only; without it the venv
	 * comes from the paths alone. */
	env = procfs_read_all(root, pid, "environ", MAX_ARGV, &env_len);
	rc = pyinfo_describe(exe, argv, argv_len, env, env_len, kind, ver, sysroot, out);
	free(argv);
	free(env);
	return rc;
}

void pyinfo_free(struct pyinfo *p)
{
	free(p->script);
	free(p->module);
	free(p->venv);
	free(p->name);
	p->script = p->module = p->venv = p->name = NULL;
}
