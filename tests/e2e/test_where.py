"""memtide run/attach --stacks and memtide where: growth charged to the
Python lines and functions that made it, read from outside the process.

Each program (programs/where_*.py) allocates known amounts in known
functions between stretches of CPU-only work and prints where (file, line,
bytes).  The assertions compare what memtide charged to those lines with
what the program allocated.  Every CPython found is tried: Debian's
/usr/bin/python3 always, and each ~/.pyenv/versions/3.X (3.8 to 3.13);
a missing one is skipped with its reason."""
import csv
import glob
import io
import json
import os
import re
import signal
import time

import pytest

from conftest import PY, prog, q, q1, wait_for

MiB = 1 << 20
# The row of changes the stack sampler was too late to place (a busy
# machine held it back): file "", line 0.
NOT_SAMPLED = "(not sampled)"


def pythons():
    out = [pytest.param(PY, id="debian")]
    for minor in range(8, 14):
        found = sorted(glob.glob(os.path.expanduser(
            f"~/.pyenv/versions/3.{minor}.*/bin/python3.{minor}")))
        if found:
            out.append(pytest.param(found[-1], id=f"3.{minor}"))
        else:
            out.append(pytest.param(None, id=f"3.{minor}", marks=pytest.mark.skip(
                reason=f"CPython 3.{minor} is not installed under ~/.pyenv/versions")))
    return out


def where_rows(mt, db, *args):
    """memtide where --csv's rows as dicts (ints where numbers)."""
    rc, out, err = mt("where", "--db", db, "--csv", "--top", 0, *args)
    assert rc == 0, err
    assert out.splitlines()[0] == "function,file,line,grown_bytes,released_bytes"
    rows = list(csv.DictReader(io.StringIO(out)))
    for r in rows:
        r["grown_bytes"] = int(r["grown_bytes"])
        r["released_bytes"] = int(r["released_bytes"])
    return rows


def charged(rows, function, file, line=None, what="grown_bytes"):
    return sum(r[what] for r in rows if r["function"] == function and r["file"] == file
               and (line is None or r["line"] == str(line)))


def elsewhere(rows, got, what="grown_bytes"):
    """Where the rest went: every row off grow_a's and grow_b's lines that
    grew (or released) more than 64 KiB, largest first."""
    mine = {(got[n]["file"], str(got[n]["line"])) for n in ("grow_a", "grow_b")}
    return sorted(((r[what], r["function"], r["file"], r["line"]) for r in rows
                   if (r["file"], r["line"]) not in mine and r[what] > 64 << 10),
                  reverse=True)


def assert_allocations_charged(rows, got):
    """At least 90 % of what grow_a and grow_b allocated is charged to their
    lines, and most of each to its own (a busy machine, or a sanitizer
    build, can delay a stack sample past the start or end of a call: that
    share goes next door).  A sampler held back longer than 10 ms (two
    steps of its grid when longer) cannot tell which code ran: that share is "(not sampled)" and
    counts with the lines' (it can be most of it on a starved machine), but
    the program's other lines get less than 10 %: a late sample never hands
    an allocation to the code around it."""
    total = charged_total = 0
    unsampled = charged(rows, NOT_SAMPLED, "")
    for name in ("grow_a", "grow_b"):
        w = got[name]
        mine = charged(rows, name, w["file"], w["line"])
        assert mine + unsampled >= 0.6 * w["bytes"], \
            (name, mine / w["bytes"], elsewhere(rows, got))
        total += w["bytes"]
        charged_total += mine
    assert charged_total + unsampled >= 0.9 * total, \
        (charged_total / total, unsampled / total, elsewhere(rows, got))
    file = got["grow_a"]["file"]
    others = sum(r["grown_bytes"] for r in rows if r["file"] == file) - charged_total
    assert others < 0.1 * total, (others / total, elsewhere(rows, got))


def record(mt, db, py, *args, interval=0.1, children=False):
    extra = ["-C"] if children else []
    rc, out, err = mt("run", "--stacks", "-q", "-T", interval, *extra, "--db", db,
                      py, *args)
    assert rc == 0, err
    assert "cannot read" not in err, err
    return json.loads(out.strip().splitlines()[-1]), err


