"""Real OOM kills.  Under the test's own cgroup v1 memory group (this
machine's; see ANCHORS.md), a child group limited to 64 MiB holds a Python
(programs/oom_parent.py) whose child grows to 200 MiB and is killed by the
kernel's OOM killer, and which then grows and is killed itself.

`memtide run -C` and memtided both record each as OOM-killed (exit signal
9, oom_killed 1) with its 64 MiB limit and cgroup, mark the kills, and tell
them from a plain SIGKILL and an exit.  memtide run's chart draws the limit
line at 64 MiB and the kill; memtided's metrics count it.  Needs root (the
test makes and removes its cgroup)."""
import os
import re
import signal
import subprocess
import uuid
from pathlib import Path

import pytest

from conftest import MiB, PY, free_port, installed, prog, q, wait_for
from test_daemon import Daemon
from test_groups import page_of as scrape, value
from test_plot import near, svg_series

LIMIT = 64 * MiB
MUTED = (0x5c, 0x5c, 0x5c)


def own_memory_cgroup():
    """The path of this process's v1 memory cgroup, or None."""
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if "memory" in controllers.split(","):
            return path
    return None


@pytest.fixture
def oom_cgroup():
    """(cgroup path, its directory): a new child of the test's own memory
    cgroup limited to 64 MiB, removed at teardown."""
    own = own_memory_cgroup()
    if os.geteuid() != 0 or own is None or not Path("/sys/fs/cgroup/memory" + own).is_dir():
        pytest.skip("needs root and a cgroup v1 memory controller")
    rel = f"{own.rstrip('/')}/memtide-oom-{uuid.uuid4().hex[:8]}"
    d = Path("/sys/fs/cgroup/memory" + rel)
    d.mkdir()
    try:
        (d / "memory.limit_in_bytes").write_text(str(LIMIT))
        yield rel, d
    finally:
        for pid in (d / "cgroup.procs").read_text().split():
            try:
                os.kill(int(pid), signal.SIGKILL)
            except ProcessLookupError:
                pass
        wait_for(lambda: not (d / "cgroup.procs").read_text().strip(), timeout=10)
        d.rmdir()


def in_cgroup(d, *argv):
    """A command that moves itself into cgroup directory d, then execs argv."""
    return ["/bin/sh", "-c", f'echo $$ > "{d}/cgroup.procs" && exec "$@"', "sh", *argv]


def killed_pids(db):
    return {pid: row for pid, *row in q(
        db, "SELECT pid, exit_code, exit_signal, oom_killed, memory_limit, cgroup"
        " FROM processes WHERE oom_killed = 1")}


def test_run_records_oom_kills_with_limit_and_chart(mt, memtide, oom_cgroup, tmp_path, env):
    rel, d = oom_cgroup
    db, svg = tmp_path / "oom.db", tmp_path / "oom.svg"
    tag = f"oom-{uuid.uuid4().hex[:8]}"
    rc, out, err = mt("run", "--db", db, "-q", "-C", "-T", "0.05", "--",
                      *in_cgroup(d, PY, prog("oom_parent.py"), "1.5", tag), timeout=120)
    # The command itself was killed: memtide run says so as 128 + 9.
    assert rc == 137, err
    assert "child killed by 9" in out
    assert (d / "memory.oom_control").read_text().count("oom_kill 2") == 1
    rows = q(db, "SELECT pid, ppid, exit_code, exit_signal, oom_killed, memory_limit,"
             " cgroup, ended FROM processes ORDER BY started")
    assert len(rows) == 2, rows
    (parent, _, *p_how, p_end), (child, child_ppid, *c_how, c_end) = rows
    assert child_ppid == parent
    for how in (p_how, c_how):
        assert how == [None, 9, 1, LIMIT, rel], how
    # Each kill is one line on stderr and one marker at its end.
    for pid in (parent, child):
        assert (f"memtide: process {pid} was killed by the OOM killer "
                f"(memory limit 64.0 MiB, cgroup {rel})") in err
    marks = dict(q(db, "SELECT label, start FROM marks"))
    assert abs(marks[f"OOM kill (pid {child})"] - c_end) < 1e-6
    assert abs(marks[f"OOM kill (pid {parent})"] - p_end) < 1e-6
    assert q(db, "SELECT DISTINCT memory_limit FROM memory_limits") == [(LIMIT,)]

    # The chart: the limit is a flat line where 64 MiB is on the memory
    # axis (the total line's lowest and highest points fix the axis), and
    # the child's kill is a vertical dashed line.
    rc, _, err = mt("plot", "--db", db, "-o", svg)
    assert rc == 0, err
    text = svg.read_text()
    # (The frame shares the colour: the limit is its one long flat line.)
    flat = [s for s in svg_series(text) if near(s[0], MUTED, 3)
            and len({round(y, 1) for _, y in s[2]}) == 1
            and max(x for x, _ in s[2]) - min(x for x, _ in s[2]) > 300]
    assert len(flat) == 1, flat
    ys = {round(y, 1) for _, y in flat[0][2]}
    totals = [t for (t,) in q(db, "SELECT sum(rss) FROM samples GROUP BY tick")]
    ink = max((s for s in svg_series(text) if near(s[0], (0x1a, 0x1a, 0x1a), 3)),
              key=lambda s: len(s[2]))[2]
    y_hi, y_lo = min(y for _, y in ink), max(y for _, y in ink)
    per_byte = (y_lo - y_hi) / (max(totals) - min(totals))
    want = y_lo - (LIMIT - min(totals)) * per_byte
    assert abs(ys.pop() - want) < 2.5, (want, ys)
    dashed = re.findall(r'style="[^"]*stroke-dasharray[^"]*" d="M ([\d.]+) ([\d.]+) L ([\d.]+) ([\d.]+)', text)
    assert any(abs(float(x0) - float(x1)) < 0.01 and abs(float(y0) - float(y1)) > 100
               for x0, y0, x1, y1 in dashed), dashed


