/* pystack_layout.c - where CPython 3.8 to 3.13 keep what the stack reader
 * needs (see pystack_layout.h).  The tables are offsetof() over each
 * version's own internal headers, as printed by
 * tests/helpers/pystack_offsets.c; `make pystack-layouts` checks them
 * against every version installed here.  Within a minor version CPython
 * keeps these structs stable (Debian's 3.11.2 and pyenv's 3.11.7 agree). */
#include "pystack_layout.h"

#include <errno.h>
#include <string.h>

static const struct pystack_layout tables[] = {
	{ .minor = 8, .runtime_interp_head = 32, .runtime_gil_holder = 1160,
	  .runtime_gil_locked = 1168, .interp_gil = -1, .gil_holder = -1, .gil_locked = -1,
	  .interp_next = 0, .interp_tstate_head = 8, .tstate_next = 8, .tstate_thread_id = 176,
	  .tstate_native_id = -1, .tstate_frame = 24, .cframe_current = -1, .frame_size = 368,
	  .frame_back = 24, .frame_code = 32, .frame_lasti = 104, .frame_instr = -1,
	  .frame_owner = -1, .frame_is_entry = -1, .code_size = 176, .code_filename = 104,
	  .code_name = 112, .code_qualname = -1, .code_adaptive = -1, .code_firsttraceable = -1,
	  .code_firstlineno = 40, .code_linetable = 120, .object_type = 8, .varobject_size = 16,
	  .bytes_sval = 32, .unicode_length = 16, .unicode_state = 32, .unicode_ascii_size = 48,
	  .unicode_compact_size = 72 },
	{ .minor = 9, .runtime_interp_head = 32, .runtime_gil_holder = 360,
	  .runtime_gil_locked = 368, .interp_gil = -1, .gil_holder = -1, .gil_locked = -1,
	  .interp_next = 0, .interp_tstate_head = 8, .tstate_next = 8, .tstate_thread_id = 176,
	  .tstate_native_id = -1, .tstate_frame = 24, .cframe_current = -1, .frame_size = 368,
	  .frame_back = 24, .frame_code = 32, .frame_lasti = 104, .frame_instr = -1,
	  .frame_owner = -1, .frame_is_entry = -1, .code_size = 176, .code_filename = 104,
	  .code_name = 112, .code_qualname = -1, .code_adaptive = -1, .code_firsttraceable = -1,
	  .code_firstlineno = 40, .code_linetable = 120, .object_type = 8, .varobject_size = 16,
	  .bytes_sval = 32, .unicode_length = 16, .unicode_state = 32, .unicode_ascii_size = 48,
	  .unicode_compact_size = 72 },
	{ .minor = 10, .runtime_interp_head = 32, .runtime_gil_holder = 360,
	  .runtime_gil_locked = 368, .interp_gil = -1, .gil_holder = -1, .gil_locked = -1,
	  .interp_next = 0, .interp_tstate_head = 8, .tstate_next = 8, .tstate_thread_id = 176,
	  .tstate_native_id = -1, .tstate_frame = 24, .cframe_current = -1, .frame_size = 360,
	  .frame_back = 24, .frame_code = 32, .frame_lasti = 96, .frame_instr = -1,
	  .frame_owner = -1, .frame_is_entry = -1, .code_size = 176, .code_filename = 104,
	  .code_name = 112, .code_qualname = -1, .code_adaptive = -1, .code_firsttraceable = -1,
	  .code_firstlineno = 40, .code_linetable = 120, .object_type = 8, .varobject_size = 16,
	  .bytes_sval = 32, .unicode_length = 16, .unicode_state = 32, .unicode_ascii_size = 48,
	  .unicode_compact_size = 72 },
	{ .minor = 11, .runtime_interp_head = 40, .runtime_gil_holder = 368,
	  .runtime_gil_locked = 376, .interp_gil = -1, .gil_holder = -1, .gil_locked = -1,
	  .interp_next = 0, .interp_tstate_head = 16, .tstate_next = 8, .tstate_thread_id = 152,
	  .tstate_native_id = 160, .tstate_frame = 56, .cframe_current = 8, .frame_size = 80,
	  .frame_back = 48, .frame_code = 32, .frame_lasti = -1, .frame_instr = 56,
	  .frame_owner = 69, .frame_is_entry = 68, .code_size = 192, .code_filename = 112,
	  .code_name = 120, .code_qualname = 128, .code_adaptive = 184, .code_firsttraceable = 168,
	  .code_firstlineno = 72, .code_linetable = 136, .object_type = 8, .varobject_size = 16,
	  .bytes_sval = 32, .unicode_length = 16, .unicode_state = 32, .unicode_ascii_size = 48,
	  .unicode_compact_size = 72 },
	{ .minor = 12, .runtime_interp_head = 40, .runtime_gil_holder = -1,
	  .runtime_gil_locked = -1, .interp_gil = 384, .gil_holder = 8, .gil_locked = 16,
	  .interp_next = 0, .interp_tstate_head = 72, .tstate_next = 8, .tstate_thread_id = 136,
	  .tstate_native_id = 144, .tstate_frame = 56, .cframe_current = 0, .frame_size = 80,
	  .frame_back = 8, .frame_code = 0, .frame_lasti = -1, .frame_instr = 56,
	  .frame_owner = 70, .frame_is_entry = -1, .code_size = 200, .code_filename = 112,
	  .code_name = 120, .code_qualname = 128, .code_adaptive = 192, .code_firsttraceable = 176,
	  .code_firstlineno = 68, .code_linetable = 136, .object_type = 8, .varobject_size = 16,
	  .bytes_sval = 32, .unicode_length = 16, .unicode_state = 32, .unicode_ascii_size = 40,
	  .unicode_compact_size = 56 },
	/* Only for what _Py_DebugOffsets does not describe, and for checking
	 * what it does. */
	{ .minor = 13, .runtime_interp_head = 632, .runtime_gil_holder = -1,
	  .runtime_gil_locked = -1, .interp_gil = 16, .gil_holder = 8, .gil_locked = 16,
	  .interp_next = 7264, .interp_tstate_head = 7344, .tstate_next = 8,
	  .tstate_thread_id = 152, .tstate_native_id = 160, .tstate_frame = 72,
	  .cframe_current = -1, .frame_size = 80, .frame_back = 8, .frame_code = 0,
	  .frame_lasti = -1, .frame_instr = 56, .frame_owner = 70, .frame_is_entry = -1,
	  .code_size = 208, .code_filename = 112, .code_name = 120, .code_qualname = 128,
	  .code_adaptive = 200, .code_firsttraceable = 184, .code_firstlineno = 68,
	  .code_linetable = 136, .object_type = 8, .varobject_size = 16, .bytes_sval = 32,
	  .unicode_length = 16, .unicode_state = 32, .unicode_ascii_size = 40,
	  .unicode_compact_size = 56 },
};