@pytest.mark.parametrize("interval", [0.01, 0.1])
@pytest.mark.parametrize("py", pythons())
def test_growth_charged_to_the_right_lines(mt, db, py, interval):
    got, _ = record(mt, db, py, prog("where_grow.py"), interval=interval)
    rows = where_rows(mt, db)
    assert_allocations_charged(rows, got)
    # The CPU-only function grew (almost) nothing.
    allocated = got["grow_a"]["bytes"] + got["grow_b"]["bytes"]
    assert charged(rows, "cpu", got["grow_a"]["file"]) < 0.1 * allocated, elsewhere(rows, got)
    # Release is kept apart from growth.  Freeing (munmap) takes a
    # millisecond or two, often less than the 2 ms stack grid: when no
    # sample lands in release() its change goes to the code on either side
    # of it, in the same file (or, when the sampler was held back, to
    # "(not sampled)").  So: all of it released, in this program, and none
    # of it counted as growth.
    rel = got["release"]
    assert sum(r["released_bytes"] for r in rows if r["file"] == rel["file"]) + \
        charged(rows, NOT_SAMPLED, "", what="released_bytes") >= 0.9 * rel["bytes"], \
        elsewhere(rows, got, "released_bytes")
    assert charged(rows, "release", rel["file"]) < 64 << 10  # a page or two of noise
    # The stack at the peak is recorded, innermost first, ending in <module>.
    frames = q(db, "SELECT function FROM peak_stacks ORDER BY level")
    assert frames and frames[-1][0] == "<module>", frames
    assert q1(db, "SELECT stacks FROM processes").startswith("CPython 3."), \
        q(db, "SELECT stacks FROM processes")


def test_where_views_and_formats(mt, db):
    got, err = record(mt, db, PY, prog("where_grow.py"), interval=0.05)
    a, b = got["grow_a"], got["grow_b"]
    # --functions: one row per function, line empty.
    rows = where_rows(mt, db, "--functions")
    row = next(r for r in rows if r["function"] == "grow_b")
    assert row["line"] == "" and row["file"] == b["file"]
    unsampled = charged(rows, NOT_SAMPLED, "")
    assert row["grown_bytes"] + unsampled >= 0.9 * b["bytes"]
    # --inclusive: main() is on the stack of both allocations.
    rows = where_rows(mt, db, "--functions", "--inclusive")
    main = charged(rows, "main", a["file"])
    assert main + unsampled >= 0.9 * (a["bytes"] + b["bytes"]), rows[:5]
    self_main = charged(where_rows(mt, db, "--functions"), "main", a["file"])
    assert self_main < 0.1 * main
    # The SQL views agree with where.
    by_line = q1(db, "SELECT grown FROM growth_by_line WHERE function = 'grow_a'"
                     " AND line = ? AND run = 1", (a["line"],))
    assert by_line == charged(where_rows(mt, db), "grow_a", a["file"], a["line"])
    incl = q1(db, "SELECT grown FROM growth_by_function_inclusive"
                  " WHERE function = 'main' AND file = ? AND run = 1", (a["file"],))
    assert incl == main
    # --top limits the rows, largest first.
    rows = where_rows(mt, db, "--top", 2)
    assert len(rows) == 2 and rows[0]["function"] == "grow_b", rows
    # The table names the lines and shows the stack at the peak.
    rc, out, err = mt("where", "--db", db)
    assert rc == 0, err
    assert f"{b['file']}:{b['line']}" in out
    assert "Stack at the peak" in out and "<module>" in out.split("Stack at the peak")[1]
    # JSON: the same rows and the peak.
    rc, out, err = mt("where", "--db", db, "--json", "--top", 0)
    assert rc == 0, err
    doc = json.loads(out)
    assert doc["grown_bytes"] >= a["bytes"] + b["bytes"]
    assert any(r["function"] == "grow_a" and r["line"] == a["line"] for r in doc["rows"])
    assert doc["peak"]["stack"][-1]["function"] == "<module>"
    # --since after the run: nothing selected, said in one line, exit 1.
    rc, out, err = mt("where", "--db", db, "--since", f"@{time.time() + 60:.0f}")
    assert rc == 1 and err.count("\n") == 1 and "in what was selected" in err, err
    # --until before the first allocation keeps none of it.
    t0 = q1(db, "SELECT started FROM runs WHERE run = 1")
    rows = where_rows(mt, db, "--until", f"@{t0 + 0.02:.3f}")
    assert charged(rows, "grow_a", a["file"]) == 0
    rc, out, err = mt("where", "--db", db, "--since", "yesterday-ish")
    assert rc == 2 and "bad --since 'yesterday-ish'" in err, err



