/* pystack.h - the Python call stack of a running CPython, read from outside.
 *
 * A reader is bound to one process.  It reads the target's memory with
 * process_vm_readv(2) and never stops it, so a stack is a snapshot that may
 * be torn by the running program: every pointer read is checked, a read
 * that fails or loops gives an error for this sample, never a crash.
 *
 * Finding the interpreter: the _PyRuntime symbol in .dynsym of the
 * executable (/proc/PID/exe, e.g. Debian's /usr/bin/python3.11, which links
 * libpython statically) or of a libpython3.X.so mapped in /proc/PID/maps
 * (pyenv builds, embedded interpreters), plus the load base from maps.
 * The file is read through .dynsym, or PT_DYNAMIC's GNU hash table when
 * its section headers are gone; a libpython deleted under the target is
 * read through /proc/PID/map_files, or where the target has it loaded.
 * The version comes from the mapped file's name or Py_Version / the
 * _Py_DebugOffsets cookie.  3.13 and later describe their own layout in
 * _Py_DebugOffsets at the start of _PyRuntime; 3.8 to 3.12 use a table of
 * offsets per version, checked against offsetof() over each version's
 * internal headers by `make pystack-layouts` (part of `make check`).
 *
 * Requires ptrace read access to the target (a child of the reader; the
 * same uid with kernel.yama.ptrace_scope <= 1; or CAP_SYS_PTRACE).
 *
 * Code objects are cached by address (up to 4096, then the cache starts
 * over), names and file names interned by content until pystack_close(),
 * and a sample copies whole pages of the target (up to 16), reused within
 * that sample.  The pages one sample read are copied again, all in one
 * process_vm_readv, when the next one starts: a program still in the same
 * functions costs one read per sample, and one more for each page it has
 * moved to (30 frames: 6 to 8 µs of CPU on 3.10 and 3.12 in a tight loop
 * on a loaded 2-vCPU VM, against 21 to 41 µs when each page was read on
 * its own; 3.8 to 3.10's frames are scattered objects, a page or so for
 * every few frames).  The main interpreter is read, not subinterpreters.
 * Each sample checks the innermost frame's code object, and one outer
 * frame's in turn, against the cache (name, file, line table, first line,
 * the name's hash), so code compiled anew at a freed code object's address
 * is read again.  Frames of 3.12+'s C-stack shims and frames not yet
 * started are not reported, as in tracebacks.  Debug and free-threaded
 * builds, and 3.14+, are refused.  A reader is used by one thread at a
 * time; its page copies are per thread (64 KiB, from the thread's first
 * sample to its exit), outside pystack_memory().  Open a reader once the
 * target runs Python: just after fork, before exec, it is another
 * program.
 *
 * lib/pystack.c finds the interpreter, lib/pystack_sample.c walks it,
 * lib/pystack_code.c caches code objects and names, lib/pystack_layout.c
 * holds the tables (checked by `make pystack-layouts`), lib/pystack_line.c
 * decodes line tables, lib/pystack_elf.c reads .dynsym.
 */
#ifndef MEMTIDE_PYSTACK_H
#define MEMTIDE_PYSTACK_H

#include <stddef.h>
#include <stdint.h>

struct pystack;

/* One frame, innermost first.  function is the qualified name where the
 * version has one (co_qualname, 3.11+), else co_name; file is co_filename;
 * line is the line executing (1-based, 0 when unknown).  The strings belong
 * to the reader and stay valid until pystack_close(). */
struct pystack_frame {
	const char *function;
	const char *file;
	int line;
};

/* Opens a reader for pid.  Returns 0 and *out, or a negative errno:
 *   -ESRCH   the process is gone;
 *   -EPERM   no ptrace read access (why says what to do);
 *   -ENOTSUP not a CPython this reader knows (PyPy, another version, a
 *            stripped binary with no _PyRuntime): why says which, e.g.
 *            "CPython 3.14 is not supported (3.8 to 3.13 are)".
 * why (may be NULL) receives a one-line reason on failure, NUL-terminated,
 * with no trailing newline. */
int pystack_open(int pid, struct pystack **out, char *why, size_t why_len);

/* "CPython 3.11.2" (or "CPython 3.11" when the micro version is unknown). */
const char *pystack_version(const struct pystack *r);

/* Reads the stack of the thread that holds the GIL, or of the only thread
 * (or the main thread) when none holds it: at most max frames, innermost
 * first, into frames.  The GIL's holder is its last holder (it may have
 * released it, e.g. in time.sleep), when that thread still exists.  A
 * deeper stack gives its max innermost frames.  *tid (may be NULL)
 * receives that thread's native id (0 when unknown; 3.8 to 3.10 keep only
 * the pthread_t, so the id is read from the thread's struct pthread).  Returns the number of frames (0: no Python frame is
 * running, e.g. the interpreter is starting or finalizing), or a negative
 * errno: -ESRCH the process is gone; -EAGAIN a torn read (try the next
 * sample); -EPERM access lost (the target changed its credentials);
 * -ENOMEM no memory for the calling thread's page copies. */
int pystack_sample(struct pystack *r, struct pystack_frame *frames, int max,
		   int *tid);

/* Bytes the reader holds (caches), for memtide's own accounting. */
size_t pystack_memory(const struct pystack *r);

void pystack_close(struct pystack *r);

#endif
