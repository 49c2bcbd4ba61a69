"""where_prog.py [ROUNDS [DEPTH]]: the program of bench/where.py.  Each
round alloc() allocates 3 MiB and keeps it, then cpu() spins 30 ms (40 rounds by default): the
loop of ANCHORS.md where austin -m charged 65-69 % of the growth to alloc.
With DEPTH > 0 it instead recurses DEPTH frames deep and spins ROUNDS
tenths of a second there (the 30-frame sample cost).  With WHERE_FIXED=1
in the environment cpu() does a fixed amount of work instead of spinning
30 ms: its CPU time then measures what the program costs, not how long
the scheduler let it run.  Prints JSON: its own CPU seconds
(time.process_time(), to the nanosecond: os.times() counts 10 ms ticks)
and the bytes alloc() allocated."""
import json
import os
import sys
import time

keep = []


def alloc():
    keep.append(bytearray(3 << 20))


FIXED = os.environ.get("WHERE_FIXED") == "1"


def cpu():
    if FIXED:
        x = 0
        for i in range(300000):
            x += i
        return x
    end = time.perf_counter() + 0.03
    while time.perf_counter() < end:
        pass
    return 0


def deep(n, sec):
    if n > 1:
        return deep(n - 1, sec)
    end = time.perf_counter() + sec
    while time.perf_counter() < end:
        pass


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 40
    depth = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    if depth:
        print("ready", flush=True)
        deep(depth - 2, rounds / 10)  # main and <module> are two frames
    else:
        for _ in range(rounds):
            alloc()
            cpu()
    print(json.dumps({"cpu_s": time.process_time(), "alloc_bytes": len(keep) * (3 << 20)}))


if __name__ == "__main__":
    main()