def test_sampler_reports_its_cost(mt, db):
    rc, out, err = mt("run", "--stacks", "-T", 0.1, "--db", db, PY, prog("where_grow.py"), 1)
    assert rc == 0
    line = next(l for l in err.splitlines() if l.startswith("memtide: stacks: "))
    # 2 ms, or longer when the reads would cost more than 10 % of a core.
    assert re.search(r"stacks: \d+ samples every \d+ ms, [\d.]+ us CPU each", line), line
    assert "% of a core" in line and "frames" in line, line


def test_python_m_module(mt, db, env):
    rc, out, err = mt("run", "--stacks", "-q", "-T", 0.1, "--db", db, PY, "-m", "where_grow",
                      env={**env, "PYTHONPATH": prog("")})
    assert rc == 0, err
    got = json.loads(out.strip().splitlines()[-1])
    assert_allocations_charged(where_rows(mt, db), got)


@pytest.mark.parametrize("py", pythons())
def test_threads_charged_to_the_thread_holding_the_gil(mt, db, py):
    got, _ = record(mt, db, py, prog("where_threads.py"), 6)
    rows = where_rows(mt, db)
    share = charged(rows, "grow_in_thread", got["file"], got["line"]) / got["bytes"]
    unsampled = charged(rows, NOT_SAMPLED, "") / got["bytes"]
    assert share + unsampled >= 0.9, (share, unsampled, rows[:5])
    assert charged(rows, "spin", got["file"]) < 0.1 * got["bytes"]


@pytest.mark.parametrize("py", pythons())
def test_a_command_that_execs_python_late_is_read_from_its_start(mt, db, py):
    """The command is a shell at tick 0 and execs python 10 ms later; its
    first line allocates 8 MiB, done before tick 1 (0.1 s).  memtide looks
    for the interpreter every 5 ms between ticks while the command is
    young, so that growth is charged to its line, not lost (it was, in 4
    runs of 6 with Debian's python and 3.13, before)."""
    got, _ = record(mt, db, "/bin/sh", "-c", f"sleep 0.01; exec {py} {prog('where_early.py')}")
    rows = where_rows(mt, db)
    share = charged(rows, "<module>", got["file"], got["line"]) / got["bytes"]
    assert share >= 0.75, (share, rows[:5])


def test_multiprocessing_child_under_C(mt, db):
    got, _ = record(mt, db, PY, prog("where_mp.py"), children=True)
    stacks = dict(q(db, "SELECT pid, stacks FROM processes"))
    assert stacks[got["pid"]].startswith("CPython 3."), stacks
    assert len(stacks) == 2, stacks
    rows = where_rows(mt, db, "--pid", got["pid"])
    share = charged(rows, "child_grow", got["file"], got["line"]) / got["bytes"]
    unsampled = charged(rows, NOT_SAMPLED, "") / got["bytes"]
    assert share + unsampled >= 0.9, (share, unsampled, rows[:5])
    # The parent only waited: none of the child's growth is its own.
    parent_rows = where_rows(mt, db, "--pid", next(p for p in stacks if p != got["pid"]))
    assert charged(parent_rows, "child_grow", got["file"]) == 0


def test_attach_with_stacks(mt, db, procs):
    target = procs.start([PY, prog("where_grow.py"), 4, 0.5],
                         stdout=__import__("subprocess").PIPE)
    rc, out, err = mt("attach", target.pid, "--stacks", "-q", "-T", 0.1, "--db", db)
    assert rc == 0, err
    assert "cannot read" not in err, err
    got = json.loads(target.stdout.read().decode().strip())
    target.wait(timeout=10)
    assert_allocations_charged(where_rows(mt, db), got)


def test_non_python_target(mt, db):
    rc, out, err = mt("run", "--stacks", "-T", 0.05, "--db", db, "/bin/sleep", 0.3)
    assert rc == 0, err
    lines = [l for l in err.splitlines() if "stacks" in l and "samples every" not in l]
    assert len(lines) == 1 and "is not a Python interpreter" in lines[0], err
    assert q1(db, "SELECT samples FROM runs") > 0
    assert "not a Python interpreter" in q1(db, "SELECT stacks FROM processes")
    rc, out, err = mt("where", "--db", db)
    assert rc == 1 and "has no stacks: not a Python interpreter" in err, err
    assert err.count("\n") == 1


