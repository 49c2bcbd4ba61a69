"""The history from the command line (issue 12): memtide list --since and
--until, how each run ended, "recording" while its recorder lives,
memtide ps; the PSS/USS headline; and what a newcomer trips on: a mark
that would create a database, a --db in a missing directory."""
import os
import re
import signal
import stat
import time
from pathlib import Path

from conftest import MiB, PY, QUICK, clean_env, q, q1, wait_for


def fmt(nbytes):
    return f"{nbytes / MiB:.1f} MiB"


def size(nbytes):
    """Bytes as memtide prints them (units_format_bytes)."""
    v, unit = float(nbytes), 0
    while abs(v) >= 1024 and unit < 4:
        v, unit = v / 1024, unit + 1
    return f"{nbytes} B" if unit == 0 else f"{v:.1f} {['B', 'KiB', 'MiB', 'GiB', 'TiB'][unit]}"


def listed_runs(out):
    return [int(l.split()[0]) for l in out.splitlines()[1:]]


def test_list_since_until_and_exit_status(mt, db):
    for code in ("0", "3"):
        rc, _, err = mt("run", "-q", "--db", db, "--", "/bin/sh", "-c", f"sleep 0.05; exit {code}")
        assert rc == int(code), err
    # Run 2 started at least a second after run 1 ended: move run 1 back an
    # hour, so windows split them whatever the machine's speed.
    with __import__("sqlite3").connect(db) as con:
        con.execute("UPDATE run SET started = started - 3600, ended = ended - 3600"
                    " WHERE id = 1")
    t1 = q1(db, "SELECT ended FROM runs WHERE run = 1")
    rc, out, err = mt("list", "--db", db)
    assert rc == 0, err
    assert re.search(r"\bexit 0\b", out.splitlines()[1]) and \
        re.search(r"\bexit 3\b", out.splitlines()[2]), out
    rc, out, _ = mt("list", "--db", db, "--since", "30m")
    assert listed_runs(out) == [2], out
    rc, out, _ = mt("list", "--db", db, "--until", f"@{t1 + 60:.0f}")
    assert listed_runs(out) == [1], out
    rc, out, _ = mt("list", "--db", db, "--since", "2h", "--until", "now")
    assert listed_runs(out) == [1, 2], out
    rc, out, _ = mt("list", "--db", db, "--since", "@1", "--until", "@2")
    assert rc == 0 and out == "no runs in that window\n", out


def test_list_and_ps_refuse_bad_times_and_regexes(mt, db):
    rc, _, _ = mt("run", "-q", "--db", db, "--", *QUICK)
    for args, msg in [(["list", "--since", "yesterday-ish"], "bad time 'yesterday-ish' for --since"),
                      (["ps", "--until", "2026-13-01"], "bad time '2026-13-01' for --until"),
                      (["list", "--since", "now", "--until", "1h"], "--since is after --until"),
                      (["ps", "--match", "("], "bad --match regex '('"),
                      (["ps", "1", "2"], "one RUN at most")]:
        rc, out, err = mt(*args, "--db", db)
        assert rc == 2 and out == "", (args, rc, out)
        assert err.splitlines()[0].startswith("memtide: ") and msg in err, (args, err)
    rc, out, err = mt("ps", "7", "--db", db)
    assert rc == 1 and err == "memtide: no run 7 (see memtide list)\n", err


def test_ps_window_spans_runs(mt, db):
    for i in range(2):
        rc, _, err = mt("run", "-q", "--db", db, "--", "/bin/sleep", "0.05")
        assert rc == 0, err
    pids = [r[0] for r in q(db, "SELECT pid FROM processes ORDER BY run")]
    rc, out, err = mt("ps", "--db", db)  # the last run alone
    assert rc == 0, err
    assert [int(l.split()[1]) for l in out.splitlines()[1:]] == pids[1:], out
    rc, out, err = mt("ps", "--db", db, "--since", "1h")
    assert [int(l.split()[1]) for l in out.splitlines()[1:]] == pids, out
    rc, out, err = mt("ps", "1", "--db", db)
    line = out.splitlines()[1]
    assert line.split()[:2] == ["1", str(pids[0])] and "exit 0" in line and "/bin/sleep" in line


def test_recording_while_the_recorder_lives(mt, mt_popen, db, procs):
    m = mt_popen("run", "-q", "--db", db, "--", "/bin/sleep", "3")
    wait_for(lambda: db.exists() and q(db, "SELECT run FROM runs"))
    rc, out, err = mt("list", "--db", db)
    assert rc == 0, err
    assert re.search(r"\brecording\b", out.splitlines()[1]), out
    rc, out, err = mt("ps", "--db", db)
    assert " alive " in out.splitlines()[1], out
    # Killed, it can say nothing more: the run stays unfinished.
    m.send_signal(signal.SIGKILL)
    m.wait()
    rc, out, err = mt("list", "--db", db)
    assert re.search(r"\bunfinished\b", out.splitlines()[1]) and "recording" not in out, out


