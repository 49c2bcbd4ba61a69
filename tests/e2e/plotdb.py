"""Databases for the memtide-plot tests, written with plain SQL inserts on the
schema of lib/schema.c (v1 and v2, read from the C source so the tests never
carry their own copy): runs with several processes, PSS, CPU and threads,
markers, and memtided history (runs of kind 'daemon', ticks of 10 ms, each
process sampled at its own interval) with per-minute rollups."""
import math
import re
import sqlite3
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCHEMA_C = HERE / ".." / ".." / "lib" / "schema.c"
MiB = 1 << 20
# 2026-11-20T08:00:00Z
T0 = 1795161600.0


def schema_sql(version):
    """The SQL of schema version 1 or 2 (v2 is a migration on top of v1)."""
    src = SCHEMA_C.read_text()
    out = ""
    for v in range(1, version + 1):
        body = src[src.index("static const char v%d[]" % v):]
        body = body[:body.index(";\n")]
        out += "".join(s.encode().decode("unicode_escape")
                       for s in re.findall(r'"((?:[^"\\]|\\.)*)"', body))
    return out


def new_db(path):
    con = sqlite3.connect(path)
    con.executescript(schema_sql(2))
    con.execute("PRAGMA user_version = 2")
    return con


def add_run(con, command, interval, started=T0, kind="run", page=4096,
            label=None, kernel_peak=None):
    cur = con.execute(
        "INSERT INTO run(kind, command, label, started, interval, page_size,"
        " kernel_peak_rss) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (kind, command, label, started, interval, page, kernel_peak))
    return cur.lastrowid


def add_proc(con, run, pid, cmdline, started=None, ended=None, name=None,
             interval=None, first_tick=0, start_ticks=None):
    cur = con.execute(
        "INSERT INTO proc(run, pid, ppid, start_ticks, started, ended,"
        " first_tick, cmdline, exe, name, interval)"
        " VALUES (?, ?, 1, ?, ?, ?, ?, ?, '/usr/bin/python3', ?, ?)",
        (run, pid, start_ticks if start_ticks is not None else pid * 7 + run,
         started, ended, first_tick, cmdline, name, interval))
    return cur.lastrowid


def add_samples(con, proc, rows):
    """rows: (tick, rss bytes, cpu percent, threads); rss stored in pages."""
    con.executemany(
        "INSERT INTO sample(proc, tick, rss, cpu, threads) VALUES (?, ?, ?, ?, ?)",
        ((proc, t, int(rss) // 4096, int(round(cpu * 10)), thr)
         for t, rss, cpu, thr in rows))


def add_mem(con, proc, rows):
    """rows: (tick, pss bytes, uss bytes, swap bytes); stored in KiB."""
    con.executemany(
        "INSERT INTO sample_mem(proc, tick, pss, uss, swap) VALUES (?, ?, ?, ?, ?)",
        ((proc, t, int(p) // 1024, int(u) // 1024, int(s) // 1024)
         for t, p, u, s in rows))


def add_mark(con, run, label, start, end=None, level=0):
    con.execute("INSERT INTO mark(run, label, start, end, level)"
                " VALUES (?, ?, ?, ?, ?)", (run, label, start, end, level))


def add_rollup(con, proc, minute, rss_min, rss_max, rss_mean, cpu=5.0,
               threads=4, n=60):
    con.execute(
        "INSERT INTO rollup(proc, minute, n, rss_min, rss_max, rss_mean,"
        " cpu_mean, cpu_max, threads_max) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (proc, minute, n, int(rss_min) // 4096, int(rss_max) // 4096,
         int(rss_mean) // 4096, int(cpu * 10), int(cpu * 20), threads))


def finish_run(con, run):
    """Sets the run's sample count, last tick and peaks from its rows."""
    last, n = con.execute(
        "SELECT max(tick), count(*) FROM sample s JOIN proc p ON p.id = s.proc"
        " WHERE p.run = ?", (run,)).fetchone()
    peak = con.execute(
        "SELECT max(tot) FROM (SELECT sum(rss) AS tot FROM sample s JOIN proc p"
        " ON p.id = s.proc WHERE p.run = ? GROUP BY tick)", (run,)).fetchone()[0]
    con.execute("UPDATE run SET last_tick = ?, samples = ?, peak_rss = ?"
                " WHERE id = ?", (last, n, peak, run))
    con.execute("UPDATE proc SET last_tick = (SELECT max(tick) FROM sample"
                " WHERE proc = proc.id), peak_rss = (SELECT max(rss) FROM"
                " sample WHERE proc = proc.id) WHERE run = ?", (run,))


def workers_run(path, nworkers=3, ticks=3000, interval=0.01, marks=True,
                pss=True):
    """A main process and nworkers workers over ticks: memory rising at
    known rates, CPU and threads known, PSS every tenth tick; markers: a
    moment, and nested function spans.  Returns the run id."""
    con = new_db(path)
    run = add_run(con, "/usr/bin/python3 train.py --workers %d" % nworkers,
                  interval, label="train")
    main = add_proc(con, run, 100, "/usr/bin/python3 /srv/train.py")
    add_samples(con, main, ((t, (40 + 20 * t / ticks) * MiB, 20.0, 3)
                            for t in range(ticks)))
    if pss:
        add_mem(con, main, ((t, (30 + 20 * t / ticks) * MiB, 25 * MiB, 0)
                            for t in range(0, ticks, 10)))
    for w in range(nworkers):
        first = 200 + 100 * w
        proc = add_proc(con, run, 101 + w,
                        "/usr/bin/python3 /srv/train.py --worker %d" % w,
                        first_tick=first)
        add_samples(con, proc, ((t, (20 + 10 * w) * MiB, 50.0 + 10 * w, 2)
                                for t in range(first, ticks - 100 * w)))
        if pss:
            add_mem(con, proc, ((t, (10 + 5 * w) * MiB, 8 * MiB, 1 * MiB)
                                for t in range(first, ticks - 100 * w, 10)))
    if marks:
        dur = ticks * interval
        add_mark(con, run, "checkpoint saved", T0 + 0.5 * dur)
        add_mark(con, run, "load_data", T0 + 0.05 * dur, T0 + 0.3 * dur, 0)
        add_mark(con, run, "parse_rows", T0 + 0.08 * dur, T0 + 0.2 * dur, 1)
        add_mark(con, run, "train_epoch", T0 + 0.35 * dur, T0 + 0.9 * dur, 0)
        add_mark(con, run, "forward", T0 + 0.4 * dur, T0 + 0.6 * dur, 1)
        add_mark(con, run, "backward", T0 + 0.62 * dur, T0 + 0.85 * dur, 1)
        add_mark(con, run, "matmul", T0 + 0.45 * dur, T0 + 0.5 * dur, 2)
    finish_run(con, run)
    con.commit()
    con.close()
    return run


def daemon_history(path, hours=3.0, raw_hours=1.0, procs=None, start=T0):
    """memtided history: one daemon run (ticks of 10 ms) from start, hours
    long; each process sampled every 1 s (its own phase), RSS rising
    rate_mib_h from base_mib; raw samples only for the last raw_hours, the
    minutes before as rollups (min/max/mean).  procs: (pid, name, cmdline,
    base MiB, MiB/h).  Returns the run id."""
    procs = procs or [
        (4242, "celery worker (venv shop)", "/srv/shop/venv/bin/python3 -m celery worker",
         200, 30),
        (4243, "gunicorn app:wsgi (venv shop)", "/srv/shop/venv/bin/python3 gunicorn app:wsgi",
         120, 0),
        (5000, "python3 cron.py", "/usr/bin/python3 /srv/cron.py", 50, 5),
    ]
    con = new_db(path)
    end = start + hours * 3600
    run = add_run(con, "memtided", 0.01, started=start, kind="daemon")
    raw_from = end - raw_hours * 3600
    for k, (pid, name, cmd, base, rate) in enumerate(procs):
        proc = add_proc(con, run, pid, cmd, started=start, ended=end, name=name,
                        interval=1.0)

        def rss(t):
            return (base + rate * (t - start) / 3600
                    + 8 * math.sin((t - start) / 300 + k)) * MiB
        # Rollups for the minutes before the raw samples.
        m = int(start // 60)
        while (m + 1) * 60 <= raw_from:
            vals = [rss(m * 60 + s) for s in range(0, 60, 10)]
            add_rollup(con, proc, m, min(vals), max(vals), sum(vals) / len(vals),
                       cpu=3.0 + k)
            m += 1
        phase = 17 * (k + 1)  # ticks: each process on its own beat
        t_first = int(math.ceil((raw_from - start) / 0.01 / 100)) * 100
        rows = []
        for tick in range(t_first + phase, int(hours * 360000), 100):
            t = start + tick * 0.01
            rows.append((tick, rss(t), 3.0 + k, 4 + k))
        add_samples(con, proc, rows)
    add_mark(con, run, "deploy v2.3", end - 0.5 * 3600)
    finish_run(con, run)
    con.execute("UPDATE run SET ended = ? WHERE id = ?", (end, run))
    con.commit()
    con.close()
    return run
