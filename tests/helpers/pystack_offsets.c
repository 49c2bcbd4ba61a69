/* pystack_offsets.c - prints the offsets lib/pystack_layout.c needs, as
 * offsetof() over one CPython version's own internal headers: ground truth
 * for the layout tables.  Built once per installed version by
 * tests/helpers/pystack_layouts.sh with -I that version's include directory
 * and -DPy_BUILD_CORE; prints "name value" lines, -1 for a field the version
 * does not have. */
#define Py_BUILD_CORE 1
#include <Python.h>
#include <frameobject.h>
#include <stddef.h>
#include <stdio.h>

#if PY_VERSION_HEX < 0x03090000
#include <internal/pycore_pystate.h>
#else
#include <internal/pycore_runtime.h>
#include <internal/pycore_interp.h>
#endif
#if PY_VERSION_HEX >= 0x030b0000
#include <internal/pycore_frame.h>
#include <internal/pycore_code.h>
#endif

#define P(name, value) printf("%s %ld\n", name, (long)(value))

int main(void)
{
	P("minor", PY_MINOR_VERSION);
	P("runtime_interp_head", offsetof(_PyRuntimeState, interpreters.head));
#if PY_VERSION_HEX < 0x030c0000
	P("runtime_gil_holder", offsetof(_PyRuntimeState, ceval.gil.last_holder));
	P("runtime_gil_locked", offsetof(_PyRuntimeState, ceval.gil.locked));
	P("interp_gil", -1);
	P("gil_holder", -1);
	P("gil_locked", -1);
#else
	P("runtime_gil_holder", -1);
	P("runtime_gil_locked", -1);
	P("interp_gil", offsetof(PyInterpreterState, ceval.gil));
	P("gil_holder", offsetof(struct _gil_runtime_state, last_holder));
	P("gil_locked", offsetof(struct _gil_runtime_state, locked));
#endif
	P("interp_next", offsetof(PyInterpreterState, next));
#if PY_VERSION_HEX < 0x030b0000
	P("interp_tstate_head", offsetof(PyInterpreterState, tstate_head));
#else
	P("interp_tstate_head", offsetof(PyInterpreterState, threads.head));
#endif
	P("tstate_next", offsetof(PyThreadState, next));
	P("tstate_thread_id", offsetof(PyThreadState, thread_id));
#if PY_VERSION_HEX >= 0x030b0000
	P("tstate_native_id", offsetof(PyThreadState, native_thread_id));
#else
	P("tstate_native_id", -1);
#endif
#if PY_VERSION_HEX < 0x030b0000
	P("tstate_frame", offsetof(PyThreadState, frame));
	P("cframe_current", -1);
#elif PY_VERSION_HEX < 0x030d0000
	P("tstate_frame", offsetof(PyThreadState, cframe));
	P("cframe_current", offsetof(_PyCFrame, current_frame));
#else
	P("tstate_frame", offsetof(PyThreadState, current_frame));
	P("cframe_current", -1);
#endif
#if PY_VERSION_HEX < 0x030b0000
	P("frame_size", sizeof(PyFrameObject));
	P("frame_back", offsetof(PyFrameObject, f_back));
	P("frame_code", offsetof(PyFrameObject, f_code));
	P("frame_lasti", offsetof(PyFrameObject, f_lasti));
	P("frame_instr", -1);
	P("frame_owner", -1);
	P("frame_is_entry", -1);
#else
	P("frame_size", sizeof(_PyInterpreterFrame));
	P("frame_back", offsetof(_PyInterpreterFrame, previous));
#if PY_VERSION_HEX < 0x030d0000
	P("frame_code", offsetof(_PyInterpreterFrame, f_code));
	P("frame_lasti", -1);
	P("frame_instr", offsetof(_PyInterpreterFrame, prev_instr));
#else
	P("frame_code", offsetof(_PyInterpreterFrame, f_executable));
	P("frame_lasti", -1);
	P("frame_instr", offsetof(_PyInterpreterFrame, instr_ptr));
#endif
	P("frame_owner", offsetof(_PyInterpreterFrame, owner));
#if PY_VERSION_HEX < 0x030c0000
	P("frame_is_entry", offsetof(_PyInterpreterFrame, is_entry));
#else
	P("frame_is_entry", -1);
#endif
#endif
	P("code_size", sizeof(PyCodeObject));
	P("code_filename", offsetof(PyCodeObject, co_filename));
	P("code_name", offsetof(PyCodeObject, co_name));
#if PY_VERSION_HEX >= 0x030b0000
	P("code_qualname", offsetof(PyCodeObject, co_qualname));
	P("code_adaptive", offsetof(PyCodeObject, co_code_adaptive));
	P("code_firsttraceable", offsetof(PyCodeObject, _co_firsttraceable));
#else
	P("code_qualname", -1);
	P("code_adaptive", -1);
	P("code_firsttraceable", -1);
#endif
	P("code_firstlineno", offsetof(PyCodeObject, co_firstlineno));
#if PY_VERSION_HEX < 0x030a0000
	P("code_linetable", offsetof(PyCodeObject, co_lnotab));
#else
	P("code_linetable", offsetof(PyCodeObject, co_linetable));
#endif
	P("object_type", offsetof(PyObject, ob_type));
	P("varobject_size", offsetof(PyVarObject, ob_size));
	P("bytes_sval", offsetof(PyBytesObject, ob_sval));
	P("unicode_length", offsetof(PyASCIIObject, length));
	P("unicode_state", offsetof(PyASCIIObject, state));
	P("unicode_ascii_size", sizeof(PyASCIIObject));
	P("unicode_compact_size", sizeof(PyCompactUnicodeObject));
	return 0;
}
