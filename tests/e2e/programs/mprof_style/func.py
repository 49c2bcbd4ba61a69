"""A decorated function that builds and drops lists (no import: @profile is
the builtin that mprof run --python, and memtide run, provide)."""


@profile
def build():
    a = [1] * (10 ** 6)
    b = [2] * (2 * 10 ** 6)
    del b
    return a


if __name__ == "__main__":
    build()
