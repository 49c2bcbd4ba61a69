#!/usr/bin/python3
"""psutil_batch.py - CPU cost of one process-sample with psutil, the way the
Python samplers take it.

    /usr/bin/python3 bench/psutil_batch.py [-k ROUNDS] [-r REPS] PID...

Reads every PID ROUNDS times per repetition with each method, the methods
interleaved repetition by repetition (as bench/sampler_floor does).  CPU time
is resource.getrusage(RUSAGE_SELF) user + system.  Methods:

  psutil          memory_info() + cpu_times() + num_threads() on Process
                  objects kept across rounds (psrecord, a long-lived sampler)
  psutil_oneshot  the same three inside Process.oneshot()
  psutil_mprof    psutil.Process(pid).memory_info() with a new Process each
                  sample: what mprof's _get_memory() does (RSS only)

Prints "key value" lines: <method>_us_per_sample (median over repetitions),
<method>_us_reps, <method>_samples.  Runs under Debian's /usr/bin/python3,
where python3-psutil is installed.
"""
import argparse
import resource
import statistics
import sys

import psutil


def cpu_s():
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def round_plain(procs, sink):
    n = 0
    for p in procs:
        m = p.memory_info()
        c = p.cpu_times()
        t = p.num_threads()
        sink.append(m.rss + c.user + c.system + t)
        n += 1
    return n


def round_oneshot(procs, sink):
    n = 0
    for p in procs:
        with p.oneshot():
            m = p.memory_info()
            c = p.cpu_times()
            t = p.num_threads()
        sink.append(m.rss + c.user + c.system + t)
        n += 1
    return n


def round_mprof(pids, sink):
    n = 0
    for pid in pids:
        sink.append(psutil.Process(pid).memory_info()[0] / 2**20)
        n += 1
    return n


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-k", "--rounds", type=int, default=50)
    ap.add_argument("-r", "--reps", type=int, default=5)
    ap.add_argument("pids", type=int, nargs="+")
    a = ap.parse_args()

    procs = [psutil.Process(pid) for pid in a.pids]
    methods = [
        ("psutil", lambda s: round_plain(procs, s)),
        ("psutil_oneshot", lambda s: round_oneshot(procs, s)),
        ("psutil_mprof", lambda s: round_mprof(a.pids, s)),
    ]
    us = {name: [] for name, _ in methods}
    count = {name: 0 for name, _ in methods}
    sink = []
    for _, f in methods:  # warm-up: imports, caches, first-call paths
        f(sink)
    for _ in range(a.reps):
        for name, f in methods:
            sink.clear()
            t0 = cpu_s()
            n = sum(f(sink) for _ in range(a.rounds))
            us[name].append((cpu_s() - t0) * 1e6 / n)
            count[name] += n
    print("pids %d\nrounds %d\nreps %d" % (len(a.pids), a.rounds, a.reps))
    for name, _ in methods:
        print("%s_samples %d" % (name, count[name]))
        print("%s_us_reps %s" % (name, ",".join("%.3f" % x for x in us[name])))
        print("%s_us_per_sample %.3f" % (name, statistics.median(us[name])))
    print("psutil_version %s" % psutil.__version__)
    return 0


if __name__ == "__main__":
    sys.exit(main())
