"""Markers reach memtided too: a service started with $MEMTIDE_MARK_SOCKET
naming memtided's `markers =` socket marks its spans with the Python module,
and they land in the daemon's run, in the marks view, with their nesting.
Markers from processes memtided does not track are ignored."""
import os
import stat
import time
import uuid
from pathlib import Path

from conftest import PY, prog, wait_for
from test_daemon import Daemon, pidfile_of

PYTHON_DIR = str(Path(__file__).resolve().parents[2] / "python")


def test_markers_of_tracked_processes_land_in_the_daemon_run(memtided, tmp_path, procs, env):
    tag = uuid.uuid4().hex[:8]
    sock = tmp_path / "mark.sock"
    d = Daemon(memtided, tmp_path, procs, env, f"""\
[memtided]
markers = {sock}
[track "t"]
cmdline = marks-{tag}
interval = 50ms
""").start()
    assert stat.S_ISSOCK(os.stat(sock).st_mode)
    assert os.stat(sock).st_mode & 0o777 == 0o666
    menv = dict(env, MEMTIDE_MARK_SOCKET=str(sock), PYTHONPATH=PYTHON_DIR)
    t0 = time.time()
    procs.start([PY, prog("daemon_marks.py"), tmp_path / "m.pid", f"marks-{tag}"], env=menv)
    other = procs.start([PY, prog("daemon_marks.py"), tmp_path / "o.pid", f"other-{tag}"],
                        env=menv)
    pid = int(pidfile_of(tmp_path / "m.pid"))
    pidfile_of(tmp_path / "o.pid")
    wait_for(lambda: len(d.rows("SELECT * FROM marks WHERE pid = ?", (pid,))) == 3, timeout=15)
    assert d.stop() == 0
    rows = d.rows("SELECT label, start, end, level, pid, run FROM marks ORDER BY start, level")
    runs = d.rows("SELECT run FROM runs WHERE kind = 'daemon'")
    assert {r[5] for r in rows} == {runs[0][0]}
    # Only the tracked process's three markers, none of the other's.
    assert all(r[4] == pid for r in rows), rows
    assert other.pid not in {r[4] for r in rows}
    by = {r[0]: r for r in rows}
    assert set(by) == {"load data", "parse", "ready"}
    load, parse, ready = by["load data"], by["parse"], by["ready"]
    assert t0 - 1 < load[1] < parse[1] < parse[2] < load[2] <= ready[1] < time.time()
    assert load[2] - load[1] >= 0.55
    assert (load[3], parse[3]) == (0, 1)
    assert ready[2] is None
    # The 40 MiB allocated inside "parse" shows in the samples of that span.
    during = d.rows("SELECT max(rss) FROM samples WHERE pid = ? AND t BETWEEN ? AND ?",
                    (pid, parse[1], parse[2] + 0.1))[0][0]
    before = d.rows("SELECT min(rss) FROM samples WHERE pid = ? AND t < ?",
                    (pid, parse[1]))[0][0]
    assert during - before > 35 << 20, (before, during)
    # The socket file goes with memtided.
    assert not sock.exists()
