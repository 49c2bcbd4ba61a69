"""bench/hostile.py - section h of bench/run.py: memtided under a hostile
local user (issue 15), as `nobody`.

  h1. 10 s of 3000-byte markers from a tracked process, as fast as the socket
      takes them (tests/e2e/programs/mark_flood.py): memtided's peak RSS,
      the database's growth, markers stored and dropped, samples missed.
  h2. 64 connections to the metrics port -- idle, trickling a byte every
      0.1 s, reconnecting when closed (tests/e2e/programs/http_hog.py) --
      while a scraper scrapes every 0.2 s for 8 s: scrape latency of
      memtided, side by side with prometheus-process-exporter (Go net/http)
      under the same attack.  Without the attack, for reference.

Figures only, no assertions: the e2e tests (tests/e2e/test_hostile.py)
assert the accounting.
"""
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time

PY = "/usr/bin/python3"
NOBODY = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
MIB = 2**20


def _programs(ctx):
    return os.path.join(ctx.here, "..", "tests", "e2e", "programs")


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _scrape(port, timeout=10.0):
    """Seconds a GET /metrics took, or None when it failed."""
    t0 = time.monotonic()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as c:
            c.sendall(("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n\r\n"
                       % port).encode())
            got = b""
            while True:
                b = c.recv(65536)
                if not b:
                    break
                got += b
    except OSError:
        return None
    return time.monotonic() - t0 if got.startswith(b"HTTP/1.") and b" 200 " in got[:20] else None


def _wait(pred, timeout=20.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.05)
    return False


def _cpu_s(pid):
    with open("/proc/%d/stat" % pid) as f:
        v = f.read().rsplit(")", 1)[1].split()
    return (int(v[11]) + int(v[12])) / os.sysconf("SC_CLK_TCK")


def _status_kib(pid, key):
    with open("/proc/%d/status" % pid) as f:
        return int(re.search(r"%s:\s+(\d+)" % key, f.read()).group(1))


def _scrapes_under_hogs(ctx, port, pub, hogs, seconds=8.0):
    """Latencies (s; None: failed) of scrapes every 0.2 s while nobody holds
    hogs connections (0: no attack)."""
    hog = None
    if hogs:
        ready = os.path.join(pub, "ready-%d" % port)
        hog = ctx.reaper.spawn(NOBODY + [PY, os.path.join(_programs(ctx), "http_hog.py"),
                                         str(port), str(hogs), str(seconds + 1), ready],
                               cwd="/", stdout=subprocess.DEVNULL)
        _wait(lambda: os.path.exists(ready))
        time.sleep(0.3)
    took = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        took.append(_scrape(port))
        time.sleep(0.2)
    if hog:
        ctx.reaper.kill_group(hog.pid)
    return took


