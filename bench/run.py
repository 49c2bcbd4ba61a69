#!/usr/bin/python3
"""bench/run.py - memtide against the floor, psutil and mprof, side by side.

    make bench                      (builds, then runs this)
    /usr/bin/python3 bench/run.py --build build [--procs 200] [--seconds 10]

Runs under Debian's /usr/bin/python3 (python3-psutil, python3-memory-profiler
and python3-matplotlib installed there); the driver itself uses the standard
library only.  Everything is measured in one run, each contender next to the
others, and reported as medians and ratios: this VM is noisy, so absolute
numbers mean little and no number here is an assertion.

Sections:
  a. CPU per process-sample over N sleeping Python processes, in a batch:
     the floor (pread of a kept-open stat), memtide's sampler_tick(), and
     psutil (bench/sampler_floor batch, bench/psutil_batch.py).
  b. `memtide attach` and `mprof attach` on one sleeping Python process, both
     at -T 0.01 for 10 s, concurrently: CPU, samples, drift, intervals, RSS.
  c. `memtide plot` and `mprof plot` of the same 1M- and 100k-sample mprof
     files (memtide's side imported by `memtide import`, which writes the
     per-second buckets memtide run writes); memtide plot alone on 10M
     samples as recorded (with buckets) and without buckets (every row read,
     as for a file from before schema v3), and on a year of memtided history
     (per-minute rollups), with its peak RSS.
  d. `memtide import` of a 1M-line mprof file (MEM, CHLD, FUNC): lines a
     second, and `memtide export` of it back, compared byte for byte.
  e. memtided tracking N sleeping Python processes (one Python that forks
     N-1 children after import: all Python, little memory) at 1 s, and M at
     10 ms, each beside a psutil loop (bench/psutil_loop.py) over the same
     processes at the same interval: CPU % of one core and peak RSS.
  f. a call of an @profile'd function under `memtide run` and under
     `mprof run --python` (bench/markers.py): CPU a call.
  g. memtided and prometheus-process-exporter on the same 1000 processes
     under churn, both scraped every second (bench/fleet.py).
  h. memtided against a hostile local user: a marker flood, 64 connections
     hogging the metrics port beside prometheus-process-exporter (hostile.py).
  i. memtide run --stacks against austin -m on one program (bench/where.py).

Prints a table and a "ratios" block (measured, target, met / not met) and
writes both to BUILD/bench/results.txt, the raw numbers to results.json.
Every process it starts is in a process group that is killed on the way out.
"""
import argparse
import json
import math
import os
import random
import shutil
import signal
import sqlite3
import statistics
import struct
import subprocess
import sys
import tempfile
import time

import fleet  # g. (bench/fleet.py)
from markers import section_markers  # f. (bench/markers.py)
from hostile import section_hostile
import where  # i. (bench/where.py)

PY = "/usr/bin/python3"
SLEEPER = [PY, "-c", "import time; time.sleep(600)"]
MIB = 2**20


# ---------------------------------------------------------------- processes