def test_unreadable_interpreter(mt, db):
    old = sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.7.*/bin/python3.7")) +
                 glob.glob(os.path.expanduser("~/.pyenv/versions/3.6.*/bin/python3.6")))
    if not old:
        pytest.skip("no CPython older than 3.8 under ~/.pyenv/versions to be unreadable")
    rc, out, err = mt("run", "--stacks", "-q", "-T", 0.05, "--db", db, old[-1], "-c",
                      "import time; time.sleep(0.8)")
    assert rc == 0, err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("memtide: cannot read the Python stacks of process ")
    assert "3.8 to 3.13" in lines[0] and lines[0].endswith("recording it without stacks")
    # Recorded on without stacks; proc.stacks says why.
    assert q1(db, "SELECT samples FROM runs") > 0
    assert "3.8 to 3.13" in q1(db, "SELECT stacks FROM processes")


def test_target_exiting_during_reads(mt, db):
    # Exits with a status while allocating, between two stack samples or
    # during one: memtide ends cleanly with the command's status and keeps
    # what was charged.
    code = ("import os, time\nkeep = []\n"
            "def grow():\n    keep.append(bytearray(1 << 20))\n"
            "end = time.time() + 0.4\n"
            "while time.time() < end:\n    grow()\n    if len(keep) > 100: keep.clear()\n"
            "os._exit(7)\n")
    for _ in range(3):
        rc, out, err = mt("run", "--stacks", "-q", "-T", 0.01, "--db", db, PY, "-c", code)
        assert rc == 7, err
        assert err == "", err
    assert q1(db, "SELECT count(*) FROM runs WHERE ended IS NOT NULL") == 3
    assert q1(db, "SELECT count(DISTINCT proc) FROM charge") == 3


def test_target_is_never_stopped(mt, db, env):
    # Its own CPU time, doing a fixed amount of work, with --stacks is close
    # to a run without (loosely, and the least of two runs each: the machine
    # is shared).
    cpu = {False: [], True: []}
    for _ in range(2):
        for stacks in (False, True):
            args = ["run", "-q", "-T", 0.01, "--db", db]
            if stacks:
                args.insert(1, "--stacks")
            rc, out, err = mt(*args, PY, prog("where_grow.py"), 4,
                              env={**env, "WHERE_FIXED": "1"})
            assert rc == 0, err
            cpu[stacks].append(json.loads(out.strip().splitlines()[-1])["cpu_sec"])
    assert min(cpu[True]) <= 1.5 * min(cpu[False]) + 0.05, cpu


def test_memtided_rule_with_stacks(memtided, tmp_path, procs, env, mt):
    from test_daemon import Daemon
    import subprocess
    import uuid
    tag = "where-" + uuid.uuid4().hex[:8]
    d = Daemon(memtided, tmp_path, procs, env, f"""\
[track "w"]
cmdline = {tag}
interval = 100ms
stacks = yes
""").start()
    target = procs.start([PY, prog("where_grow.py"), 4, 0.3, tag], stdout=subprocess.PIPE)
    got = json.loads(target.stdout.read().decode().strip())
    assert target.wait(timeout=10) == 0
    time.sleep(0.3)
    assert d.stop() == 0
    assert "cannot read" not in d.stderr(), d.stderr()
    assert d.rows("SELECT stacks FROM processes WHERE pid = ?",
                  (target.pid,))[0][0].startswith("CPython 3.")
    assert_allocations_charged(where_rows(mt, d.db, "--pid", target.pid), got)
    # One row a second and stack (100 base ticks of 10 ms), not one a tick.
    assert d.rows("SELECT count(*) FROM charges WHERE pid = ? AND tick % 100 != 0",
                  (target.pid,))[0][0] == 0
    assert d.rows("SELECT count(*) FROM charges WHERE pid = ?", (target.pid,))[0][0] > 0


def flame_colour(name):
    """The fill memtide's flame graph gives a function (plot/flamegraph.c)."""
    h = 2166136261
    for ch in name.encode():
        h = ((h ^ ch) * 16777619) & 0xffffffff
    rgb = (0.86 + (h % 14) / 100, 0.35 + ((h >> 8) % 40) / 100,
           0.10 + ((h >> 16) % 15) / 100)
    return tuple(round(min(v, 1.0) * 255) for v in rgb)


