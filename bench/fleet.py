"""bench/fleet.py - section g of bench/run.py: memtided against Debian's
prometheus-process-exporter on the same processes, in the same run.

1000 Python processes carry one marker on their command line: 990 that
sleep (one Python that forks the others) and a service of 10 workers that
keeps replacing them (tests/e2e/programs/recycler.py: each worker holds
16 MiB for 0.4 to 1.6 s).  memtided (a rule on the marker, sampled every
second, group = {{.Comm}}) and process-exporter (the same marker, group
name {{.Comm}}, -gather-smaps=false -threads=false: its cheapest setting)
both serve /metrics; this driver scrapes both every second for the
duration and, at each scrape, reads the truth from /proc (statm of every
marked process).  Measured: CPU seconds of each (whole run, and after both
first showed all 1000), peak RSS, series per scrape, and the error of the
summed resident memory against /proc, median and worst.

The CPU target compares CPU per scrape answered (CPU after warm-up over
the scrapes done).  process-exporter spends about half a CPU-second on a
scrape of 1000 processes; on this 2-core VM it then often cannot answer
one every second (17 to 28 of 30, from run to run), and its CPU over the
30 s falls with the scrapes it missed: the ratio of the two totals moved
from 16x to 23x with that count alone.  The ratio of totals is reported
beside it.

Reads run.py's helpers through __main__: run it through bench/run.py
(--only g).
"""
import os
import re
import socket
import statistics
import subprocess
import threading
import time
import urllib.request

import __main__ as run

PROCS = 1000
CHURN_WORKERS = 10
PAGE = os.sysconf("SC_PAGE_SIZE")


def scrape(port):
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=30) as r:
            return r.read().decode("utf-8", "replace")
    except OSError:
        return ""


def series(page):
    return sum(1 for l in page.splitlines() if l and not l.startswith("#"))


def first(page, pattern):
    m = re.search(pattern, page, re.M)
    return float(m.group(1)) if m else None


def memtided_sum(page):
    return first(page, r'^memtide_group_resident_memory_bytes\{group="python3"\} (\S+)$')


def memtided_procs(page):
    return first(page, r'^memtide_group_processes\{group="python3"\} (\S+)$')


def exporter_sum(page):
    return first(page, r'^namedprocess_namegroup_memory_bytes\{groupname="python3",'
                       r'memtype="resident"\} (\S+)$')


def exporter_procs(page):
    return first(page, r'^namedprocess_namegroup_num_procs\{groupname="python3"\} (\S+)$')


def truth(pids):
    total = 0
    for pid in pids:
        try:
            with open("/proc/%d/statm" % pid) as f:
                total += int(f.read().split()[1]) * PAGE
        except (OSError, IndexError, ValueError):
            pass
    return total


def scraper(port, total, pids, pidfile, end, out):
    """Scrapes port every second until end: (series, summed RSS, the truth
    read right after) into out.  A scrape that takes longer than a second
    makes the next one start at once, on the next second of the grid, as
    Prometheus does: a slow exporter gets fewer scrapes, not a longer run."""
    t = time.monotonic()
    while time.monotonic() < end:
        page = scrape(port)
        try:
            with open(pidfile) as f:
                workers = [int(x) for x in f.read().split()]
        except OSError:
            workers = []
        out.append((series(page), total(page), truth(pids + workers)))
        t += 1.0
        while t < time.monotonic():
            t += 1.0
        time.sleep(max(0.0, t - time.monotonic()))


