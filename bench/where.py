"""bench/where.py - section i of bench/run.py: memtide run --stacks against
Debian's austin -m on the same program (bench/where_prog.py: alloc() 3 MiB
then cpu() 30 ms, 40 rounds), under a CPython austin 1.0.1 reads (pyenv
3.10 or 3.9).  Per contender, medians of --where-reps runs:
  - share of the growth charged to alloc(): bytes charged to it over the
    bytes it allocated (memtide where --csv; austin's -m output, KiB
    deltas per collapsed stack);
  - CPU per stack sample: memtide's stack thread (its own CPU clock, from
    memtide's summary line) and memtide as a whole (rusage of memtide run
    minus the program's own CPU) over its stack samples; austin's rusage
    minus the program's CPU over the samples it reports.  The program's
    own CPU is what it reports (time.process_time() at its end) plus what
    it spends after that, exiting (freeing 120 MiB: about 15 ms), measured
    on runs of the program alone and subtracted from both contenders; the
    figure with that exit left in, as this bench counted it before, is
    shown too.  A sample is a stack read: memtide counts each read that
    gave a stack, austin each sample it reports;
  - the target's own CPU time (os.times() in the program, WHERE_FIXED=1: a
    fixed amount of work) against a run with nothing attached;
and the cost of one stack sample at a 30-frame depth and the reader's RSS
(build/pystack-dump --bench)."""
import csv
import glob
import io
import json
import os
import re
import resource
import statistics
import subprocess
import time

MIB = 2**20


def interpreter():
    for minor in ("3.10", "3.9", "3.8"):
        found = sorted(glob.glob(os.path.expanduser(
            "~/.pyenv/versions/%s.*/bin/python%s" % (minor, minor))))
        if found:
            return found[-1]
    return None


