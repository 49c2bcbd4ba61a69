"""A decorated generator function: the call returns at once, as mprof
brackets it; the decorated consumer spans the iteration."""


@profile
def numbers(n):
    for i in range(n):
        yield [i] * 1000


@profile
def consume():
    return sum(len(x) for x in numbers(200))


if __name__ == "__main__":
    consume()