def _fmt_lat(took):
    ok = sorted(t for t in took if t is not None)
    if not ok:
        return "0 of %d ok" % len(took), float("nan"), float("nan")
    return ("%d of %d ok" % (len(ok), len(took)), ok[len(ok) // 2] * 1000, ok[-1] * 1000)


def section_hostile(ctx, table):
    """table: run.py's column formatter."""
    ctx.say("== h. memtided against a hostile local user (nobody)")
    # Not under ctx.tmp (0700): nobody must reach the socket and pid files.
    work = tempfile.mkdtemp(prefix="memtide-hostile-")
    try:
        _hostile(ctx, table, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _hostile(ctx, table, work):
    sockdir, pub = os.path.join(work, "sock"), os.path.join(work, "pub")
    os.mkdir(sockdir, 0o755)
    os.mkdir(pub)
    os.chmod(work, 0o755)
    os.chmod(pub, 0o777)
    tag = "hostile-%d" % os.getpid()
    port = _free_port()
    db = os.path.join(work, "d.db")
    conf = os.path.join(work, "c.conf")
    with open(conf, "w") as f:
        f.write("[memtided]\nmarkers = %s/mark.sock\nmetrics = 127.0.0.1:%d\n"
                "[track \"t\"]\ncmdline = %s\ninterval = 50ms\n" % (sockdir, port, tag))
    victim = ctx.reaper.spawn([PY, "-c", "import time; time.sleep(600)", tag])
    d = ctx.reaper.spawn([ctx.memtided, "-c", conf, "--db", db],
                         stderr=open(os.path.join(work, "err"), "w"))
    _wait(lambda: _scrape(port, 1) is not None)
    time.sleep(1)
    size = lambda: sum(os.path.getsize(os.path.join(work, n)) for n in os.listdir(work)
                       if n.startswith("d.db"))
    rss0, size0, cpu0 = _status_kib(d.pid, "VmRSS"), size(), _cpu_s(d.pid)
    flood = ctx.reaper.spawn(NOBODY + [PY, os.path.join(_programs(ctx), "mark_flood.py"),
                                       os.path.join(sockdir, "mark.sock"), "10", "3000",
                                       os.path.join(pub, "f.pid"), tag],
                             cwd="/", stdout=subprocess.PIPE)
    sent = int(flood.communicate(timeout=60)[0] or 0)
    cpu = _cpu_s(d.pid) - cpu0
    time.sleep(2.5)
    hwm = _status_kib(d.pid, "VmHWM")
    page = subprocess.run(["curl", "-s", "http://127.0.0.1:%d/metrics" % port],
                          capture_output=True, text=True).stdout
    counter = lambda n: int((re.search(r"^%s (\d+)$" % n, page, re.M) or [0, 0])[1])
    marks = sqlite_count(db, "SELECT count(*) FROM mark")
    growth = size() - size0
    ctx.say("   h1. flood: %d markers sent, %d stored, %d dropped; memtided CPU %.2f s, RSS"
            " %.1f MiB before, peak %.1f MiB; database +%.2f MiB; samples missed %d, dropped %d"
            % (sent, marks, counter("memtide_markers_dropped_total"), cpu, rss0 / 1024,
               hwm / 1024, growth / MIB, counter("memtide_samples_missed_total"),
               counter("memtide_samples_dropped_total")))
    ctx.raw["hostile_flood"] = {"sent": sent, "stored": marks, "hwm_kib": hwm, "cpu_s": cpu,
                                "db_growth_bytes": growth}
    ctx.target("h. memtided peak RSS under a 10 s marker flood", "%.1f MiB" % (hwm / 1024),
               "< 16 MiB", hwm < 16 * 1024)
    ctx.target("h. database growth under a 10 s marker flood", "%.2f MiB" % (growth / MIB),
               "< 5 MiB", growth < 5 * MIB)

    rows = []
    lat = {}
    quiet = _scrapes_under_hogs(ctx, port, pub, 0, 3)
    hogged = _scrapes_under_hogs(ctx, port, pub, 64)
    lat["memtided"] = (quiet, hogged)
    ctx.reaper.kill_group(d.pid)
    ctx.reaper.kill_group(victim.pid)
    pe = shutil.which("prometheus-process-exporter")
    if pe:
        pport = _free_port()
        p = ctx.reaper.spawn([pe, "-web.listen-address", "127.0.0.1:%d" % pport,
                              "-procnames", "python3"],
                             stdout=subprocess.DEVNULL,
                             stderr=open(os.path.join(work, "pe.err"), "w"))
        if _wait(lambda: _scrape(pport, 5) is not None):
            lat["process-exporter"] = (_scrapes_under_hogs(ctx, pport, pub, 0, 3),
                                       _scrapes_under_hogs(ctx, pport, pub, 64))
        else:
            ctx.say("   (prometheus-process-exporter did not answer: %s)"
                    % open(os.path.join(work, "pe.err")).read()[-200:].strip())
        ctx.reaper.kill_group(p.pid)
    for who, (q, h) in lat.items():
        qn, qmed, qmax = _fmt_lat(q)
        hn, hmed, hmax = _fmt_lat(h)
        rows.append([who, qn, "%.1f ms" % qmed, hn, "%.1f ms" % hmed, "%.1f ms" % hmax])
    ctx.say("   h2. scrapes every 0.2 s, quiet and with 64 connections of nobody's held")
    ctx.say(table(rows, ["exporter", "quiet", "median", "under 64 hogs", "median", "max"]))
    ok = sorted(t for t in lat["memtided"][1] if t is not None)
    ctx.raw["hostile_scrapes_s"] = {k: v for k, v in lat.items()}
    ctx.target("h. memtided scrapes answered under 64 hostile connections",
               "%d of %d, max %.0f ms" % (len(ok), len(lat["memtided"][1]),
                                          ok[-1] * 1000 if ok else float("nan")),
               "all, within 1 s", len(ok) == len(lat["memtided"][1]) and ok and ok[-1] < 1.0)
    ctx.say()


def sqlite_count(db, sql):
    import sqlite3
    con = sqlite3.connect(db)
    try:
        return con.execute(sql).fetchone()[0]
    finally:
        con.close()