def timed(argv, **kw):
    """Runs argv; (stdout, stderr, CPU seconds of it and its children)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    p = subprocess.run(argv, capture_output=True, timeout=300, **kw)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        raise RuntimeError("%s: exit %d: %s" % (argv[0], p.returncode, p.stderr[-300:]))
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return p.stdout.decode(), p.stderr.decode(errors="replace"), cpu


def prog_result(out):
    return json.loads(out.strip().splitlines()[-1])


def target_cpu(ctx, py, prog, how):
    """The program's own CPU seconds doing fixed work under how: nothing,
    memtide run --stacks or austin -m."""
    env = dict(os.environ, WHERE_FIXED="1")
    argv = [py, prog]
    if how == "memtide":
        argv = [ctx.memtide, "run", "--stacks", "-q", "-T", "0.1", "--db",
                os.path.join(ctx.tmp, "where.db")] + argv
    elif how == "austin":
        argv = ["austin", "-m", "-o", os.devnull] + argv
    return prog_result(timed(argv, env=env)[0])["cpu_s"]


def run_alone(py, prog):
    """CPU seconds the program spends outside its own clock (starting
    before it, exiting after it), with nothing attached."""
    out, err, cpu = timed([py, prog])
    return cpu - prog_result(out)["cpu_s"]


def run_memtide(ctx, py, prog, i):
    # One database for every run, as a user keeps one: creating it is not
    # part of what a stack sample costs.
    db = os.path.join(ctx.tmp, "where.db")
    out, err, cpu = timed([ctx.memtide, "run", "--stacks", "-T", "0.1", "--db", db, py, prog])
    res = prog_result(out)
    m = re.search(r"stacks: (\d+) samples every .*?, ([\d.]+) us CPU each .*reader (\S+ \S+)", err)
    if not m:
        raise RuntimeError("no stacks summary from memtide: %s" % err[-300:])
    rows = list(csv.DictReader(io.StringIO(subprocess.run(
        [ctx.memtide, "where", "--db", db, "--csv", "--top", "0"],
        capture_output=True, check=True).stdout.decode())))
    alloc = sum(int(r["grown_bytes"]) for r in rows
                if r["function"] == "alloc" and r["file"] == prog)
    samples = int(m.group(1))
    return {"share": alloc / res["alloc_bytes"], "target_cpu_s": res["cpu_s"],
            "samples": samples, "thread_us": float(m.group(2)),
            "outside_s": cpu - res["cpu_s"], "reader": m.group(3)}


def run_austin(ctx, py, prog, i):
    path = os.path.join(ctx.tmp, "austin%d.txt" % i)
    out, err, cpu = timed(["austin", "-m", "-o", path, py, prog])
    res = prog_result(out)
    m = re.search(r"Error rate : \d+/(\d+)", err)
    if not m:
        raise RuntimeError("no sample count from austin: %s" % err[-300:])
    samples = int(m.group(1))
    alloc_kib = 0
    with open(path, errors="replace") as f:
        for line in f:
            stack, _, value = line.rstrip("\n").rpartition(" ")
            if not stack or not value.lstrip("-").isdigit():
                continue
            frames = [x for x in stack.split(";") if not x.startswith("L")]
            if int(value) > 0 and frames[-1].startswith("alloc (%s)" % prog):
                alloc_kib += int(value)
    return {"share": alloc_kib * 1024 / res["alloc_bytes"], "target_cpu_s": res["cpu_s"],
            "samples": samples, "outside_s": cpu - res["cpu_s"]}


def deep_sample(ctx, py, prog):
    """pystack-dump --bench on a program 30 frames deep."""
    dump = os.path.join(ctx.build, "pystack-dump")
    if not os.access(dump, os.X_OK):
        return None
    p = subprocess.Popen([py, prog, "30", "30"], stdout=subprocess.PIPE)
    try:
        p.stdout.readline()
        time.sleep(0.2)
        out = subprocess.run([dump, "--bench", str(p.pid), "20000"], capture_output=True,
                             timeout=60).stdout.decode()
    finally:
        p.kill()
        p.wait()
    return {k: float(v) for k, v in re.findall(r"(\w+) ([\d.]+)", out)}


def section_where(ctx, table):
    py = interpreter()
    prog = os.path.join(ctx.here, "where_prog.py")
    ctx.say("== i. where: memtide run --stacks vs austin -m (%s), %d runs each"
            % (py, ctx.args.where_reps))
    if not py or not shutil_which("austin"):
        ctx.say("   skipped: needs ~/.pyenv/versions/3.8-3.10 and austin (make deps)")
        ctx.target("i. where (skipped)", "-", "-", None)
        return
    runs = {"none": [], "memtide": [], "austin": []}
    for i in range(ctx.args.where_reps):
        runs["none"].append({"outside_s": run_alone(py, prog)})
        runs["memtide"].append(run_memtide(ctx, py, prog, i))
        runs["austin"].append(run_austin(ctx, py, prog, i))
    exit_s = statistics.median(r["outside_s"] for r in runs["none"])
    for r in runs["memtide"] + runs["austin"]:
        r["whole_us"] = (r["outside_s"] - exit_s) * 1e6 / r["samples"]
        r["whole_with_exit_us"] = r["outside_s"] * 1e6 / r["samples"]
    # The target's CPU: other load on the machine moves it by tens of %
    # from run to run, so each way is run 5 times, interleaved, and the
    # least (the run least disturbed) is compared.
    tcpu = {"none": [], "memtide": [], "austin": []}
    for _ in range(5):
        for how in tcpu:
            tcpu[how].append(target_cpu(ctx, py, prog, how))
    med = lambda k, f: statistics.median(r[f] for r in runs[k])
    base = min(tcpu["none"])
    deep = deep_sample(ctx, py, prog)
    rows = [
        ["growth charged to alloc()", "%.1f %%" % (100 * med("memtide", "share")),
         "%.1f %%" % (100 * med("austin", "share"))],
        ["stack samples", "%d" % med("memtide", "samples"), "%d" % med("austin", "samples")],
        ["CPU per stack sample, sampler thread", "%.1f us" % med("memtide", "thread_us"), "-"],
        ["CPU per stack sample, whole process", "%.1f us" % med("memtide", "whole_us"),
         "%.1f us" % med("austin", "whole_us")],
        ["  the same counting the program's exit (%.1f ms)" % (exit_s * 1e3),
         "%.1f us" % med("memtide", "whole_with_exit_us"),
         "%.1f us" % med("austin", "whole_with_exit_us")],
        ["target CPU, fixed work, least of 5, vs alone (%.3f s)" % base,
         "%+.1f %%" % (100 * (min(tcpu["memtide"]) / base - 1)),
         "%+.1f %%" % (100 * (min(tcpu["austin"]) / base - 1))],
        ["reader's memory (memtide summary)", runs["memtide"][-1]["reader"], "-"],
    ]
    if deep:
        rows.append(["one stack sample, 30 frames (pystack-dump)",
                     "%.1f us" % deep["cpu_us_per_sample"], "-"])
        rows.append(["reader process RSS (pystack-dump)", "%.0f KiB" % deep["rss_kib"], "-"])
    ctx.say(table(rows, ["median", "memtide --stacks", "austin -m"]))
    ctx.say()
    ctx.raw["where"] = {"runs": runs, "target_cpu_s": tcpu, "deep": deep, "python": py}
    share = med("memtide", "share")
    ctx.target("i. growth charged to the right function", "%.1f %% (austin %.1f %%)"
               % (100 * share, 100 * med("austin", "share")), ">= 95 %", share >= 0.95)
    per = med("memtide", "whole_us") / med("austin", "whole_us")
    ctx.target("i. CPU per stack sample vs austin", "%.2fx" % per, "<= 0.2x", per <= 0.2)
    extra = min(tcpu["memtide"]) / base - 1
    ctx.target("i. target CPU with --stacks", "%+.1f %%" % (100 * extra), "<= +1 %",
               extra <= 0.01)


def shutil_which(name):
    import shutil
    return shutil.which(name)