def section_fleet(ctx):
    a = ctx.args
    seconds = a.fleet_seconds
    ctx.say("== g. memtided vs prometheus-process-exporter on the same %d Python processes "
            "(%d of them workers replaced all along), each scraped every 1 s for %g s"
            % (PROCS, CHURN_WORKERS, seconds))
    exporter = "/usr/bin/prometheus-process-exporter"
    if not os.access(exporter, os.X_OK):
        raise RuntimeError("%s missing: make deps" % exporter)
    marker = "memtide-fleet-%d" % os.getpid()
    pgid, pids = run.spawn_forked_pythons(ctx, PROCS - CHURN_WORKERS, marker)
    pidfile = os.path.join(ctx.tmp, "fleet-workers.pids")
    recycler = os.path.join(ctx.here, "..", "tests", "e2e", "programs", "recycler.py")
    churn = ctx.reaper.spawn([run.PY, recycler, str(seconds + 60), str(CHURN_WORKERS), marker],
                             stdout=subprocess.DEVNULL,
                             env=dict(os.environ, RECYCLER_PIDS=pidfile))
    ports = []
    for _ in range(2):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            ports.append(s.getsockname()[1])
    mport, eport = ports
    conf = os.path.join(ctx.tmp, "memtided-fleet.conf")
    db = os.path.join(ctx.tmp, "memtided-fleet.db")
    with open(conf, "w") as f:
        f.write('[memtided]\nretention = 100d\nmetrics = 127.0.0.1:%d\n'
                '[track "fleet"]\npython = yes\ncmdline = %s\ninterval = 1s\n'
                'group = "{{.Comm}}"\n' % (mport, marker))
    yml = os.path.join(ctx.tmp, "process-exporter.yml")
    with open(yml, "w") as f:
        f.write('process_names:\n  - name: "{{.Comm}}"\n    cmdline:\n    - \'%s\'\n' % marker)
    scrapes = {"memtided": [], "exporter": []}
    try:
        jobs = {
            "memtided": run.Timed(ctx, [ctx.memtided, "-c", conf, "--db", db], "fleet-memtided"),
            "exporter": run.Timed(ctx, [exporter, "-config.path", yml, "-gather-smaps=false",
                                        "-threads=false",
                                        "-web.listen-address=127.0.0.1:%d" % eport],
                                  "fleet-exporter"),
        }
        # Warm: both list the sleeping processes (the churning ones come
        # and go; process-exporter loses track of them, a finding of its
        # own that the error column shows).
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            mp, ep = memtided_procs(scrape(mport)), exporter_procs(scrape(eport))
            if mp and ep and mp >= PROCS - 2 and ep >= PROCS - CHURN_WORKERS - 2:
                break
            time.sleep(0.5)
        else:
            raise RuntimeError("the exporters did not list the %d processes: memtided %s,"
                               " process-exporter %s" % (PROCS, mp, ep))
        warm = {k: run.cpu_ticks(j.child_pid()) for k, j in jobs.items()}
        t_warm = time.monotonic()
        end = t_warm + seconds
        # One scraper thread per exporter, each on its own 1 s grid, as
        # Prometheus would: a slow scrape of one never delays the other.
        # The truth: every process with the marker, the recycler too (both
        # exporters count it: left out, it was 11 MiB over in every scrape).
        marked = pids + [churn.pid]
        threads = [threading.Thread(target=scraper, args=(port, total, marked, pidfile, end,
                                                          scrapes[k]))
                   for k, port, total in (("memtided", mport, memtided_sum),
                                          ("exporter", eport, exporter_sum))]
        for t in threads:
            t.start()
        while time.monotonic() < end:
            for j in jobs.values():
                j.poll_status()
            time.sleep(0.5)
        for t in threads:
            t.join()
        dt = time.monotonic() - t_warm
        steady = {k: (run.cpu_ticks(j.child_pid()) - warm[k]) / os.sysconf("SC_CLK_TCK")
                  for k, j in jobs.items()}
        res = {k: j.wait(timeout=0) for k, j in jobs.items()}
    finally:
        ctx.reaper.kill_group(churn.pid)
        ctx.reaper.kill_group(pgid)
    out = {}
    rows = []
    for k in ("memtided", "exporter"):
        sc = scrapes[k]
        errs = [abs(v - t) / t * 100 for _, v, t in sc if v is not None and t]
        out[k] = {"cpu_s": res[k]["cpu_s"], "steady_cpu_s": steady[k], "steady_s": dt,
                  "maxrss_kib": res[k]["maxrss_kib"],
                  "series_min": min(s for s, _, _ in sc), "series_max": max(s for s, _, _ in sc),
                  "err_median_pct": statistics.median(errs) if errs else None,
                  "err_max_pct": max(errs) if errs else None, "scrapes": len(sc),
                  "sums": [(v, t) for _, v, t in sc]}
        o = out[k]
        o["cpu_per_scrape_s"] = o["steady_cpu_s"] / len(sc)
        rows.append([k if k == "memtided" else "process-exporter",
                     "%.2f s" % o["steady_cpu_s"], "%.3f s" % o["cpu_per_scrape_s"],
                     "%.2f s" % o["cpu_s"],
                     "%.1f MiB" % (o["maxrss_kib"] / 1024),
                     "%d-%d" % (o["series_min"], o["series_max"]),
                     "%.2f %%" % o["err_median_pct"] if errs else "-",
                     "%.2f %%" % o["err_max_pct"] if errs else "-", "%d" % o["scrapes"]])
    ctx.raw["fleet"] = out
    ctx.say(run.table(rows, ["exporter", "CPU %.0f s warm" % dt, "CPU a scrape",
                             "CPU whole run", "peak RSS",
                             "series/scrape", "sum error median", "sum error worst", "scrapes"]))
    m, e = out["memtided"], out["exporter"]
    r = run.ratio(e["cpu_per_scrape_s"], m["cpu_per_scrape_s"])
    ctx.target("g. process-exporter / memtided CPU per scrape, %d processes, 1 s" % PROCS,
               "%.1fx" % r, ">= 20x", r >= 20)
    ctx.target("g. the same, CPU over the %.0f s whatever the scrapes done (report)" % dt,
               "%.1fx" % run.ratio(e["steady_cpu_s"], m["steady_cpu_s"]), "(report)", None)
    ctx.target("g. process-exporter scrapes done of %.0f (a slow one delays the next)" % dt,
               "%d" % e["scrapes"], "(report)", None)
    ctx.target("g. memtided series vs process-exporter's, same grouping",
               "%d vs %d" % (m["series_max"], e["series_max"]), "<=",
               m["series_max"] <= e["series_max"])
    ctx.target("g. memtided series flat under churn", "%d-%d" % (m["series_min"], m["series_max"]),
               "one value", m["series_min"] == m["series_max"])
    ctx.target("g. memtided summed RSS vs /proc under churn, worst scrape",
               "%.2f %%" % m["err_max_pct"], "<= 2 %", m["err_max_pct"] <= 2)
    ctx.target("g. process-exporter summed RSS vs /proc, worst scrape (report)",
               "%.2f %%" % e["err_max_pct"], "(report)", None)
    ctx.say()