const struct pystack_layout *pystack_layout_for(int minor)
{
	for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++)
		if (tables[i].minor == minor)
			return &tables[i];
	return NULL;
}

static uint64_t u64_at(const uint8_t *buf, size_t off)
{
	uint64_t v;

	memcpy(&v, buf + off, sizeof v);
	return v;
}

/* Byte offsets of the uint64_t fields of 3.13's _Py_DebugOffsets
 * (Include/internal/pycore_runtime.h): cookie[8], version, free_threaded,
 * then one struct per object kind, each starting with its size. */
enum {
	DO_VERSION = 8,
	DO_FREE_THREADED = 16,
	DO_RUNTIME_INTERP_HEAD = 40,
	DO_INTERP_NEXT = 64,
	DO_INTERP_THREADS_HEAD = 72,
	DO_INTERP_CEVAL_GIL = 112,
	DO_INTERP_GIL_STATE = 120,
	DO_INTERP_GIL_LOCKED = 136,
	DO_INTERP_GIL_HOLDER = 144,
	DO_TSTATE_NEXT = 168,
	DO_TSTATE_CURRENT_FRAME = 184,
	DO_TSTATE_THREAD_ID = 192,
	DO_TSTATE_NATIVE_ID = 200,
	DO_FRAME_SIZE = 224,
	DO_FRAME_PREVIOUS = 232,
	DO_FRAME_EXECUTABLE = 240,
	DO_FRAME_INSTR_PTR = 248,
	DO_FRAME_OWNER = 264,
	DO_CODE_SIZE = 272,
	DO_CODE_FILENAME = 280,
	DO_CODE_NAME = 288,
	DO_CODE_QUALNAME = 296,
	DO_CODE_LINETABLE = 304,
	DO_CODE_FIRSTLINENO = 312,
	DO_CODE_ADAPTIVE = 344,
	DO_OBJECT_TYPE = 360,
	DO_BYTES_SIZE = 520,
	DO_BYTES_SVAL = 528,
	DO_UNICODE_STATE = 544,
	DO_UNICODE_LENGTH = 552,
	DO_UNICODE_ASCII_SIZE = 560,
};

