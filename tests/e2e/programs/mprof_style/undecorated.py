"""No decorator at all (memory_profiler's example_undecorated style)."""

if __name__ == "__main__":
    a = [1] * (10 ** 6)
    b = [2] * (2 * 10 ** 7)
    del b
