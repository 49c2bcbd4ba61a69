"""where_threads.py ROUNDS: a worker thread allocates 6 MiB per round in
grow_in_thread() and sleeps between rounds, while the main thread spins in
spin() (CPU only).  Sleeps 0.2 s first, as where_grow.py spins first: a
round done before the stack reader's first sample is charged to nothing (a
CI run under load lost the first round of six that way, 17 %).  Prints
JSON: the worker's function, file, line, bytes."""
import json
import os
import sys
import threading
import time

MiB = 1 << 20
keep = []
done = threading.Event()


def grow_in_thread(rounds):
    for _ in range(rounds):
        keep.append(bytearray(6 * MiB))  # LINE grow_in_thread
        time.sleep(0.03)
    done.set()


def spin():
    x = 0
    while not done.is_set():
        x += 1
    return x


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    time.sleep(0.2)
    t = threading.Thread(target=grow_in_thread, args=(rounds,))
    t.start()
    spin()
    t.join()
    line = next(no for no, text in enumerate(open(__file__), 1)
                if text.rstrip().endswith("# LINE grow_in_thread"))
    print(json.dumps({"file": os.path.abspath(__file__), "line": line,
                      "bytes": rounds * 6 * MiB}))


if __name__ == "__main__":
    main()