def test_pss_backend_is_the_headline(mt, db, plot_exe, env, tmp_path):
    code = ("x = bytearray(40 << 20); x[::4096] = b'1' * len(x[::4096]);"
            " import time; time.sleep(0.6)")
    rc, out, err = mt("run", "--backend", "psutil_pss", "--db", db, "-T", "0.05", "--",
                      PY, "-c", code)
    assert rc == 0, err
    pss = q1(db, "SELECT max(pss) FROM samples_mem")
    rss = q1(db, "SELECT peak_rss FROM runs")
    assert pss and pss < rss
    assert f"peak PSS {fmt(pss)}, " in err, err
    rc, out, _ = mt("peak", "--db", db)
    assert f"peak PSS {fmt(pss)}\t" in out, out
    rc, out, _ = mt("list", "--db", db)
    assert f" {fmt(pss)} PSS " in out, out
    rc, out, _ = mt("ps", "--db", db)
    assert f" {fmt(pss)} PSS " in out, out
    # The exported mprof file carries PSS in its MEM lines, as mprof's does.
    dat = tmp_path / "out.dat"
    rc, _, err = mt("export", "--db", db, "-o", dat)
    assert rc == 0, err
    mem = [float(l.split()[1]) for l in dat.read_text().splitlines() if l.startswith("MEM ")]
    assert abs(max(mem) * MiB - pss) < 0.001 * MiB, (max(mem), pss / MiB)
    # The chart's default is the PSS chart, not the RSS one.
    charts = {}
    for name, extra in [("default", []), ("pss", ["--metric", "pss"]), ("rss", ["--metric", "rss"])]:
        out = tmp_path / f"{name}.svg"
        p = __import__("subprocess").run([plot_exe, "--db", db, "-o", out, *extra],
                                         capture_output=True, text=True, env=env)
        assert p.returncode == 0, p.stderr
        charts[name] = out.read_text()
    assert charts["default"] == charts["pss"] != charts["rss"]


def test_mark_rm_clean_without_a_database_create_none(mt, home):
    env = clean_env(home)
    for args in (["mark", "hello"], ["rm", "1"], ["clean"]):
        rc, out, err = mt(*args, env=env)
        assert rc == 1 and out == "", args
        assert len(err.splitlines()) == 1 and "does not exist yet" in err, (args, err)
        assert not (Path(home) / ".local").exists(), args


def test_a_db_in_a_missing_directory_is_an_error(mt, tmp_path, home):
    missing = tmp_path / "no" / "such"
    for env in (clean_env(home), clean_env(home, MEMTIDE_DB=missing / "m.db")):
        args = ["--db", str(missing / "m.db")] if "MEMTIDE_DB" not in env else []
        rc, out, err = mt("run", "-q", *args, "--", *QUICK, env=env)
        assert rc == 1, err
        assert err == (f"memtide: cannot open database '{missing}/m.db': its directory "
                       f"'{missing}' does not exist\n"), err
        assert not (tmp_path / "no").exists()


def test_only_the_default_directory_is_made_private(mt, home):
    env = clean_env(home)
    rc, out, err = mt("run", "-q", "--", *QUICK, env=env)
    assert rc == 0, err
    for d in (".local", ".local/share", ".local/share/memtide"):
        assert stat.S_IMODE(os.stat(Path(home) / d).st_mode) == 0o700, d
    assert (Path(home) / ".local/share/memtide/memtide.db").exists()


def test_ps_and_list_say_how_processes_ended(mt, db):
    """The columns memtided fills from what the kernel says of an exit
    (proc.exit_code, exit_signal, oom_killed, memory_limit), as ps and list
    word them.  Written here by hand: the writer is memtided's (issue 14)."""
    for _ in range(3):
        rc, _, err = mt("run", "-q", "--db", db, "--", *QUICK)
        assert rc == 0, err
    import sqlite3
    with sqlite3.connect(db) as con:
        con.execute("UPDATE run SET exit_status = NULL")
        con.execute("UPDATE proc SET exit_code = 4 WHERE run = 1")
        con.execute("UPDATE proc SET exit_signal = 15 WHERE run = 2")
        con.execute("UPDATE proc SET exit_signal = 9, oom_killed = 1,"
                    " memory_limit = 2147483648 WHERE run = 3")
    last = q1(db, "SELECT rss FROM samples WHERE run = 3 ORDER BY tick DESC LIMIT 1")
    rc, out, err = mt("ps", "--db", db, "--since", "1h")
    assert rc == 0, err
    lines = out.splitlines()[1:]
    assert "  exit 4  " in lines[0] and "  killed by SIGTERM  " in lines[1], out
    assert f"  killed by the OOM killer at {size(last)} (limit 2.0 GiB)  " in lines[2], out
    rc, out, err = mt("list", "--db", db)
    ended = [l.split()[8:10] for l in out.splitlines()[1:]]
    assert ended == [["exit", "4"], ["SIGTERM", "/bin/sleep"], ["OOM", "kill"]], out


def test_memtided_database_in_a_missing_directory_is_an_error(memtided, tmp_path, env):
    conf = tmp_path / "memtided.conf"
    missing = tmp_path / "no" / "such"
    conf.write_text(f"[memtided]\ndatabase = {missing}/d.db\n"
                    "[track \"x\"]\ncmdline = nothing-matches-this-7c1e\n")
    p = __import__("subprocess").run([memtided, "-c", conf], capture_output=True, text=True,
                                     env=env, timeout=20)
    assert p.returncode == 1 and p.stdout == "", (p.returncode, p.stdout)
    assert p.stderr == (f"memtided: error: cannot open database '{missing}/d.db': its "
                        f"directory '{missing}' does not exist\n"), p.stderr
    assert not (tmp_path / "no").exists()
