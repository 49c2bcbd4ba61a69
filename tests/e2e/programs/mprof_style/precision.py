"""@profile called with memory_profiler's precision argument."""


@profile(precision=4)
def work():
    return sum([1] * (5 * 10 ** 5))


if __name__ == "__main__":
    work()
