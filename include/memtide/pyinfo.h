/* pyinfo.h - is a process Python, and what should lists call it?
 *
 * Detection (ANCHORS.md): the basename of /proc/PID/exe, " (deleted)"
 * stripped, matches ^(python|pypy)[0-9.]*[dmut]*$ -- which catches venvs,
 * shebang scripts, a renamed comm (gunicorn) and multiprocessing children --
 * or a libpython*.so is mapped (/proc/PID/maps): an embedded interpreter
 * (uwsgi, mod_wsgi).  comm and argv[0] are hints only.
 *
 * Naming: the interpreter ("python3.11"), the script or "-m module" from
 * argv, and the virtualenv -- VIRTUAL_ENV from /proc/PID/environ when set,
 * else a pyvenv.cfg beside the bin/ of argv[0] or of exe (a venv's
 * bin/python is usually a symlink, so exe alone names the system python).
 * The display name is the script's basename or the module, then its
 * arguments, then " (venv NAME)": "gunicorn app:wsgi (venv myapp)".  A venv
 * directory called venv, .venv or env is named after its parent directory.
 *
 * root is the /proc tree ("/proc" or a fixture); sysroot prefixes the paths
 * checked for pyvenv.cfg ("" for the real file system).
 */
#ifndef MEMTIDE_PYINFO_H
#define MEMTIDE_PYINFO_H

#include <stddef.h>

enum pyinfo_kind {
	PYINFO_NOT = 0,
	PYINFO_EXE = 1,      /* the executable is the interpreter */
	PYINFO_EMBEDDED = 2, /* libpython is mapped into another program */
};

struct pyinfo {
	enum pyinfo_kind kind;
	char interpreter[64]; /* "python3.11", "pypy3"; "" when not Python */
	char *script;         /* as given in argv, malloc'd, or NULL */
	char *module;         /* of -m, malloc'd, or NULL */
	char *venv;           /* the virtualenv directory, malloc'd, or NULL */
	char *name;           /* display name, malloc'd; NULL when not Python */
};

/* 1 when the basename of exe (a /proc/PID/exe target) names a Python
 * interpreter, else 0. */
int pyinfo_exe_is_python(const char *exe);

/* 1 when the /proc/PID/maps text maps a libpython*.so, with the interpreter
 * it implies ("python3.11") in ver; else 0. */
int pyinfo_maps_libpython(const char *maps, size_t len, char *ver, size_t vlen);

/* Names a Python process from its exe, argv (NUL-separated), environ
 * (NUL-separated, may be NULL) and kind.  Returns 0 or -ENOMEM; free the
 * result with pyinfo_free(). */
int pyinfo_describe(const char *exe, const char *argv, size_t argv_len,
		    const char *environ, size_t env_len, enum pyinfo_kind kind,
		    const char *interpreter, const char *sysroot, struct pyinfo *out);

/* Detects and names process pid below root, from its argv redacted with rd
 * (redact.h; NULL: as it is).  maps is read only when exe is
 * not Python.  Returns 0 (out->kind PYINFO_NOT for other programs),
 * -ESRCH when the process is gone, or -ENOMEM. */
struct redact;

int pyinfo_read(const char *root, int pid, const char *sysroot,
		const struct redact *rd, struct pyinfo *out);

void pyinfo_free(struct pyinfo *p);

#endif
