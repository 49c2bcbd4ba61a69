"""A decorated function that raises: its bracket still closes."""


@profile
def fails():
    tmp = [0] * (10 ** 6)
    raise ValueError(len(tmp))


if __name__ == "__main__":
    try:
        fails()
    except ValueError:
        pass
