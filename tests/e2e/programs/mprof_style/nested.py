"""Decorated functions calling each other: brackets nest (stack level 0, 1,
2)."""


@profile
def leaf():
    return bytearray(4 << 20)


@profile
def middle():
    x = leaf()
    return len(x)


@profile
def top():
    return middle() + middle()


if __name__ == "__main__":
    top()
