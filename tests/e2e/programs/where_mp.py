"""where_mp.py: a multiprocessing child allocates 4 MiB four times in
child_grow(), between stretches of CPU work; the parent only waits.  The
child first works 0.15 s: memtide -C finds new children by a scan every
50 ms, and growth before that is nobody's.  Prints JSON: the child's pid,
function line and bytes."""
import json
import multiprocessing
import os
import time

MiB = 1 << 20


def spin(sec):
    end = time.perf_counter() + sec
    while time.perf_counter() < end:
        pass


def child_grow(rounds):
    keep = []
    spin(0.15)
    for _ in range(rounds):
        keep.append(bytearray(4 * MiB))  # LINE child_grow
        spin(0.04)


def main():
    p = multiprocessing.Process(target=child_grow, args=(4,))
    p.start()
    p.join()
    line = next(no for no, text in enumerate(open(__file__), 1)
                if text.rstrip().endswith("# LINE child_grow"))
    print(json.dumps({"pid": p.pid, "file": os.path.abspath(__file__),
                      "line": line, "bytes": 4 * 4 * MiB}))


if __name__ == "__main__":
    main()
