"""A decorated method and a decorated static method."""


class Loader:
    @profile
    def load(self, n):
        return [0] * n

    @staticmethod
    @profile
    def size(xs):
        return len(xs)


if __name__ == "__main__":
    ld = Loader()
    Loader.size(ld.load(10 ** 6))
