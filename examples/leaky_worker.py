"""A small workload for `make demo`: a parent that keeps a growing cache (a
leak) and a worker process whose memory goes up and down as it handles
batches.  It runs for about 6 seconds and exits 0.

    memtide run -C examples/leaky_worker.py && memtide plot
"""
import multiprocessing
import time

MIB = 1024 * 1024


def touch(n_mib):
    """A bytearray of n_mib MiB with every page written, so it is resident."""
    buf = bytearray(n_mib * MIB)
    for i in range(0, len(buf), 4096):
        buf[i] = 1
    return buf


def worker(batches):
    """Handles batches of 40-120 MiB, releasing each when done."""
    for size in batches:
        batch = touch(size)
        time.sleep(0.4)
        del batch
        time.sleep(0.2)


def main():
    child = multiprocessing.Process(target=worker, args=([40, 80, 120, 60, 100, 40, 80, 20],))
    child.start()
    cache = []
    for _ in range(24):
        cache.append(touch(4))  # never released: 4 MiB every 0.25 s
        time.sleep(0.25)
    child.join()
    print(f"done: cache holds {len(cache) * 4} MiB")


if __name__ == "__main__":
    main()
