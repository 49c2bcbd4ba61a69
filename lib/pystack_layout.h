/* pystack_layout.h - the inside of lib/pystack.c, shared with its tests:
 * where CPython keeps what the stack reader needs, per version; line-table
 * decoding; the ELF symbol lookup.  Not part of memtide's API. */
#ifndef MEMTIDE_PYSTACK_LAYOUT_H
#define MEMTIDE_PYSTACK_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

/* Every offset the reader uses, in bytes from the start of its struct;
 * -1 when the version has no such field.  The names are those printed by
 * tests/helpers/pystack_offsets.c from offsetof() over each version's
 * headers, which is how the tables are checked. */
#define PYSTACK_LAYOUT_FIELDS(X)                                              \
	X(minor)                /* 3.minor */                                 \
	X(runtime_interp_head)  /* _PyRuntime.interpreters.head */            \
	X(runtime_gil_holder)   /* _PyRuntime.ceval.gil.last_holder (<3.12) */ \
	X(runtime_gil_locked)   /* _PyRuntime.ceval.gil.locked (<3.12) */     \
	X(interp_gil)           /* interp->ceval.gil, a pointer (3.12+) */    \
	X(gil_holder)           /* struct _gil_runtime_state.last_holder */   \
	X(gil_locked)           /* struct _gil_runtime_state.locked */        \
	X(interp_next)          /* PyInterpreterState.next */                 \
	X(interp_tstate_head)   /* tstate_head, threads.head (3.11+) */       \
	X(tstate_next)          /* PyThreadState.next */                      \
	X(tstate_thread_id)     /* PyThreadState.thread_id (pthread_t) */     \
	X(tstate_native_id)     /* PyThreadState.native_thread_id (3.11+) */  \
	X(tstate_frame)         /* frame (<3.11), cframe, current_frame */    \
	X(cframe_current)       /* _PyCFrame.current_frame (3.11, 3.12) */    \
	X(frame_size)           /* PyFrameObject, _PyInterpreterFrame */      \
	X(frame_back)           /* f_back, previous */                        \
	X(frame_code)           /* f_code, f_executable (3.13) */             \
	X(frame_lasti)          /* PyFrameObject.f_lasti, an int (<3.11) */   \
	X(frame_instr)          /* prev_instr, instr_ptr (3.13) */            \
	X(frame_owner)          /* _PyInterpreterFrame.owner, a char */       \
	X(frame_is_entry)       /* _PyInterpreterFrame.is_entry (3.11) */     \
	X(code_size)            /* sizeof(PyCodeObject) */                    \
	X(code_filename)                                                      \
	X(code_name)                                                          \
	X(code_qualname)        /* 3.11+ */                                   \
	X(code_adaptive)        /* co_code_adaptive, the bytecode (3.11+) */  \
	X(code_firsttraceable)  /* _co_firsttraceable, an int (3.11+) */      \
	X(code_firstlineno)     /* an int */                                  \
	X(code_linetable)       /* co_lnotab (<3.10), co_linetable */         \
	X(object_type)          /* PyObject.ob_type */                        \
	X(varobject_size)       /* PyVarObject.ob_size */                     \
	X(bytes_sval)           /* PyBytesObject.ob_sval */                   \
	X(unicode_length)       /* PyASCIIObject.length */                    \
	X(unicode_state)        /* PyASCIIObject.state, a bit field */        \
	X(unicode_ascii_size)   /* sizeof(PyASCIIObject) */                   \
	X(unicode_compact_size) /* sizeof(PyCompactUnicodeObject) */

struct pystack_layout {
#define PYSTACK_LAYOUT_MEMBER(name) long name;
	PYSTACK_LAYOUT_FIELDS(PYSTACK_LAYOUT_MEMBER)
#undef PYSTACK_LAYOUT_MEMBER
};

/* The table for CPython 3.minor (8 to 13), or NULL. */
const struct pystack_layout *pystack_layout_for(int minor);

/* Fills *out from the _Py_DebugOffsets that CPython 3.13 keeps at the start
 * of _PyRuntime (buf, len bytes of it), over the 3.13 table for the few
 * fields it does not describe.  Returns 0, or -EINVAL when the cookie or
 * the sizes are wrong (not a 3.13 layout). */
int pystack_layout_from_debug(const uint8_t *buf, size_t len, struct pystack_layout *out);

/* Bytes of _Py_DebugOffsets pystack_layout_from_debug() reads. */
#define PYSTACK_DEBUG_OFFSETS_BYTES 584

/* The line executing at a bytecode offset, from a code object's line table
 * (the bytes of its bytes object) and co_firstlineno; 0 when the table says
 * the instruction has no line.
 *   3.8, 3.9: co_lnotab, lasti_bytes = f_lasti;
 *   3.10:     co_linetable (PEP 626), lasti_bytes = 2 * f_lasti;
 *   3.11+:    co_linetable (location table), lasti_bytes = the instruction
 *             pointer minus co_code_adaptive. */
int pystack_line_lnotab(const uint8_t *t, size_t n, int firstlineno, int lasti_bytes);
int pystack_line_310(const uint8_t *t, size_t n, int firstlineno, int lasti_bytes);
int pystack_line_311(const uint8_t *t, size_t n, int firstlineno, int lasti_bytes);

/* Symbols of one ELF file's dynamic symbol table (through .dynsym, else
 * PT_DYNAMIC's DT_GNU_HASH): st_value of each name asked for (0 when
 * absent).  Also the first PT_LOAD's p_vaddr rounded down
 * to a page and p_offset, to turn the file's addresses into the process's.
 * Returns 0, -ENOEXEC for a file that is not a 64-bit little-endian ELF or
 * has no .dynsym, -errno on a read error. */
struct pystack_elf {
	uint64_t first_load_vaddr;
	int is_dyn; /* ET_DYN: PIE executable or shared library */
};
int pystack_elf_symbols(int fd, const char *const *names, uint64_t *values, int n,
			struct pystack_elf *elf);

/* The same, for a file that cannot be opened (deleted under a process,
 * /proc/PID/map_files needing CAP_SYS_ADMIN) but is loaded in a process:
 * read(ctx, addr, buf, len) reads the process's memory (0 or -errno); base
 * is the start of its mapping of file offset 0.  Only through PT_DYNAMIC's
 * GNU hash table (section headers are not loaded); values are the file's
 * addresses, as pystack_elf_symbols() gives them. */
int pystack_elf_symbols_loaded(int (*read)(void *ctx, uint64_t addr, void *buf, size_t len),
			       void *ctx, uint64_t base, const char *const *names,
			       uint64_t *values, int n, struct pystack_elf *elf);

#endif