def test_flamegraph_and_collapsed_stacks(mt, db, tmp_path):
    from test_plot import png_read, near
    got, _ = record(mt, db, PY, prog("where_grow.py"), interval=0.05)
    a, b = got["grow_a"], got["grow_b"]
    total = json.loads(mt("where", "--db", db, "--json")[1])["grown_bytes"]
    # Collapsed stacks: "outer;...;inner BYTES", the bytes adding up to all
    # the growth charged, grow_b's stack under main under <module>.
    rc, out, err = mt("export", "--db", db, "--format", "collapsed")
    assert rc == 0, err
    weights = {}
    for line in out.splitlines():
        stack, n = line.rsplit(" ", 1)
        weights[stack] = int(n)
    assert sum(weights.values()) == total
    want = (f"<module> ({a['file']}:"), f"main ({a['file']}:", f"grow_b ({b['file']}:{b['line']})"
    mine = [s for s in weights if s.endswith(want[2])]
    assert mine and all(s.split(";")[0].startswith(want[0]) and
                        s.split(";")[1].startswith(want[1]) for s in mine), mine
    assert sum(weights[s] for s in mine) + weights.get(f"{NOT_SAMPLED} (:0)", 0) >= 0.9 * b["bytes"]
    # The flame graph: grow_b's box twice as wide as grow_a's (4 vs 2 MiB a
    # round), on the row of the third frame; the bottom row spans it all.
    out_png = tmp_path / "flame.png"
    rc, _, err = mt("where", "--db", db, "--flamegraph", out_png)
    assert rc == 0, err
    w, h, rows = png_read(out_png)
    depth = q1(db, "SELECT max(s.depth) FROM charge c JOIN stack s ON s.id = c.stack"
                   " WHERE c.grown > 0")
    assert w == 1200 and h == 36 + (depth + 2) * 18, (w, h, depth)
    bottom = rows[h - 9]
    assert sum(px != (255, 255, 255) for px in bottom) >= 0.99 * w
    row = rows[h - 4 * 18 + 9]
    ca, cb = flame_colour("grow_a"), flame_colour("grow_b")
    assert not near(ca, cb, 6), (ca, cb)
    wa = sum(near(px, ca, 3) for px in row)
    wb = sum(near(px, cb, 3) for px in row)
    assert wa > 100 and 1.6 <= wb / wa <= 2.5, (wa, wb)
    out_svg = tmp_path / "flame.svg"
    rc, _, err = mt("where", "--db", db, "--flamegraph", out_svg)
    assert rc == 0, err
    assert out_svg.read_text().lstrip().startswith("<?xml") and 'width="1200' in out_svg.read_text()
    rc, _, err = mt("where", "--db", db, "--flamegraph", tmp_path / "flame.txt")
    assert rc == 2 and "give a .svg or .png file" in err and err.count("\n") == 1, err