/* No struct the reader walks is anywhere near this big: a larger value is
 * not a 3.13 layout. */
#define MAX_SANE_OFFSET (1 << 16)

int pystack_layout_from_debug(const uint8_t *buf, size_t len, struct pystack_layout *out)
{
	static const struct {
		size_t at;
		size_t member; /* offsetof(struct pystack_layout, ...) */
	} map[] = {
#define M(at, name) { at, offsetof(struct pystack_layout, name) }
		M(DO_RUNTIME_INTERP_HEAD, runtime_interp_head),
		M(DO_INTERP_NEXT, interp_next),
		M(DO_INTERP_THREADS_HEAD, interp_tstate_head),
		M(DO_INTERP_CEVAL_GIL, interp_gil),
		M(DO_TSTATE_NEXT, tstate_next),
		M(DO_TSTATE_CURRENT_FRAME, tstate_frame),
		M(DO_TSTATE_THREAD_ID, tstate_thread_id),
		M(DO_TSTATE_NATIVE_ID, tstate_native_id),
		M(DO_FRAME_SIZE, frame_size),
		M(DO_FRAME_PREVIOUS, frame_back),
		M(DO_FRAME_EXECUTABLE, frame_code),
		M(DO_FRAME_INSTR_PTR, frame_instr),
		M(DO_FRAME_OWNER, frame_owner),
		M(DO_CODE_SIZE, code_size),
		M(DO_CODE_FILENAME, code_filename),
		M(DO_CODE_NAME, code_name),
		M(DO_CODE_QUALNAME, code_qualname),
		M(DO_CODE_LINETABLE, code_linetable),
		M(DO_CODE_FIRSTLINENO, code_firstlineno),
		M(DO_CODE_ADAPTIVE, code_adaptive),
		M(DO_OBJECT_TYPE, object_type),
		M(DO_BYTES_SIZE, varobject_size),
		M(DO_BYTES_SVAL, bytes_sval),
		M(DO_UNICODE_STATE, unicode_state),
		M(DO_UNICODE_LENGTH, unicode_length),
		M(DO_UNICODE_ASCII_SIZE, unicode_ascii_size),
#undef M
	};
	uint64_t version, gil_state, gil_locked, gil_holder;

	if (len < PYSTACK_DEBUG_OFFSETS_BYTES || memcmp(buf, "xdebugpy", 8) != 0)
		return -EINVAL;
	version = u64_at(buf, DO_VERSION);
	if ((version >> 16) != 0x030d || u64_at(buf, DO_FREE_THREADED) != 0)
		return -EINVAL;
	*out = *pystack_layout_for(13);
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
		uint64_t v = u64_at(buf, map[i].at);

		if (v >= MAX_SANE_OFFSET)
			return -EINVAL;
		*(long *)((char *)out + map[i].member) = (long)v;
	}
	/* The GIL fields are given from the interpreter's embedded _gil; the
	 * reader follows interp->ceval.gil, which points at it (or at the
	 * main interpreter's). */
	gil_state = u64_at(buf, DO_INTERP_GIL_STATE);
	gil_locked = u64_at(buf, DO_INTERP_GIL_LOCKED);
	gil_holder = u64_at(buf, DO_INTERP_GIL_HOLDER);
	if (gil_locked < gil_state || gil_holder < gil_state || gil_holder - gil_state >= 256 ||
	    gil_locked - gil_state >= 256)
		return -EINVAL;
	out->gil_locked = (long)(gil_locked - gil_state);
	out->gil_holder = (long)(gil_holder - gil_state);
	/* PyCompactUnicodeObject adds utf8_length and utf8 to PyASCIIObject. */
	out->unicode_compact_size = out->unicode_ascii_size + 16;
	return 0;
}
