"""Shared helpers of the test programs: touching memory and reading our own
/proc/self/status, so each program can report the truth it measured."""
import json
import mmap
import os

MiB = 1 << 20


def status_kib(field):
    """A 'Field: N kB' line of /proc/self/status, in KiB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def report(obj):
    """Prints obj as one JSON line in a single write: processes that share
    a pipe (a parent and its children) cannot interleave their lines, as
    print() with PYTHONUNBUFFERED=1 lets them (it writes the newline apart)."""
    os.write(1, (json.dumps(obj) + "\n").encode())


def touch(mib):
    """Maps mib MiB of anonymous memory and writes one byte in every page, so
    that all of it becomes resident.  Returns the mapping (keep it alive)."""
    m = mmap.mmap(-1, mib * MiB)
    for off in range(0, mib * MiB, 4096):
        m[off] = 1
    return m
