"""Faults while memtide run records: a full disk, another writer holding the
database locked, a read-only database, a pid reused by the kernel.  memtide
says what happened in one line, keeps sampling, loses nothing it had written,
writes what it kept once the fault clears, and never mixes two processes
into one series."""
import json
import os
import pwd
import re
import shutil
import sqlite3
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from conftest import PY, QUICK, prog, q, q1, wait_for

MiB = 1 << 20


def ticks_of(db, pid=None):
    """The ticks of one process (or the only one) of the last run, in order."""
    where = "WHERE run = (SELECT max(run) FROM runs)" + (" AND pid = ?" if pid else "")
    return [t for (t,) in q(db, f"SELECT tick FROM samples {where} ORDER BY tick",
                            (pid,) if pid else ())]


def skipped(err):
    """The ticks memtide said it skipped (the machine too busy), from its
    summary on stderr."""
    m = re.search(r"memtide: (\d+) ticks skipped", err)
    return int(m.group(1)) if m else 0


def assert_no_gap(ticks, err=None, from_start=True):
    """Every tick from the first to the last is there, but those memtide
    reports it skipped (err: its stderr); without a report, no hole as long
    as half a flush (0.5 s, 25 ticks at -T 0.02): samples lost in a failed
    write would leave a hole of a whole flush."""
    assert ticks, "no samples"
    assert ticks[0] <= 1 or not from_start
    holes = [(a, b) for a, b in zip(ticks, ticks[1:]) if b - a > 1]
    if err is not None:
        assert sum(b - a - 1 for a, b in holes) <= skipped(err), (holes, skipped(err))
    else:
        assert [(a, b) for a, b in holes if b - a > 25] == [], holes


@pytest.fixture
def small_disk(tmp_path):
    """A 2 MiB tmpfs, unmounted at teardown; skips when mounting is not
    permitted here."""
    mnt = tmp_path / "small"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m,mode=0755", "tmpfs", str(mnt)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {r.stderr.strip()}")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=False)


def fill(directory):
    """Fills the file system of directory up; returns the filler's path."""
    filler = directory / "filler"
    with open(filler, "wb") as f:
        try:
            while True:
                f.write(b"\0" * 65536)
                f.flush()
        except OSError:
            pass
    try:
        with open(filler, "ab") as f:  # the last partial block too
            while True:
                f.write(b"\0")
                f.flush()
    except OSError:
        pass
    return filler


def test_full_disk_then_space_again(mt_popen, small_disk):
    db = small_disk / "m.db"
    m = mt_popen("run", "-T", "0.02", "--db", db, "--", PY, prog("sleeper.py"), 6)
    wait_for(lambda: db.exists() and q1(db, "SELECT count(*) FROM samples") >= 25)
    before = q1(db, "SELECT count(*) FROM samples")
    filler = fill(small_disk)
    # Two flushes fail for want of space; then the space comes back.
    time.sleep(2.5)
    during = q1(db, "SELECT count(*) FROM samples")
    filler.unlink()
    _, err = m.communicate(timeout=30)
    err = err.decode()
    assert m.returncode == 0, err
    assert "cannot write samples (keeping" in err and "disk is full" in err, err
    assert err.count("cannot write samples") == 1, err  # said once, not every second
    assert "writing samples again" in err, err
    assert q(db, "PRAGMA integrity_check") == [("ok",)]
    assert before <= during
    # What was kept in memory while the disk was full is all there.
    assert_no_gap(ticks_of(db), err)
    assert q1(db, "SELECT samples FROM runs") == q1(db, "SELECT count(*) FROM samples")
    assert q1(db, "SELECT ended FROM runs") is not None


def test_disk_stays_full(mt_popen, small_disk):
    db = small_disk / "m.db"
    m = mt_popen("run", "-q", "-T", "0.02", "--db", db, "--", PY, prog("sleeper.py"), 3)
    wait_for(lambda: db.exists() and q1(db, "SELECT count(*) FROM samples") >= 25)
    before = q1(db, "SELECT count(*) FROM samples")
    fill(small_disk)
    _, err = m.communicate(timeout=30)
    err = err.decode()
    # The command ran to its end; memtide says what it could not save and
    # fails, and the file keeps everything written before the disk filled.
    assert m.returncode == 1, err
    assert "samples could not be saved" in err and "disk is full" in err, err
    assert all(line.startswith("memtide: ") for line in err.splitlines()), err
    assert q(db, "PRAGMA integrity_check") == [("ok",)]
    assert q1(db, "SELECT count(*) FROM samples") >= before
    assert_no_gap(ticks_of(db))