class Reaper:
    """Remembers every process group started, kills them all at the end."""

    def __init__(self):
        self.groups = []  # (pgid, [Popen])

    def spawn(self, argv, group=None, **kw):
        """Starts argv in a new process group, or in group (a pgid)."""
        kw.setdefault("stdin", subprocess.DEVNULL)
        if group is None:
            p = subprocess.Popen(argv, process_group=0, **kw)
            self.groups.append((p.pid, [p]))
        else:
            p = subprocess.Popen(argv, process_group=group, **kw)
            for pgid, procs in self.groups:
                if pgid == group:
                    procs.append(p)
        return p

    def kill_group(self, pgid):
        for i, (g, procs) in enumerate(self.groups):
            if g != pgid:
                continue
            # Only while a member is unreaped does the group id still belong
            # to us (a reaped leader's pid, hence pgid, may be reused).
            if any(p.returncode is None for p in procs):
                try:
                    os.killpg(g, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            for p in procs:
                try:
                    p.wait(timeout=10)
                except (subprocess.TimeoutExpired, ChildProcessError):
                    pass
            del self.groups[i]
            return

    def kill_all(self):
        for g, _ in list(self.groups):
            self.kill_group(g)


def on_signal(sig, frame):
    raise KeyboardInterrupt("signal %d" % sig)


def wait_sleeping(pids, timeout=60.0):
    """Waits until every pid sleeps in nanosleep: the Python sleepers have
    finished starting and cost no CPU while we measure."""
    deadline = time.monotonic() + timeout
    left = set(pids)
    while left and time.monotonic() < deadline:
        for pid in list(left):
            try:
                with open("/proc/%d/wchan" % pid) as f:
                    wchan = f.read()
                with open("/proc/%d/stat" % pid) as f:
                    state = f.read().rsplit(")", 1)[1].split()[0]
            except OSError:
                raise RuntimeError("sleeper %d died while starting" % pid)
            if state == "S" and ("nanosleep" in wchan or wchan in ("", "0")):
                left.discard(pid)
        if left:
            time.sleep(0.05)
    if left:
        raise RuntimeError("%d sleepers not asleep after %.0f s" % (len(left), timeout))


def spawn_sleepers(reaper, n):
    first = reaper.spawn(SLEEPER)
    procs = [first] + [reaper.spawn(SLEEPER, group=first.pid) for _ in range(n - 1)]
    pids = [p.pid for p in procs]
    wait_sleeping(pids)
    return first.pid, pids


def keyvals(text):
    """Parses "key value" lines."""
    out = {}
    for line in text.splitlines():
        k, _, v = line.partition(" ")
        if not v:
            continue
        try:
            out[k] = float(v) if "," not in v else [float(x) for x in v.split(",")]
        except ValueError:
            out[k] = v
    return out


class Timed:
    """A command run under `sampler_floor rusage`: its own CPU, wall time and
    ru_maxrss, untainted by this Python driver (see sampler_floor.c)."""

    def __init__(self, ctx, argv, tag, cwd=None, env=None, out=None):
        self.ctx = ctx
        self.ru_path = os.path.join(ctx.tmp, "rusage-%s-%d.txt" % (tag, ctx.next_id()))
        self.log = open(out or os.devnull, "w") if out else subprocess.DEVNULL
        self.p = ctx.reaper.spawn([ctx.floor, "rusage", self.ru_path] + argv,
                                  cwd=cwd, env=env, stdout=self.log,
                                  stderr=subprocess.STDOUT)
        self.pid = None
        self.hwm = {"VmHWM": 0, "VmRSS": 0, "RssAnon": 0}

    def child_pid(self):
        if self.pid is None:
            try:
                with open(self.ru_path) as f:
                    first = f.readline().split()
                if len(first) == 2 and first[0] == "pid":
                    self.pid = int(first[1])
            except OSError:
                pass
        return self.pid

    def poll_status(self):
        """Keeps the highest VmHWM / VmRSS / RssAnon seen in /proc/PID/status
        (KiB): RssAnon is what the sampler itself allocated, the rest is
        mostly shared-library pages."""
        pid = self.child_pid()
        if not pid:
            return
        try:
            with open("/proc/%d/status" % pid) as f:
                for line in f:
                    k, _, v = line.partition(":")
                    if k in self.hwm:
                        self.hwm[k] = max(self.hwm[k], int(v.split()[0]))
        except (OSError, ValueError, IndexError):
            pass

    def wait(self, timeout):
        try:
            self.p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            # Ask nicely first (mprof and memtide both flush on SIGINT).
            self.p.send_signal(signal.SIGINT)
            try:
                self.p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.ctx.reaper.kill_group(self.p.pid)
        if self.log is not subprocess.DEVNULL:
            self.log.close()
        self.ctx.reaper.kill_group(self.p.pid)
        with open(self.ru_path) as f:
            r = keyvals(f.read())
        if "status" not in r:
            raise RuntimeError("no rusage for %s" % self.ru_path)
        r["cpu_s"] = r["utime_s"] + r["stime_s"]
        r.update({k.lower() + "_kib": v for k, v in self.hwm.items()})
        return r


def run_timed(ctx, argv, tag, timeout=120, **kw):
    t = Timed(ctx, argv, tag, **kw)
    return t.wait(timeout)


# ---------------------------------------------------------------- helpers

def med(v):
    return statistics.median(v) if v else float("nan")


def pctl(v, p):
    """Nearest-rank percentile of a list."""
    if not v:
        return float("nan")
    s = sorted(v)
    i = max(0, min(len(s) - 1, int(math.ceil(p / 100.0 * len(s))) - 1))
    return s[i]


def ratio(a, b):
    return a / b if b else float("nan")


def table(rows, head):
    """Formats rows (lists of str) under head as aligned columns."""
    w = [max(len(str(r[i])) for r in [head] + rows) for i in range(len(head))]
    def numeric(c):
        return str(c)[:1].isdigit() or str(c)[:1] in "+-."

    fmt = lambda r: "  ".join(str(c).rjust(w[i]) if i and numeric(c) else str(c).ljust(w[i])
                              for i, c in enumerate(r)).rstrip()
    return "\n".join([fmt(head), fmt(["-" * x for x in w])] + [fmt(r) for r in rows])


def png_size(path):
    """(width, height) from a PNG's IHDR, or None if not a PNG."""
    try:
        with open(path, "rb") as f:
            head = f.read(24)
    except OSError:
        return None
    if len(head) < 24 or head[:8] != b"\x89PNG\r\n\x1a\n":
        return None
    return struct.unpack(">II", head[16:24])


class Ctx:
    def __init__(self, args):
        self.args = args
        self.build = os.path.abspath(args.build)
        self.memtide = os.path.join(self.build, "memtide")
        self.plot_bin = os.path.join(self.build, "memtide-plot")
        self.memtided = os.path.join(self.build, "memtided")
        self.floor = os.path.join(self.build, "bench", "sampler_floor")
        self.here = os.path.dirname(os.path.abspath(__file__))
        self.mprof = (["/usr/bin/python3-mprof"] if os.access("/usr/bin/python3-mprof", os.X_OK)
                      else [shutil.which("mprof")] if shutil.which("mprof")
                      else [PY, "-m", "mprof"])
        self.reaper = Reaper()
        self.tmp = tempfile.mkdtemp(prefix="memtide-bench-")
        self.out = []     # printed lines
        self.raw = {}     # results.json
        self.targets = []  # (name, measured str, target str, met bool or None)
        self._id = 0

    def next_id(self):
        self._id += 1
        return self._id

    def say(self, text=""):
        print(text, flush=True)
        self.out.append(text)

    def target(self, name, measured, target, met):
        self.targets.append((name, measured, target, met))


# ---------------------------------------------------------------- section a

def section_batch(ctx):
    a = ctx.args
    ctx.say("== a. CPU per process-sample, %d sleeping Python processes, in a batch" % a.procs)
    t0 = time.monotonic()
    pgid, pids = spawn_sleepers(ctx.reaper, a.procs)
    ctx.say("   (%d sleepers started and asleep in %.1f s)" % (len(pids), time.monotonic() - t0))
    c_reps, p_reps = {}, {}
    db = os.path.join(ctx.tmp, "batch.db")
    sargs = [str(p) for p in pids]
    try:
        for _ in range(a.alternations):
            out = subprocess.run([ctx.floor, "batch", "-k", str(a.rounds), "-r", str(a.reps),
                                  "-d", db] + sargs, capture_output=True, text=True,
                                 timeout=300, check=True).stdout
            for k, v in keyvals(out).items():
                if k.endswith("_us_reps"):
                    c_reps.setdefault(k[:-8], []).extend(v if isinstance(v, list) else [v])
            out = subprocess.run([PY, os.path.join(ctx.here, "psutil_batch.py"),
                                  "-k", str(a.psutil_rounds), "-r", str(a.reps)] + sargs,
                                 capture_output=True, text=True, timeout=300,
                                 check=True).stdout
            for k, v in keyvals(out).items():
                if k.endswith("_us_reps"):
                    p_reps.setdefault(k[:-8], []).extend(v if isinstance(v, list) else [v])
    finally:
        ctx.reaper.kill_group(pgid)
    m = {k: med(v) for k, v in {**c_reps, **p_reps}.items()}
    ctx.raw["batch"] = {"procs": a.procs, "median_us": m, "reps_us": {**c_reps, **p_reps}}
    mt = m["memtide"]
    desc = [
        ("floor", "pread kept-open /proc/PID/stat, parsed"),
        ("procfs", "procfs_sample: stat + statm + CPU clock"),
        ("memtide", "sampler_tick (memtide's per-tick path)"),
        ("memtide_store", "sampler_tick + store_append (SQLite)"),
        ("psutil", "memory_info+cpu_times+num_threads"),
        ("psutil_oneshot", "the same inside oneshot()"),
        ("psutil_mprof", "Process(pid).memory_info() (mprof)"),
    ]
    rows = []
    for k, d in desc:
        if k not in m:
            continue
        v = c_reps.get(k) or p_reps.get(k)
        rows.append([k, d, "%.2f" % m[k], "%.2f-%.2f" % (min(v), max(v)),
                     "%.2f" % ratio(m[k], m["floor"]), "%.2f" % ratio(m[k], mt)])
    ctx.say(table(rows, ["method", "what", "us/sample", "range", "x floor", "x memtide"]))
    ctx.say("   medians of %d repetitions each (%d rounds x %d pids per C repetition, "
            "%d rounds per psutil one), alternated C / psutil %d times"
            % (len(c_reps["floor"]), a.rounds, a.procs, a.psutil_rounds, a.alternations))
    r = ratio(m["psutil"], mt)
    ctx.say("   psutil / memtide: %.1fx   (oneshot %.1fx; mprof-style %.1fx; "
            "with memtide's SQLite append %.1fx)"
            % (r, ratio(m["psutil_oneshot"], mt), ratio(m["psutil_mprof"], mt),
               ratio(m["psutil"], m.get("memtide_store", float("nan")))))
    ctx.target("a. psutil / memtide CPU per process-sample (batch)", "%.1fx" % r,
               ">= 10x", r >= 10)
    ctx.say()


# ---------------------------------------------------------------- section b

def memtide_series(db):
    """(samples counted, run.samples, timestamps, ticks) of the only run."""
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    try:
        run, samples, started, interval = con.execute(
            "SELECT run, samples, started, interval FROM runs ORDER BY run DESC LIMIT 1"
        ).fetchone()
        ticks = [r[0] for r in con.execute(
            "SELECT tick FROM samples WHERE run = ? ORDER BY tick", (run,))]
        count = con.execute("SELECT count(*) FROM samples WHERE run = ?", (run,)).fetchone()[0]
    finally:
        con.close()
    return count, samples, [started + k * interval for k in ticks], ticks


def mprof_series(path):
    ts = []
    with open(path) as f:
        for line in f:
            if line.startswith("MEM "):
                ts.append(float(line.split()[2]))
    return ts


def timing_stats(ts, interval, seconds):
    n = len(ts)
    gaps = [b - a for a, b in zip(ts, ts[1:])]
    span = ts[-1] - ts[0] if n > 1 else 0.0
    return {
        "samples": n,
        "span_s": span,
        "in_first_window": sum(1 for t in ts if t - ts[0] < seconds - interval / 2),
        "drift_pct": (span / (n - 1) / interval - 1) * 100 if n > 1 else float("nan"),
        "gap_p50_ms": pctl(gaps, 50) * 1e3,
        "gap_p99_ms": pctl(gaps, 99) * 1e3,
        "gap_max_ms": max(gaps) * 1e3 if gaps else float("nan"),
    }


def attach_once(ctx, pid, i, starts):
    """One concurrent memtide attach + mprof attach + tick probe on pid.
    Returns ({tool: stats}, probe key-values)."""
    a = ctx.args
    T, S = a.interval, a.seconds
    mdir = os.path.join(ctx.tmp, "mprof")
    db = os.path.join(ctx.tmp, "attach%d.db" % i)
    dat = os.path.join(mdir, "attach%d.dat" % i)
    logs = {k: os.path.join(ctx.tmp, "%s-attach%d.log" % (k, i)) for k in ("memtide", "mprof")}
    # mprof's -t takes whole seconds and counts iterations (timeout /
    # interval of them), so it runs longer than S when it drifts.
    jobs = {
        "memtide": Timed(ctx, [ctx.memtide, "attach", pid, "-T", str(T), "-t", str(S), "-q",
                               "--db", db], "memtide", out=logs["memtide"]),
        "mprof": Timed(ctx, ctx.mprof + ["attach", "-T", str(T), "-t", str(int(S)), "-o",
                                         dat, pid], "mprof", cwd=mdir, out=logs["mprof"]),
    }
    probe = ctx.reaper.spawn([ctx.floor, "tick", "-i", str(T * 1e3), "-s", str(S), pid],
                             stdout=subprocess.PIPE, text=True)
    deadline = time.monotonic() + S * 3 + 10
    while any(j.p.poll() is None for j in jobs.values()) and time.monotonic() < deadline:
        for j in jobs.values():
            j.poll_status()
        time.sleep(0.05)
    res = {k: j.wait(timeout=max(1.0, deadline - time.monotonic())) for k, j in jobs.items()}
    probe_out = keyvals(probe.communicate(timeout=S + 10)[0])
    ctx.reaper.kill_group(probe.pid)
    for k, r in res.items():
        if r["status"] != 0:
            with open(logs[k]) as f:
                ctx.say("   %s exited %d: %s" % (k, r["status"], f.read().strip()[-400:]))
    count, run_samples, mts, ticks = memtide_series(db)
    st = {"memtide": timing_stats(mts, T, S), "mprof": timing_stats(mprof_series(dat), T, S)}
    for k in st:
        r = res[k]
        n = st[k]["samples"]
        st[k].update({
            "cpu_s": r["cpu_s"],
            "wall_s": r["wall_s"],
            "cpu_us_per_sample": r["cpu_s"] / n * 1e6 if n else float("nan"),
            "start_cpu_s": med(starts[k]),
            "steady_us_per_sample": (r["cpu_s"] - med(starts[k])) / n * 1e6 if n else float("nan"),
            "core_pct": r["cpu_s"] / r["wall_s"] * 100,
            "maxrss_kib": r["maxrss_kib"],
            "launcher_hwm_kib": r["launcher_hwm_kib"],
            "vmhwm_kib": r["vmhwm_kib"],
            "rssanon_kib": r["rssanon_kib"],
        })
    st["memtide"]["rows"] = count
    st["memtide"]["run_samples_column"] = run_samples
    st["memtide"]["skipped_ticks"] = (ticks[-1] - ticks[0] + 1 - len(ticks)) if ticks else 0
    return st, probe_out


def section_attach(ctx):
    a = ctx.args
    T, S = a.interval, a.seconds
    ideal = int(round(S / T))
    ctx.say("== b. attach to one sleeping Python process: memtide vs mprof, -T %g for %g s, "
            "concurrently, %d runs" % (T, S, a.attach_runs))
    target = ctx.reaper.spawn(SLEEPER)
    wait_sleeping([target.pid])
    mdir = os.path.join(ctx.tmp, "mprof")
    os.makedirs(mdir, exist_ok=True)
    pid = str(target.pid)
    runs, probes = [], []
    try:
        # What starting and stopping costs, without the sampling: memtide's
        # shortest recording (2 samples) and mprof with a timeout of 0.
        starts = {"memtide": [], "mprof": []}
        for i in range(3):
            r = run_timed(ctx, [ctx.memtide, "attach", pid, "-T", str(T), "-t", str(T), "-q",
                                "--db", os.path.join(ctx.tmp, "start%d.db" % i)], "mstart")
            starts["memtide"].append(r["cpu_s"])
            r = run_timed(ctx, ctx.mprof + ["attach", "-T", str(T), "-t", "0", "-o",
                                            "start%d.dat" % i, pid], "pstart", cwd=mdir)
            starts["mprof"].append(r["cpu_s"])
        for i in range(a.attach_runs):
            st1, pr1 = attach_once(ctx, pid, i, starts)
            runs.append(st1)
            probes.append(pr1)
    finally:
        ctx.reaper.kill_group(target.pid)

    # Medians over the runs; peaks and skipped ticks: the worst run.
    worst = {"maxrss_kib", "vmhwm_kib", "rssanon_kib", "skipped_ticks", "gap_max_ms",
             "launcher_hwm_kib"}
    st = {}
    for tool in ("memtide", "mprof"):
        st[tool] = {k: (max if k in worst else med)([r[tool][k] for r in runs])
                    for k in runs[0][tool]}
    probe_out = {k: (max if k.endswith(("_max", "skipped")) else med)(
        [p[k] for p in probes if k in p]) for k in probes[0]} if probes and probes[0] else {}
    ctx.raw["attach"] = {"interval": T, "seconds": S, "ideal": ideal, "median": st,
                         "runs": runs, "tick_probe": probes}
    m, p = st["memtide"], st["mprof"]
    rows = [
        ["samples recorded (ideal %d)" % ideal, "%d" % m["samples"], "%d" % p["samples"]],
        ["  of which in the first %g s" % S, "%d" % m["in_first_window"],
         "%d" % p["in_first_window"]],
        ["first->last sample, s", "%.3f" % m["span_s"], "%.3f" % p["span_s"]],
        ["drift (mean interval / T - 1)", "%+.2f %%" % m["drift_pct"], "%+.2f %%" % p["drift_pct"]],
        ["interval p50 / p99 / max, ms", "%.2f / %.2f / %.2f" % (m["gap_p50_ms"], m["gap_p99_ms"],
                                                                m["gap_max_ms"]),
         "%.2f / %.2f / %.2f" % (p["gap_p50_ms"], p["gap_p99_ms"], p["gap_max_ms"])],
        ["wall time of the sampler, s", "%.3f" % m["wall_s"], "%.3f" % p["wall_s"]],
        ["CPU total, ms", "%.1f" % (m["cpu_s"] * 1e3), "%.1f" % (p["cpu_s"] * 1e3)],
        ["CPU per sample, us", "%.1f" % m["cpu_us_per_sample"], "%.1f" % p["cpu_us_per_sample"]],
        ["start+exit CPU alone, ms (median of 3)", "%.1f" % (m["start_cpu_s"] * 1e3),
         "%.1f" % (p["start_cpu_s"] * 1e3)],
        ["CPU per sample without start, us", "%.1f" % m["steady_us_per_sample"],
         "%.1f" % p["steady_us_per_sample"]],
        ["share of one core, %", "%.2f" % m["core_pct"], "%.2f" % p["core_pct"]],
        ["peak RSS, ru_maxrss, MiB", "%.2f" % (m["maxrss_kib"] / 1024),
         "%.2f" % (p["maxrss_kib"] / 1024)],
        ["peak RSS, VmHWM polled at 20 Hz, MiB", "%.2f" % (m["vmhwm_kib"] / 1024),
         "%.2f" % (p["vmhwm_kib"] / 1024)],
        ["  RssAnon (its own heap), max, MiB", "%.2f" % (m["rssanon_kib"] / 1024),
         "%.2f" % (p["rssanon_kib"] / 1024)],
    ]
    ctx.say(table(rows, ["median of %d runs (peaks: the highest)" % len(runs), "memtide",
                         "mprof"]))
    ctx.say("   memtide stores tick numbers (time = run.started + tick * interval, absolute "
            "deadlines):")
    ctx.say("   its intervals above only show skipped ticks (%d skipped; run.samples column %s, "
            "rows %s)." % (m["skipped_ticks"],
                           "/".join("%d" % r["memtide"]["run_samples_column"] for r in runs),
                           "/".join("%d" % r["memtide"]["rows"] for r in runs)))
    if probe_out:
        ctx.say("   Real wake-ups of the same loop (ticker + sampler_tick, bench/sampler_floor tick, "
                "run alongside; medians, max of max):")
        ctx.say("   %d samples, %d skipped, late vs deadline p50 %.0f us / p99 %.0f us / max %.0f us, "
                "interval p50 %.3f ms / p99 %.3f ms, %.1f us CPU per sample"
                % (probe_out.get("tick_samples", 0), probe_out.get("tick_skipped", 0),
                   probe_out.get("tick_late_us_p50", 0), probe_out.get("tick_late_us_p99", 0),
                   probe_out.get("tick_late_us_max", 0), probe_out.get("tick_interval_ms_p50", 0),
                   probe_out.get("tick_interval_ms_p99", 0),
                   probe_out.get("tick_cpu_us_per_sample", 0)))
    ctx.say("   ru_maxrss is measured under bench/sampler_floor rusage (its own floor: %.2f MiB)"
            % (m["launcher_hwm_kib"] / 1024))
    r_tot = ratio(p["cpu_us_per_sample"], m["cpu_us_per_sample"])
    r_steady = ratio(p["steady_us_per_sample"], m["steady_us_per_sample"])
    r_worst = ratio(p["steady_us_per_sample"], m["cpu_us_per_sample"])
    ctx.say("   mprof / memtide CPU per sample: %.1fx all in; %.1fx both without start-up; "
            "%.1fx mprof without, memtide with" % (r_tot, r_steady, r_worst))
    ctx.say("   per run, both without start-up: %s; mprof drift per run: %s"
            % (", ".join("%.1fx" % ratio(r["mprof"]["steady_us_per_sample"],
                                         r["memtide"]["steady_us_per_sample"]) for r in runs),
               ", ".join("%+.2f %%" % r["mprof"]["drift_pct"] for r in runs)))
    ctx.target("b. mprof / memtide CPU per sample (both without start-up)", "%.1fx" % r_steady,
               ">= 3x", r_steady >= 3)
    ok = abs(m["drift_pct"]) < 0.5 and m["skipped_ticks"] == 0 and abs(m["samples"] - ideal) <= 1
    ctx.target("b. memtide drift at -T %g (mprof: %+.1f %%)" % (T, p["drift_pct"]),
               "%+.2f %%, %d samples, %d skipped" % (m["drift_pct"], m["samples"],
                                                    m["skipped_ticks"]),
               "0 %%, %d+-1 samples" % ideal, ok)
    rss = m["maxrss_kib"] / 1024
    ctx.target("b. memtide attach peak RSS (ru_maxrss)", "%.2f MiB" % rss, "<= 3 MiB", rss <= 3)
    ctx.say()


# ---------------------------------------------------------------- section c

def series(n, seed=1):
    """A leaking, sawtoothing, noisy RSS series in pages, deterministic."""
    rnd = random.Random(seed)
    spike = 0
    for i in range(n):
        if spike:
            spike -= 1
        elif rnd.random() < 0.0002:
            spike = rnd.randint(3, 60)
        pages = (12000 + i // 40 + int(6000 * ((i % 45000) / 45000.0))
                 + rnd.randint(0, 300) + (25000 if spike else 0))
        yield i, pages, rnd.randint(0, 1000), 1 + (i // 100000) % 4


def write_series_dat(path, n, cmd):
    """series(n) as mprof writes it: MEM lines, MiB and Unix time, 10 ms
    apart."""
    page, interval, started = 4096, 0.01, 1713264000.0
    with open(path, "w") as f:
        f.write("CMDLINE %s\n" % cmd)
        w = f.write
        for tick, pages, _, _ in series(n):
            w("MEM %.6f %.4f\n" % (pages * page / MIB, started + tick * interval))


def make_plot_data(ctx, sizes):
    """One mprof .dat per size, and one database with each imported by
    `memtide import` (its samples and their per-second buckets): each tool
    plots the same file, through its own way in."""
    db = os.path.join(ctx.tmp, "plot.db")
    runs, dats, secs = {}, {}, {}
    for n in sizes:
        dat = os.path.join(ctx.tmp, "plot-%d.dat" % n)
        write_series_dat(dat, n, "python3 leaky_worker.py --samples %d" % n)
        t0 = time.monotonic()
        subprocess.run([ctx.memtide, "import", "-q", "--db", db, dat], check=True, timeout=600)
        secs[n] = time.monotonic() - t0
        con = sqlite3.connect(db)
        runs[n] = con.execute("SELECT max(run) FROM runs").fetchone()[0]
        got = con.execute("SELECT count(*) FROM samples WHERE run = ?", (runs[n],)).fetchone()[0]
        con.close()
        if got != n:
            raise RuntimeError("plot db: run %d has %d samples, wanted %d" % (runs[n], got, n))
        dats[n] = dat
    return db, runs, dats, secs


def section_plot(ctx):
    a = ctx.args
    sizes = sorted(a.plot_sizes, reverse=True)
    ctx.say("== c. plot one process's series: memtide plot vs mprof plot, %s samples"
            % " and ".join("%gk" % (n / 1000) if n < 1000000 else "%gM" % (n / 1e6) for n in sizes))
    if not os.access(ctx.plot_bin, os.X_OK):
        ctx.say("   skipped: %s missing" % os.path.relpath(ctx.plot_bin))
        ctx.target("c. mprof plot / memtide plot wall time, 1M samples", "skipped",
                   ">= 25x", None)
        ctx.say()
        return
    db, runs, dats, secs = make_plot_data(ctx, sizes)
    ctx.say("   (the .dat files, %s, imported by memtide import in %s: %s, %.1f MB)"
            % (", ".join("%.1f MB" % (os.path.getsize(d) / 1e6) for d in dats.values()),
               ", ".join("%.2f s" % secs[n] for n in sizes), os.path.basename(db),
               os.path.getsize(db) / 1e6))
    env = dict(os.environ, MPLBACKEND="Agg")
    res = {}
    rows = []
    for n in sizes:
        r = {"memtide": [], "mprof": []}
        for i in range(a.plot_reps):
            for tool in ("memtide", "mprof"):
                png = os.path.join(ctx.tmp, "%s-%d-%d.png" % (tool, n, i))
                log = os.path.join(ctx.tmp, "%s-plot.log" % tool)
                if tool == "memtide":
                    argv = [ctx.memtide, "plot", "--db", db, str(runs[n]), "-o", png]
                else:
                    argv = ctx.mprof + ["plot", "-o", png, dats[n]]
                x = run_timed(ctx, argv, "plot", cwd=ctx.tmp, env=env, out=log, timeout=300)
                x["png"] = png_size(png)
                x["bytes"] = os.path.getsize(png) if os.path.exists(png) else 0
                if x["status"] != 0 or not x["png"]:
                    with open(log) as f:
                        msg = f.read().strip()[-400:]
                    raise RuntimeError("%s plot of %d samples failed (status %d, %s): %s"
                                       % (tool, n, x["status"], "png" if x["png"] else "no png",
                                          msg))
                r[tool].append(x)
        res[n] = r
        mw = med([x["wall_s"] for x in r["memtide"]])
        pw = med([x["wall_s"] for x in r["mprof"]])
        for tool, w in (("memtide", mw), ("mprof", pw)):
            xs = r[tool]
            rows.append(["%d" % n, tool, "%.3f" % w,
                         "%.3f-%.3f" % (min(x["wall_s"] for x in xs), max(x["wall_s"] for x in xs)),
                         "%.3f" % med([x["cpu_s"] for x in xs]),
                         "%.1f" % (max(x["maxrss_kib"] for x in xs) / 1024),
                         "%dx%d" % xs[0]["png"], "%.0f" % (xs[0]["bytes"] / 1e3),
                         "%.1fx" % ratio(pw, mw) if tool == "mprof" else ""])
    ctx.say(table(rows, ["samples", "tool", "wall s (median)", "range", "CPU s", "peak MiB",
                         "image", "KB", "mprof/memtide"]))
    ctx.say("   median of %d runs each, alternated; wall time from exec to exit "
            "(bench/sampler_floor rusage)" % a.plot_reps)
    ctx.raw["plot"] = {str(n): {t: [{k: v for k, v in x.items() if k != "png"} | {"png": x["png"]}
                                    for x in xs] for t, xs in r.items()} for n, r in res.items()}
    big = sizes[0]
    rr = ratio(med([x["wall_s"] for x in res[big]["mprof"]]),
               med([x["wall_s"] for x in res[big]["memtide"]]))
    ctx.target("c. mprof plot / memtide plot wall time, %d samples" % big, "%.1fx" % rr,
               ">= 25x", rr >= 25)
    if a.plot_big:
        plot_scale(ctx, a.plot_big)
    ctx.say()


# ---------------------------------------------------------------- import

def write_mprof_file(path, lines):
    """An mprof file as mprof -M writes it, in memtide's export order: MEM,
    then CHLD lines, every 10 ms; a FUNC line every 1000 MEM lines."""
    rnd = random.Random(7)
    t0 = 1713264000.0
    n = 0
    with open(path, "w") as f:
        f.write("CMDLINE /usr/bin/python3 train.py --epochs 2\n")
        funcs = []
        i = 0
        while n < lines - 1:
            t = t0 + i * 0.01
            f.write("MEM %.6f %.4f\n" % (rnd.randrange(2000, 90000) * 4096 / MIB, t))
            f.write("CHLD 4242 %.6f %.4f\n" % (rnd.randrange(800, 30000) * 4096 / MIB, t + 0.0003))
            n += 2
            if i % 1000 == 999:
                funcs.append("FUNC __main__.step %.4f %.4f %.4f %.4f 0\n"
                             % (10.5, t - 9.99, 11.25, t))
                n += 1
            i += 1
        f.writelines(funcs)
    return n + 1


def section_import(ctx):
    a = ctx.args
    path = os.path.join(ctx.tmp, "import.dat")
    n = write_mprof_file(path, a.import_lines)
    ctx.say("== d. memtide import of an mprof file: %d lines, %.1f MB"
            % (n, os.path.getsize(path) / 1e6))
    rows, walls, cpus = [], [], []
    for i in range(a.import_reps):
        db = os.path.join(ctx.tmp, "import-%d.db" % i)
        log = os.path.join(ctx.tmp, "import.log")
        x = run_timed(ctx, [ctx.memtide, "import", "-q", "--db", db, path], "import", out=log)
        if x["status"] != 0:
            with open(log) as f:
                raise RuntimeError("memtide import failed: %s" % f.read().strip()[-400:])
        walls.append(x["wall_s"])
        cpus.append(x["cpu_s"])
    out = os.path.join(ctx.tmp, "export.dat")
    y = run_timed(ctx, [ctx.memtide, "export", "--db", db, "-o", out], "export",
                  out=os.path.join(ctx.tmp, "export.log"))
    with open(path, "rb") as f1, open(out, "rb") as f2:
        same = f1.read() == f2.read()
    rows.append(["import", "%.3f" % med(walls), "%.3f-%.3f" % (min(walls), max(walls)),
                 "%.3f" % med(cpus), "%.2fM" % (n / med(walls) / 1e6),
                 "%.2fM" % (n / med(cpus) / 1e6)])
    rows.append(["export", "%.3f" % y["wall_s"], "", "%.3f" % y["cpu_s"],
                 "%.2fM" % (n / y["wall_s"] / 1e6), "%.2fM" % (n / y["cpu_s"] / 1e6)])
    ctx.say(table(rows, ["step", "wall s (median)", "range", "CPU s", "lines/s wall",
                         "lines/s CPU"]))
    ctx.say("   %d imports into fresh databases; export %s the file byte for byte"
            % (a.import_reps, "reproduces" if same else "DOES NOT reproduce"))
    ctx.raw["import"] = {"lines": n, "wall_s": walls, "cpu_s": cpus,
                         "export_wall_s": y["wall_s"], "export_identical": same}
    rate = n / med(walls)
    ctx.target("d. memtide import, lines a second (wall)", "%.2fM" % (rate / 1e6),
               ">= 1M", rate >= 1e6 and same)
# ---------------------------------------------------------------- memtided

FORKER = ("import os, sys, time\n"
          "pids = [os.getpid()]\n"
          "for _ in range(int(sys.argv[1]) - 1):\n"
          "    pid = os.fork()\n"
          "    if pid == 0:\n"
          "        time.sleep(3600); os._exit(0)\n"
          "    pids.append(pid)\n"
          "print(' '.join(map(str, pids)), flush=True)\n"
          "time.sleep(3600)\n")


def spawn_forked_pythons(ctx, n, marker):
    """n sleeping Python processes: one that forks n - 1 children after
    import.  Returns (its process group, pids)."""
    p = ctx.reaper.spawn([PY, "-c", FORKER, str(n), marker], stdout=subprocess.PIPE, text=True)
    pids = [int(x) for x in p.stdout.readline().split()]
    if len(pids) != n:
        raise RuntimeError("forker started %d of %d" % (len(pids), n))
    wait_sleeping(pids)
    return p.pid, pids


WARMUP_S = 5  # start-up (the first scan judges every process) excluded


def cpu_ticks(pid):
    """utime + stime of pid, clock ticks; None when gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])
    except (OSError, TypeError, IndexError, ValueError):
        return None


def daemon_once(ctx, n, interval_s, seconds, tag):
    marker = "memtided-bench-%s-%d" % (tag, os.getpid())
    pgid, pids = spawn_forked_pythons(ctx, n, marker)
    conf = os.path.join(ctx.tmp, "memtided-%s.conf" % tag)
    db = os.path.join(ctx.tmp, "memtided-%s.db" % tag)
    with open(conf, "w") as f:
        f.write('[memtided]\nretention = 100d\n[track "bench"]\npython = yes\n'
                'cmdline = %s\ninterval = %dms\n' % (marker, round(interval_s * 1000)))
    try:
        jobs = {
            "memtided": Timed(ctx, [ctx.memtided, "-c", conf, "--db", db], "memtided"),
            "psutil": Timed(ctx, [PY, os.path.join(ctx.here, "psutil_loop.py"), str(interval_s),
                                  str(seconds)] + [str(p) for p in pids], "psutil"),
        }
        t_start = time.monotonic()
        end = t_start + seconds
        warm = None  # (time, {job: CPU ticks}) once start-up is over
        while time.monotonic() < end:
            for j in jobs.values():
                j.poll_status()
            if warm is None and time.monotonic() >= t_start + WARMUP_S:
                warm = (time.monotonic(), {k: cpu_ticks(j.child_pid()) for k, j in jobs.items()})
            time.sleep(0.2)
        steady = {}
        if warm:
            dt = time.monotonic() - warm[0]
            for k, j in jobs.items():
                now = cpu_ticks(j.child_pid())
                if now is not None and warm[1][k] is not None:
                    steady[k] = (now - warm[1][k]) / os.sysconf("SC_CLK_TCK") / dt * 100
        # memtided runs until stopped: SIGINT once the psutil loop is done.
        res = {"psutil": jobs["psutil"].wait(timeout=60),
               "memtided": jobs["memtided"].wait(timeout=0)}
    finally:
        ctx.reaper.kill_group(pgid)
    con = sqlite3.connect(db)
    rows, procs = con.execute("SELECT count(*), count(DISTINCT proc) FROM sample").fetchone()
    con.close()
    out = {}
    for k, r in res.items():
        out[k] = {"cpu_s": r["cpu_s"], "wall_s": r["wall_s"], "status": r["status"],
                  "core_pct": r["cpu_s"] / r["wall_s"] * 100, "maxrss_kib": r["maxrss_kib"]}
    out["memtided"].update(samples=rows, procs=procs)
    for k, v in steady.items():
        out[k]["steady_pct"] = v
    return out


def section_daemon(ctx):
    a = ctx.args
    ctx.say("== e. memtided vs a psutil loop over the same sleeping Python processes, "
            "concurrently, %g s each" % a.daemon_seconds)
    rows = []
    for n, interval_s, tag in ((a.daemon_procs, 1.0, "slow"), (a.daemon_fast_procs, 0.01, "fast")):
        interval = "%g s" % interval_s
        r = daemon_once(ctx, n, interval_s, a.daemon_seconds, tag)
        ctx.raw["daemon_%s" % tag] = r
        m, p = r["memtided"], r["psutil"]
        ms, ps = m.get("steady_pct"), p.get("steady_pct")
        fmt = lambda v: "%.2f %%" % v if v is not None else "-"
        rows.append(["%d x %s" % (n, interval), "%.2f %%" % m["core_pct"], fmt(ms),
                     "%.1f MiB" % (m["maxrss_kib"] / 1024), "%d" % m["samples"],
                     "%.2f %%" % p["core_pct"], fmt(ps), "%.1f MiB" % (p["maxrss_kib"] / 1024),
                     "%.1fx" % ratio(p["core_pct"], m["core_pct"])])
        if tag == "slow":
            ctx.target("e. memtided CPU at %d x 1 s, after start-up" % n, fmt(ms) + " of a core",
                       "<= 1 %", ms is not None and ms <= 1.0)
            ctx.target("e. memtided CPU at %d x 1 s, whole run" % n,
                       "%.2f %% of a core" % m["core_pct"], "(report)", None)
            ctx.target("e. memtided peak RSS at %d x 1 s" % n,
                       "%.1f MiB" % (m["maxrss_kib"] / 1024), "<= 8 MiB",
                       m["maxrss_kib"] <= 8 * 1024)
        ctx.target("e. psutil / memtided CPU at %d x %s" % (n, interval),
                   "%.1fx" % ratio(p["core_pct"], m["core_pct"]), "> 1x (report)", None)
    ctx.say(table(rows, ["processes", "memtided CPU", "after %d s" % WARMUP_S, "memtided RSS",
                         "samples", "psutil CPU", "after %d s" % WARMUP_S, "psutil RSS",
                         "psutil/memtided"]))
    ctx.say()


def make_big_data(ctx, n):
    """A run of n samples and a year of one daemon process's rollups, in
    one database, inserted by SQLite itself (a Python loop would take
    minutes): the same leaking, noisy sawtooth as series(), in SQL."""
    db = os.path.join(ctx.tmp, "big.db")
    subprocess.run([ctx.memtide, "run", "--db", db, "-q", "--", PY, "-c", "pass"],
                   check=True, timeout=60)
    con = sqlite3.connect(db)
    started = 1713264000.0
    cur = con.execute(
        "INSERT INTO run(kind, command, started, ended, interval, page_size, backend,"
        " samples, last_tick, exit_status) VALUES ('run', ?, ?, ?, 0.01, 4096, 'rss', ?, ?, 0)",
        ("python3 big.py --samples %d" % n, started, started + n * 0.01, n, n - 1))
    run = cur.lastrowid
    proc = con.execute(
        "INSERT INTO proc(run, pid, ppid, start_ticks, started, first_tick, last_tick, cmdline)"
        " VALUES (?, 4242, 1, 1, ?, 0, ?, 'python3 big.py')", (run, started, n - 1)).lastrowid
    con.execute(
        "WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM c WHERE i < ?)"
        " INSERT INTO sample SELECT ?, i, 12000 + i / 400 + (i % 45000) * 6000 / 45000"
        " + abs(random() % 300), abs(random() % 1000), 1 + (i / 100000) % 4 FROM c",
        (n - 1, proc))
    minutes = 365 * 24 * 60
    first = int(started // 60)
    drun = con.execute(
        "INSERT INTO run(kind, command, started, ended, interval, page_size, backend)"
        " VALUES ('daemon', 'memtided', ?, ?, 0.01, 4096, 'rss')",
        (first * 60.0, (first + minutes) * 60.0)).lastrowid
    dproc = con.execute(
        "INSERT INTO proc(run, pid, ppid, start_ticks, started, ended, cmdline, name, interval)"
        " VALUES (?, 777, 1, 2, ?, ?, 'python3 -m celery worker', 'celery worker', 1.0)",
        (drun, first * 60.0, (first + minutes) * 60.0)).lastrowid
    con.execute(
        "WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM c WHERE i < ?)"
        " INSERT INTO rollup(proc, minute, n, rss_min, rss_max, rss_mean, cpu_mean, cpu_max,"
        " threads_max) SELECT ?, ? + i, 60, 30000 + i / 20 + (i % 1440) * 10,"
        " 30500 + i / 20 + (i % 1440) * 10 + abs(random() % 400),"
        " 30250 + i / 20 + (i % 1440) * 10, 50, 120, 8 FROM c",
        (minutes - 1, dproc, first))
    con.commit()
    con.close()
    return db, run, first * 60.0, (first + minutes) * 60.0


def plot_scale(ctx, n):
    """memtide plot alone where mprof cannot follow: n raw samples, and a
    year of rollups read through --pid --since --until."""
    t0 = time.monotonic()
    db, run, since, until = make_big_data(ctx, n)
    ctx.say("   (%s samples and a year of rollups made in %.1f s, %.0f MB)"
            % ("{:,}".format(n), time.monotonic() - t0, os.path.getsize(db) / 1e6))
    dat = os.path.join(ctx.tmp, "big.dat")
    write_series_dat(dat, n, "python3 big.py")
    t0 = time.monotonic()
    subprocess.run([ctx.memtide, "import", "-q", "--db", db, dat], check=True, timeout=900)
    ctx.say("   (the same size as an mprof file, %.0f MB, imported by memtide import in %.1f s)"
            % (os.path.getsize(dat) / 1e6, time.monotonic() - t0))
    os.unlink(dat)
    con = sqlite3.connect(db)
    imported = con.execute("SELECT max(run) FROM runs").fetchone()[0]
    con.close()
    m = n // 1000000
    cases = [("%dM samples, as recorded (with buckets)" % m, [str(imported)]),
             ("%dM samples, no buckets (every row read)" % m, [str(run)]),
             ("1 year of rollups (525,600 minutes)",
              ["--pid", "777", "--since", "@%d" % since, "--until", "@%d" % until])]
    rows = []
    for name, args in cases:
        xs = []
        for i in range(ctx.args.plot_reps):
            png = os.path.join(ctx.tmp, "scale-%d.png" % i)
            argv = [ctx.plot_bin, "--db", db, "-o", png] + args
            x = run_timed(ctx, argv, "plot", cwd=ctx.tmp, timeout=300)
            if x["status"] != 0 or not png_size(png):
                raise RuntimeError("memtide-plot %s failed (status %d)" % (name, x["status"]))
            x["bytes"] = os.path.getsize(png)
            xs.append(x)
        w = med([x["wall_s"] for x in xs])
        rows.append([name, "%.3f" % w,
                     "%.3f-%.3f" % (min(x["wall_s"] for x in xs), max(x["wall_s"] for x in xs)),
                     "%.3f" % med([x["cpu_s"] for x in xs]),
                     "%.1f" % (max(x["maxrss_kib"] for x in xs) / 1024)])
        ctx.raw.setdefault("plot_scale", {})[name] = xs
        if name.endswith("(with buckets)"):
            ctx.target("c. memtide plot of %s, wall time" % name, "%.2f s" % w, "< 1 s", w < 1)
    ctx.say(table(rows, ["memtide-plot", "wall s (median)", "range", "CPU s", "peak MiB"]))


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description="memtide benchmarks (see the module docstring)")
    ap.add_argument("--build", default="build", help="build directory (default build)")
    ap.add_argument("--procs", type=int, default=200, help="sleepers for section a")
    ap.add_argument("--rounds", type=int, default=100, help="C rounds per repetition")
    ap.add_argument("--psutil-rounds", type=int, default=20, help="psutil rounds per repetition")
    ap.add_argument("--reps", type=int, default=3, help="repetitions per program run")
    ap.add_argument("--alternations", type=int, default=3, help="C / psutil alternations")
    ap.add_argument("--interval", type=float, default=0.01, help="section b interval, s")
    ap.add_argument("--seconds", type=float, default=10, help="section b duration, s")
    ap.add_argument("--attach-runs", type=int, default=3, help="section b repetitions")
    ap.add_argument("--plot-sizes", type=int, nargs="+", default=[1000000, 100000])
    ap.add_argument("--plot-reps", type=int, default=3)
    ap.add_argument("--plot-big", type=int, default=10000000,
                    help="samples of the memtide-only scale run (0: skip)")
    ap.add_argument("--import-lines", type=int, default=1000000)
    ap.add_argument("--import-reps", type=int, default=3)
    ap.add_argument("--daemon-procs", type=int, default=1000, help="section e, at 1 s")
    ap.add_argument("--daemon-fast-procs", type=int, default=50, help="section e, at 10 ms")
    ap.add_argument("--daemon-seconds", type=float, default=30, help="section e duration")
    ap.add_argument("--fleet-seconds", type=float, default=30, help="section g duration")
    ap.add_argument("--where-reps", type=int, default=3, help="section i repetitions")
    ap.add_argument("--only", choices=["a", "b", "c", "d", "e", "f", "g", "h", "i"],
                    action="append",
                    help="run only these sections")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = ap.parse_args()

    ctx = Ctx(args)
    for path in (ctx.memtide, ctx.floor):
        if not os.access(path, os.X_OK):
            sys.exit("bench: %s missing: make %s" % (path, os.path.relpath(path)))
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    t0 = time.monotonic()
    status = 0
    try:
        ctx.say("memtide benchmarks  %s  %s, %d CPUs, kernel %s"
                % (time.strftime("%Y-%m-%d %H:%M"), os.uname().nodename, os.cpu_count(),
                   os.uname().release))
        ctx.say("mprof: %s; psutil via %s; temp %s" % (" ".join(ctx.mprof), PY, ctx.tmp))
        ctx.say()
        for name, fn in (("a", section_batch), ("b", section_attach), ("c", section_plot),
                         ("d", section_import), ("e", section_daemon),
                         ("f", section_markers), ("g", fleet.section_fleet),
                         ("h", lambda c: section_hostile(c, table)),
                         ("i", lambda c: where.section_where(c, table))):
            if args.only and name not in args.only:
                continue
            try:
                fn(ctx)
            except (RuntimeError, subprocess.SubprocessError, OSError, sqlite3.Error,
                    KeyError, ValueError) as e:
                status = 1
                ctx.say("   section %s FAILED: %s: %s" % (name, type(e).__name__, e))
                ctx.say()
                ctx.target("%s. (section failed)" % name, "error", "-", False)
    except KeyboardInterrupt as e:
        status = 130
        ctx.say("interrupted (%s)" % (e or "SIGINT"))
    finally:
        ctx.reaper.kill_all()
        if not args.keep:
            shutil.rmtree(ctx.tmp, ignore_errors=True)

    ctx.say("== ratios")
    rows = [[n, m, t, "met" if ok else "not met" if ok is False else "skipped"]
            for n, m, t, ok in ctx.targets]
    ctx.say(table(rows, ["target", "measured", "target", ""]))
    ctx.say()
    ctx.say("total wall time %.0f s" % (time.monotonic() - t0))
    if status == 130:
        return status  # keep the results of the last complete run
    out_dir = os.path.join(ctx.build, "bench")
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "results.txt"), "w") as f:
        f.write("\n".join(ctx.out) + "\n")
    ctx.raw["targets"] = [{"target": n, "measured": m, "want": t, "met": ok}
                          for n, m, t, ok in ctx.targets]
    with open(os.path.join(out_dir, "results.json"), "w") as f:
        json.dump(ctx.raw, f, indent=1, default=str)
    print("written %s and results.json" % os.path.relpath(os.path.join(out_dir, "results.txt")))
    return status


if __name__ == "__main__":
    sys.exit(main())
