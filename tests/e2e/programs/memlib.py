"""Shared helpers of the test programs: touching memory and reading our own
/proc/self/status, so each program can report the truth it measured."""
import mmap

MiB = 1 << 20


def status_kib(field):
    """A 'Field: N kB' line of /proc/self/status, in KiB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def touch(mib):
    """Maps mib MiB of anonymous memory and writes one byte in every page, so
    that all of it becomes resident.  Returns the mapping (keep it alive)."""
    m = mmap.mmap(-1, mib * MiB)
    for off in range(0, mib * MiB, 4096):
        m[off] = 1
    return m