def test_locked_by_another_writer(mt_popen, db):
    """BEGIN EXCLUSIVE held 3 s by another connection while memtide -C
    records a command that starts a child every 0.3 s."""
    m = mt_popen("run", "-C", "-T", "0.02", "--db", db, "--", PY, prog("churn.py"), 6)
    wait_for(lambda: db.exists() and q1(db, "SELECT count(*) FROM samples") >= 25)
    con = sqlite3.connect(db, timeout=10, isolation_level=None)
    con.execute("BEGIN EXCLUSIVE")
    held_from = time.monotonic()
    time.sleep(3)
    con.execute("COMMIT")
    con.close()
    held = time.monotonic() - held_from
    _, err = m.communicate(timeout=30)
    err = err.decode()
    assert m.returncode == 0, err
    assert "database is locked" in err and "writing samples again" in err, err
    assert q(db, "PRAGMA integrity_check") == [("ok",)]
    # Sampling went on while the lock was held: every tick of the command
    # is there, and of every child from its first sample to its last.
    root = q1(db, "SELECT pid FROM processes ORDER BY proc LIMIT 1")
    ticks = ticks_of(db, root)
    assert_no_gap(ticks, err)
    assert ticks[-1] - ticks[0] >= held / 0.02 * 0.9
    # No sample was filed under a process that has no row (proc 0 would mix
    # every child started while the lock was held into one series).
    assert q1(db, "SELECT count(*) FROM sample WHERE proc NOT IN (SELECT id FROM proc)") == 0
    # Children started while the lock was held have their samples too.
    children = [p for (p,) in q(db, "SELECT pid FROM processes WHERE pid != ?", (root,))]
    sampled = [ticks_of(db, pid) for pid in children]
    assert sum(bool(t) for t in sampled) >= 10, sampled
    for t in sampled:
        if t:
            assert_no_gap(t, err, from_start=False)


@pytest.fixture
def public_dir():
    """A directory other users may enter (pytest's tmp_path is 0700)."""
    d = Path(tempfile.mkdtemp(prefix="memtide-faults-"))
    os.chmod(d, 0o755)
    yield d
    subprocess.run(["umount", "-l", str(d)], capture_output=True)
    shutil.rmtree(d, ignore_errors=True)


def assert_refused(rc, out, err, marker):
    """Exit 1, one 'memtide: ...' line naming the database, nothing run."""
    assert rc == 1, (rc, err)
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("memtide: "), err
    assert not marker.exists()
    return lines[0]


def test_read_only_database_for_its_user(mt, memtide, public_dir):
    db = public_dir / "m.db"
    rc, out, err = mt("run", "-q", "--db", db, "--", *QUICK)
    assert rc == 0, err
    os.chmod(db, 0o644)  # the owner's 0640 would not even let nobody read it
    marker = public_dir / "ran"
    nobody = pwd.getpwnam("nobody")
    before = db.read_bytes()
    r = subprocess.run(["setpriv", f"--reuid={nobody.pw_uid}", f"--regid={nobody.pw_gid}",
                        "--clear-groups", str(memtide), "run", "-q", "--db", str(db), "--",
                        "/bin/touch", str(marker)],
                       capture_output=True, text=True, env={"PATH": "/usr/bin:/bin",
                                                            "HOME": "/nonexistent"})
    line = assert_refused(r.returncode, r.stdout, r.stderr, marker)
    assert str(db) in line and "Permission denied" in line, line
    assert db.read_bytes() == before


def test_read_only_file_system(mt, public_dir):
    db = public_dir / "m.db"
    rc, out, err = mt("run", "-q", "--db", db, "--", *QUICK)
    assert rc == 0, err
    for cmd in (["mount", "--bind", public_dir, public_dir],
                ["mount", "-o", "remount,bind,ro", public_dir]):
        r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True)
        if r.returncode != 0:
            pytest.skip(f"cannot make a read-only mount here: {r.stderr.strip()}")
    marker = Path(tempfile.gettempdir()) / f"memtide-ran-{os.getpid()}"
    rc, out, err = mt("run", "-q", "--db", db, "--", "/bin/touch", marker)
    line = assert_refused(rc, out, err, marker)
    assert str(db) in line and "Read-only file system" in line, line
    con = sqlite3.connect(f"file:{db}?immutable=1", uri=True)
    assert con.execute("SELECT count(*) FROM runs").fetchall() == [(1,)]
    con.close()


def test_reused_pid_is_a_new_series(mt, db, tmp_path):
    try:
        with open("/proc/sys/kernel/ns_last_pid", "w"):
            pass
    except OSError as e:
        pytest.skip(f"cannot write ns_last_pid here: {e}")
    out = tmp_path / "reuse.json"
    rc, _, err = mt("run", "-q", "-C", "-T", "0.02", "--db", db, "--",
                    PY, prog("pid_reuse.py"), out)
    assert rc == 0, err
    info = json.loads(out.read_text())
    if not info["tries"]:
        pytest.skip("the kernel never handed the pid back (a busy machine)")
    pid = info["pid"]
    rows = q(db, "SELECT proc, started, ended FROM processes WHERE pid = ? ORDER BY proc", (pid,))
    # Two processes, two rows, each ended.
    assert len(rows) == 2, rows
    (first, _, first_end), (second, _, second_end) = rows
    assert first_end is not None and second_end is not None
    assert q1(db, "SELECT count(DISTINCT start_ticks) FROM proc WHERE pid = ?", (pid,)) == 2
    # Each series is one process: 24 MiB, then 64 MiB, never both in one.
    peak = dict(q(db, "SELECT proc, max(rss) FROM samples WHERE pid = ? GROUP BY proc", (pid,)))
    assert 24 * MiB < peak[first] < 48 * MiB, peak
    assert peak[second] > 64 * MiB, peak
    # The first one's samples all come before the second one's.
    last_of_first = q1(db, "SELECT max(tick) FROM samples WHERE proc = ?", (first,))
    first_of_second = q1(db, "SELECT min(tick) FROM samples WHERE proc = ?", (second,))
    assert last_of_first < first_of_second
