"""memory_profiler's own line-by-line @profile, imported: it prints a report
and leaves no brackets, under mprof run as under memtide run."""
from memory_profiler import profile


@profile
def f():
    a = [1] * (10 ** 6)
    return len(a)


if __name__ == "__main__":
    f()
