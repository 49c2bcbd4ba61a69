"""bench/markers.py - section f of bench/run.py: the cost of a decorated
call, @profile as `memtide run script.py` provides it (a marker datagram at
each end carrying the process's own memory, VmHWM read and reset) against
@profile as `mprof run --python` provides it (memory_profiler's TimeStamper:
psutil's memory_info at each end), and an undecorated call.  CPU time of
the program per call, medians of --marker-reps runs, as ratios."""
import os
import statistics
import subprocess

CALLS = 20000
PROGRAM = """
import os, sys, time
def plain(x):
    return x + 1
try:
    profile
except NameError:
    profile = lambda f: f
deco = profile(plain) if sys.argv[1] == "deco" else plain
t = time.process_time()
for i in range(%d):
    deco(i)
print("per_call_us", (time.process_time() - t) / %d * 1e6)
""" % (CALLS, CALLS)


def _per_call(argv, env=None):
    p = subprocess.run(argv, capture_output=True, text=True, timeout=600, env=env)
    for line in p.stdout.splitlines():
        if line.startswith("per_call_us"):
            return float(line.split()[1])
    raise RuntimeError("%s: %s" % (argv[:3], (p.stderr or p.stdout)[-300:]))


def section_markers(ctx, reps=3):
    script = os.path.join(ctx.tmp, "calls.py")
    with open(script, "w") as f:
        f.write(PROGRAM)
    db = os.path.join(ctx.tmp, "markers.db")
    env = dict(os.environ, PATH="/usr/bin:" + os.environ.get("PATH", ""))
    runs = {"plain": [], "memtide": [], "mprof": []}
    for _ in range(reps):
        runs["plain"].append(_per_call(["/usr/bin/python3", script, "plain"]))
        runs["memtide"].append(_per_call([ctx.memtide, "run", "-q", "--db", db, script,
                                          "deco"], env))
        runs["mprof"].append(_per_call(["/usr/bin/python3", *ctx.mprof, "run", "-o",
                                        os.path.join(ctx.tmp, "markers.dat"), script,
                                        "deco"], env))
    m = {k: statistics.median(v) for k, v in runs.items()}
    ctx.say("== f. a decorated call (%d calls, CPU us a call, median of %d)" % (CALLS, reps))
    ctx.say("   undecorated %.2f   memtide @profile %.1f   mprof @profile %.1f"
            % (m["plain"], m["memtide"], m["mprof"]))
    ctx.say()
    ctx.raw["markers"] = runs
    ok = m["memtide"] <= m["mprof"]
    ctx.target("f. memtide @profile / mprof @profile, CPU a call",
               "%.2fx" % (m["memtide"] / m["mprof"]), "<= 1x", ok)
