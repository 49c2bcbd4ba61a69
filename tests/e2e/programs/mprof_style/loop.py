"""The same decorated function called in a loop: one bracket per call."""


@profile
def step(n):
    return [n] * (3 * 10 ** 5)


if __name__ == "__main__":
    keep = [step(i) for i in range(4)]
