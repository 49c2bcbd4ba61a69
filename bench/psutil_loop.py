#!/usr/bin/python3
"""psutil_loop.py - what a Python process monitor costs: every INTERVAL
seconds, memory_info() + cpu_times() + num_threads() of every PID (Process
objects kept across rounds), on absolute deadlines, for SECONDS.

    /usr/bin/python3 bench/psutil_loop.py INTERVAL SECONDS PID...

Prints "samples N" at the end; run it under sampler_floor rusage for its CPU.
"""
import sys
import time

import psutil


def main():
    interval, seconds = float(sys.argv[1]), float(sys.argv[2])
    procs = [psutil.Process(int(p)) for p in sys.argv[3:]]
    t0 = time.monotonic()
    k = n = 0
    while True:
        due = t0 + k * interval
        if due - t0 >= seconds:
            break
        now = time.monotonic()
        if due > now:
            time.sleep(due - now)
        for p in procs:
            try:
                m, c, t = p.memory_info(), p.cpu_times(), p.num_threads()
                n += 1 if m.rss + c.user + t >= 0 else 0
            except psutil.NoSuchProcess:
                pass
        k = max(k + 1, int((time.monotonic() - t0) / interval))
    print("samples %d" % n)
    return 0


if __name__ == "__main__":
    sys.exit(main())
