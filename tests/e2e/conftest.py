"""Fixtures and helpers of the end-to-end suite.

The suite drives the real build/memtide against real Python programs (in
programs/) and reads what it recorded through the SQL views of
include/memtide/store.h.  Run it as

    cd tests/e2e && MEMTIDE_BUILD=/work/main/build /usr/bin/python3 -m pytest -q -p no:cacheprovider .

Test programs always run under PY (/usr/bin/python3), named explicitly, so
that a pyenv or venv python first on PATH never changes what is measured.
Every process a test starts is killed at teardown if it is still alive.
"""
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
PROGRAMS = HERE / "programs"
PY = "/usr/bin/python3"
MiB = 1 << 20
# A short command to record when the command itself does not matter.  It
# lives 50 ms on purpose: commands that exit within a millisecond of starting
# are the subject of their own test (test_run.py), not of every test.
QUICK = ["/bin/sleep", "0.05"]


def prog(name):
    """The path of a test program in programs/, as a string."""
    return str(PROGRAMS / name)


def clean_env(home, **extra):
    """The environment memtide runs in: the caller's, without anything that
    would pick a database for it, with HOME moved to a scratch directory so a
    test can never write into the real ~/.local/share.  extra adds or (with
    None) removes variables."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("MEMTIDE_DB", "XDG_DATA_HOME")}
    env["HOME"] = str(home)
    for k, v in extra.items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = str(v)
    return env


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def q(db, sql, params=()):
    """Runs one SQL statement on the database file db; returns all rows.
    Opens read-write without creating: a missing file is an error."""
    con = sqlite3.connect(f"file:{db}?mode=rw", uri=True, timeout=10)
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


def q1(db, sql, params=()):
    """The single value of a one-row, one-column query."""
    rows = q(db, sql, params)
    assert len(rows) == 1 and len(rows[0]) == 1, rows
    return rows[0][0]


def wait_for(pred, timeout=10.0, step=0.01):
    """Polls pred() until it is true (an SQLite error counts as not yet); fails the test after timeout seconds."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            v = pred()
        except sqlite3.OperationalError:
            # The file exists before its schema does (slower under ASan).
            v = None
        if v:
            return v
        time.sleep(step)
    pytest.fail(f"timed out after {timeout} s waiting for {pred}")


def alive(pid):
    """True while pid exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return False
    return stat[stat.rindex(b")") + 2:][:1] != b"Z"


def status_kib(text, field):
    """A 'Field: N kB' value of a /proc/PID/status text, in KiB."""
    for line in text.splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def syscalls(argv, tmp_path, env=None, timeout=60):
    """Runs argv to completion under strace -f -c; returns (exit status,
    {syscall name: calls}) over every thread and child."""
    out = tmp_path / f"strace-{time.monotonic_ns()}.txt"
    # LeakSanitizer stops the process with ptrace at its exit, which strace
    # holds: under AddressSanitizer it aborts.  Leaks are every other
    # test's business.
    env = dict(os.environ if env is None else env)
    env["ASAN_OPTIONS"] = ":".join(filter(None, [env.get("ASAN_OPTIONS"), "detect_leaks=0"]))
    p = subprocess.run([installed("strace"), "-f", "-c", "-U", "name,calls",
                        "-o", str(out), *map(str, argv)], env=env,
                       stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
    calls = {}
    for line in out.read_text().splitlines():
        f = line.split()
        if len(f) == 2 and f[1].isdigit() and f[0] != "total":
            calls[f[0]] = int(f[1])
    return p.returncode, calls


@pytest.fixture(scope="session")
def build():
    """The build directory: $MEMTIDE_BUILD, else ../../build."""
    return Path(os.environ.get("MEMTIDE_BUILD", HERE / ".." / ".." / "build")).resolve()


def built(build, name):
    """build/name, or the test fails saying how to build it."""
    exe = build / name
    if not os.access(exe, os.X_OK):
        pytest.fail(f"{exe} is not built: run 'make build/{name}'")
    return exe


def installed(name):
    """The path of a program from a Debian package, or the test fails
    saying how to install it."""
    exe = shutil.which(name)
    if not exe:
        pytest.fail(f"{name} is not installed: run 'make deps'")
    return exe


@pytest.fixture(scope="session")
def memtide(build):
    """The memtide executable under test."""
    return built(build, "memtide")


@pytest.fixture
def home(tmp_path):
    """A scratch HOME for memtide."""
    h = tmp_path / "home"
    h.mkdir()
    return h


@pytest.fixture(scope="session")
def memtided(build):
    return built(build, "memtided")


@pytest.fixture(scope="session")
def plot_exe(build):
    return built(build, "memtide-plot")


@pytest.fixture
def env(home):
    """The default environment of memtide in a test (see clean_env)."""
    return clean_env(home)


@pytest.fixture
def db(tmp_path):
    """A fresh database path (the file does not exist yet)."""
    return tmp_path / "memtide.db"


@pytest.fixture
def mt(memtide, env):
    """mt(*args, env=None, timeout=60, cwd=None) runs memtide to completion;
    returns (rc, stdout, stderr) as text."""
    def run(*args, env=env, timeout=60, cwd=None):
        p = subprocess.run([str(memtide), *map(str, args)], env=env, cwd=cwd,
                           stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=timeout)
        return (p.returncode, p.stdout.decode(errors="replace"),
                p.stderr.decode(errors="replace"))
    return run


@pytest.fixture
def procs():
    """procs.start(argv, **popen_kwargs) starts a process the test owns;
    all of them (and their process groups) are killed at teardown."""
    started = []

    class Procs:
        def start(self, argv, **kw):
            kw.setdefault("stdin", subprocess.DEVNULL)
            kw.setdefault("start_new_session", True)
            p = subprocess.Popen([str(a) for a in argv], **kw)
            started.append(p)
            return p

        def track_pid(self, pid):
            """A process the test did not start itself but must not leave
            behind (such as a command orphaned by kill -9 of memtide)."""
            started.append(pid)

    yield Procs()
    for p in started:
        pid = p if isinstance(p, int) else p.pid
        if isinstance(p, int):
            if alive(pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            continue
        if p.poll() is None:
            try:
                os.killpg(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                p.kill()
            p.wait(timeout=10)


@pytest.fixture
def mt_popen(memtide, env, procs):
    """mt_popen(*args, env=None) starts memtide in the background (its own
    session, so the test can signal it alone); stdout/stderr are pipes."""
    def start(*args, env=env, **kw):
        kw.setdefault("stdout", subprocess.PIPE)
        kw.setdefault("stderr", subprocess.PIPE)
        return procs.start([memtide, *args], env=env, **kw)
    return start