def test_memtided_counts_oom_kills_apart_from_other_endings(memtided, oom_cgroup, tmp_path,
                                                             procs, env):
    rel, d = oom_cgroup
    tag = f"oom-{uuid.uuid4().hex[:8]}"
    port = free_port()
    dm = Daemon(memtided, tmp_path, procs, env, f"""\
[memtided]
metrics = 127.0.0.1:{port}
[track "oomtest"]
python = yes
cmdline = {tag}
interval = 100ms
""").start()
    # Three endings of one group: killed by the OOM killer (twice), by a
    # plain SIGKILL, and an exit with status 5.
    oom = procs.start(in_cgroup(d, PY, prog("oom_parent.py"), "1.0", tag),
                      stdout=subprocess.PIPE)
    plain = procs.start([PY, "-c", "import time; time.sleep(600)", tag])
    five = procs.start([PY, "-c", "import sys, time; time.sleep(1); sys.exit(5)", tag])
    wait_for(lambda: value(scrape(port), 'memtide_group_processes{group="oomtest"}') is not None,
             timeout=20)
    wait_for(lambda: dm.rows("SELECT count(*) FROM processes WHERE pid = ?",
                             (plain.pid,))[0][0] == 1, timeout=20)
    plain.kill()
    assert five.wait(timeout=30) == 5
    assert oom.wait(timeout=60) == -9
    assert b"child killed by 9" in oom.stdout.read()

    def counted():
        page = scrape(port)
        return page if value(page, 'memtide_group_oom_kills_total{group="oomtest"}') == 2 \
            and value(page, 'memtide_group_exits_total{group="oomtest",how="signal"}') == 1 \
            and value(page, 'memtide_group_exits_total{group="oomtest",how="exit"}') == 1 \
            else None
    page = wait_for(counted, timeout=20)
    assert value(page, 'memtide_group_exits_total{group="oomtest",how="oom"}') == 2
    assert value(page, 'memtide_group_processes{group="oomtest"}') == 0
    # Per-process series are off by default: no pid on the page.
    assert "pid=" not in page
    p = subprocess.run([installed("promtool"), "check", "metrics"], input=page.encode(),
                       capture_output=True, timeout=60)
    assert p.returncode == 0, p.stdout + p.stderr

    wait_for(lambda: len(killed_pids(dm.db)) == 2
             and dm.rows("SELECT count(*) FROM processes WHERE exit_code = 5")[0][0] == 1,
             timeout=20)
    killed = killed_pids(dm.db)
    assert oom.pid in killed
    for pid, how in killed.items():
        assert how == [None, 9, 1, LIMIT, rel], (pid, how)
    assert dm.rows("SELECT exit_code, exit_signal, oom_killed, group_name FROM processes"
                   " WHERE pid = ?", (plain.pid,)) == [(None, 9, 0, "oomtest")]
    assert dm.rows("SELECT exit_code, exit_signal, oom_killed FROM processes WHERE pid = ?",
                   (five.pid,)) == [(5, None, 0)]
    marks = {label for (label,) in dm.rows("SELECT label FROM marks")}
    assert marks == {f"OOM kill (pid {pid})" for pid in killed}
    assert dm.stop() == 0
    log = dm.stderr()
    for pid in killed:
        assert len(re.findall(rf"process {pid} of group \"oomtest\" was killed by the OOM"
                              rf" killer \(last RSS [\d.]+ MiB, memory limit 64.0 MiB,"
                              rf" cgroup {re.escape(rel)}\)", log)) == 1, log