def test_plot_stacks_band(mt, db, tmp_path, env):
    from test_plot import png_read, near
    record(mt, db, PY, prog("where_grow.py"), interval=0.02)
    band = (166, 206, 228)  # the flame panel's level-0 fill

    def widest_band_row(path):
        w, h, rows = png_read(path)
        return max(sum(near(px, band, 8) for px in row) for row in rows[h // 2:]) / w

    with_stacks, without = tmp_path / "with.png", tmp_path / "without.png"
    rc, _, err = mt("plot", "--db", db, "--stacks", "-o", with_stacks)
    assert rc == 0, err
    rc, _, err = mt("plot", "--db", db, "-o", without)
    assert rc == 0, err
    # main() runs from the first stack sample to the end: its band spans
    # most of the time axis; without --stacks there is no band.
    assert widest_band_row(with_stacks) >= 0.8
    assert widest_band_row(without) < 0.05


def test_worked_queries_of_memtide_sql(mt, db):
    from test_query import man_queries, query_json
    got, _ = record(mt, db, PY, prog("where_grow.py"), interval=0.05)
    rows = query_json(mt, db, man_queries()["Which lines grew the memory"])
    # What a starved sampler could not place is "(not sampled)" (its own
    # row, wherever its size puts it), never another line.
    unsampled = sum(r["grown_mib"] for r in rows if r["function"] == "(not sampled)")
    lines = [r for r in rows if r["function"] != "(not sampled)"]
    assert [r["function"] for r in lines[:2]] == ["grow_b", "grow_a"], rows[:3]
    assert lines[0]["line"] == got["grow_b"]["line"]
    assert lines[0]["grown_mib"] + unsampled >= 0.75 * got["grow_b"]["bytes"] / MiB
    rows = query_json(mt, db, man_queries()["The stack at the peak"])
    assert rows[0]["function"] == "<module>" and rows[0]["level"] == len(rows) - 1


def test_rm_deletes_the_charges_of_a_run(mt, db):
    record(mt, db, PY, prog("where_grow.py"), 1, interval=0.05)
    record(mt, db, PY, prog("where_grow.py"), 1, interval=0.05)
    first = q1(db, "SELECT count(*) FROM charges WHERE run = 1")
    assert first > 0
    rc, _, err = mt("rm", "--db", db, 1)
    assert rc == 0, err
    assert q1(db, "SELECT count(*) FROM charge c WHERE NOT EXISTS"
                  " (SELECT 1 FROM proc p WHERE p.id = c.proc)") == 0
    assert q1(db, "SELECT count(*) FROM charges WHERE run = 2") > 0


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to attach as another user")
def test_attach_without_ptrace_access_says_what_to_do(procs, memtide, tmp_path, env):
    import shutil
    import subprocess
    if not shutil.which("setpriv"):
        pytest.skip("setpriv (util-linux) is not installed")
    target = procs.start([PY, "-c", "import time; time.sleep(5)"])
    time.sleep(0.3)
    import tempfile
    from pathlib import Path
    pub = Path(tempfile.mkdtemp(prefix="memtide-test-"))
    pub.chmod(0o777)
    db = pub / "p.db"
    p = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                        str(memtide), "attach", str(target.pid), "--stacks", "-q", "-t", "0.5",
                        "-T", "0.1", "--db", str(db)],
                       env=env, capture_output=True, timeout=30)
    err = p.stderr.decode()
    assert p.returncode == 0, err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"memtide: cannot read the Python stacks of process {target.pid}")
    assert "ptrace" in lines[0] and "CAP_SYS_PTRACE" in lines[0], lines[0]
    assert lines[0].endswith("recording it without stacks")
    assert q1(db, "SELECT samples FROM runs") > 0
    assert "ptrace" in q1(db, "SELECT stacks FROM processes")
    shutil.rmtree(pub, ignore_errors=True)


def test_bare_script_through_a_wrapper_that_execs_python(mt, db, tmp_path, env):
    # memtide run script.py runs "python3" from PATH: here a shell wrapper
    # (as a pyenv shim is) that execs python 0.3 s later.  Its stacks are
    # read from the exec on, not from the next once-a-second re-read.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "python3"
    shim.write_text(f"#!/bin/sh\nsleep 0.3\nexec {PY} \"$@\"\n")
    shim.chmod(0o755)
    rc, out, err = mt("run", "--stacks", "-q", "-T", 0.1, "--db", db, prog("where_grow.py"),
                      env={**env, "PATH": f"{bin_dir}:{env['PATH']}"})
    assert rc == 0, err
    assert err == "", err
    got = json.loads(out.strip().splitlines()[-1])
    assert_allocations_charged(where_rows(mt, db), got)
    assert q1(db, "SELECT stacks FROM processes").startswith("CPython 3.")


def test_where_usage_errors(mt, db):
    record(mt, db, PY, prog("where_grow.py"), 1, interval=0.05)
    for args, what in ((["--bogus"], "unknown option '--bogus'"),
                       (["--top", "x"], "bad --top 'x'"),
                       (["--pid", "0"], "bad --pid '0'"),
                       (["1", "2"], "unexpected argument '2'")):
        rc, out, err = mt("where", "--db", db, *args)
        assert rc == 2 and out == "", (args, rc, out)
        lines = err.splitlines()
        assert len(lines) == 2 and what in lines[0], (args, err)
        assert lines[1] == "Try 'memtide where --help'."
    rc, out, err = mt("where", "--db", db, "9")
    assert rc == 1 and err.count("\n") == 1 and "no run 9" in err, err


def test_where_relative_runs(mt, db):
    record(mt, db, PY, prog("where_grow.py"), 1, interval=0.05)
    rc, _, err = mt("run", "-q", "--db", db, "/bin/true")
    assert rc == 0, err
    # -1 is the last run (no stacks: said so), -2 the one before, as mprof counts.
    rc, out, err = mt("where", "--db", db, "-1")
    assert rc == 1 and "run 2" in err, err
    rc, out, err = mt("where", "--db", db, "-2", "--csv")
    assert rc == 0, err
    assert out == mt("where", "--db", db, "1", "--csv")[1]
    assert "grow_b" in out
