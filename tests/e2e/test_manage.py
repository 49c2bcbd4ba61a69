"""memtide list, peak, rm, clean, and where the database lives."""
import re

import pytest

from conftest import MiB, PY, QUICK, clean_env, q, q1

ALLOC = "import sys, time; b = bytearray({} << 20); time.sleep(0.2)"
LINE = re.compile(r"^\s*(\d+)\s+(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\s+([\d.]+ s)\s+(\d+)"
                  r"\s+([\d.]+) (MiB)\s+(exit \d+)\s+(.*)$")


@pytest.fixture
def three_runs(mt, db):
    """A database with three runs of pythons holding 10, 30 and 60 MiB."""
    for mib in (10, 30, 60):
        rc, out, err = mt("run", "-q", "--db", db, "-T", "0.02", "--",
                          PY, "-c", ALLOC.format(mib))
        assert rc == 0, err
    return db


def counts(db):
    """(runs, processes, samples) rows, from the views and the base tables."""
    return (q1(db, "SELECT count(*) FROM runs"), q1(db, "SELECT count(*) FROM processes"),
            q1(db, "SELECT count(*) FROM samples"), q1(db, "SELECT count(*) FROM sample"),
            q1(db, "SELECT count(*) FROM proc"))


def test_list_one_line_per_run(mt, three_runs):
    db = three_runs
    rc, out, err = mt("list", "--db", db)
    assert rc == 0 and err == ""
    lines = out.splitlines()
    assert len(lines) == 4, out  # a header, then one line per run
    runs = q(db, "SELECT run, ended - started, samples, peak_rss, command FROM runs ORDER BY run")
    for line, (run, dur, samples, peak, command) in zip(lines[1:], runs):
        m = LINE.match(line)
        assert m, line
        assert int(m[1]) == run
        assert abs(float(m[3].split()[0]) - dur) <= 0.051, (line, dur)
        assert int(m[4]) == samples
        assert abs(float(m[5]) - peak / MiB) <= 0.051, (line, peak / MiB)
        assert m[7] == "exit 0", line  # how the command ended
        assert m[8] == command
    # The peaks follow what each run allocated.
    peaks = [r[3] for r in runs]
    assert peaks[1] - peaks[0] == pytest.approx(20 * MiB, rel=0.05)
    assert peaks[2] - peaks[0] == pytest.approx(50 * MiB, rel=0.05)


def test_list_of_an_empty_database(mt, db):
    rc, out, err = mt("run", "-q", "--db", db, "--", *QUICK)
    assert rc == 0
    rc, out, err = mt("clean", "--db", db)
    assert rc == 0
    rc, out, err = mt("list", "--db", db)
    assert rc == 0 and err == ""
    assert len(out.splitlines()) == 1 and "no runs" in out


def test_peak_defaults_to_the_last_run(mt, three_runs):
    db = three_runs
    rc, out, err = mt("peak", "--db", db)
    assert rc == 0, err
    lines = out.splitlines()
    assert len(lines) == 1, out
    peak = q1(db, "SELECT peak_rss FROM runs WHERE run = 3")
    assert lines[0].startswith("run 3")
    assert f"{peak / MiB:.1f} MiB" in lines[0]
    rc, out, err = mt("peak", "1", "2", "--db", db)
    assert rc == 0
    assert [l.split()[1] for l in out.splitlines()] == ["1", "2"]


def test_rm_dry_run_deletes_nothing(mt, three_runs):
    db = three_runs
    before = counts(db)
    rc, out, err = mt("rm", "1", "--dry-run", "--db", db)
    assert rc == 0, err
    assert "run 1" in out and "run 2" not in out
    assert counts(db) == before


def test_rm_deletes_the_run_and_its_samples(mt, three_runs):
    db = three_runs
    kept = q(db, "SELECT run, count(*) FROM samples WHERE run != 1 GROUP BY run")
    assert q1(db, "SELECT count(*) FROM samples WHERE run = 1") > 0
    rc, out, err = mt("rm", "1", "--db", db)
    assert rc == 0, err
    assert [r[0] for r in q(db, "SELECT run FROM runs ORDER BY run")] == [2, 3]
    assert q1(db, "SELECT count(*) FROM processes WHERE run = 1") == 0
    assert q1(db, "SELECT count(*) FROM samples WHERE run = 1") == 0
    # No orphans left in the base tables, the other runs untouched.
    for table in ("sample", "sample_mem", "sample_agg", "rollup"):
        assert q1(db, f"SELECT count(*) FROM {table} WHERE proc NOT IN (SELECT id FROM proc)") == 0
    assert q1(db, "SELECT count(*) FROM sample_agg") > 0  # the other runs' buckets
    assert q1(db, "SELECT count(*) FROM proc WHERE run NOT IN (SELECT id FROM run)") == 0
    assert q(db, "SELECT run, count(*) FROM samples GROUP BY run") == kept
    rc, out, err = mt("list", "--db", db)
    assert [l.split()[0] for l in out.splitlines()[1:]] == ["2", "3"]


def test_rm_of_a_missing_run(mt, three_runs):
    db = three_runs
    before = counts(db)
    rc, out, err = mt("rm", "99", "--db", db)
    assert rc == 1
    assert err.splitlines() == [err.strip()] and "no run 99" in err
    assert counts(db) == before
    # One bad id among good ones: nothing is deleted.
    rc, out, err = mt("rm", "1", "99", "--db", db)
    assert rc == 1 and "no run 99" in err
    assert counts(db) == before


def test_clean(mt, three_runs):
    db = three_runs
    before = counts(db)
    rc, out, err = mt("clean", "--dry-run", "--db", db)
    assert rc == 0, err
    assert counts(db) == before
    assert all(f"run {i}" in out for i in (1, 2, 3))
    rc, out, err = mt("clean", "--db", db)
    assert rc == 0, err
    assert counts(db) == (0, 0, 0, 0, 0)
    # The database stays usable.
    rc, out, err = mt("run", "-q", "--db", db, "--", *QUICK)
    assert rc == 0
    assert q1(db, "SELECT count(*) FROM runs") == 1


def record_true(mt, env, *args):
    rc, out, err = mt("run", "-q", *args, "--", *QUICK, env=env)
    assert rc == 0, err
    rc, out, err = mt("list", *args, env=env)
    assert rc == 0, err
    assert len(out.splitlines()) == 2, out


def dbs_under(root):
    return sorted(str(p.relative_to(root)) for p in root.rglob("*.db"))


def test_default_path_is_under_home(mt, tmp_path, home):
    record_true(mt, clean_env(home))
    assert dbs_under(tmp_path) == ["home/.local/share/memtide/memtide.db"]


def test_xdg_data_home(mt, tmp_path, home):
    record_true(mt, clean_env(home, XDG_DATA_HOME=tmp_path / "xdg"))
    assert dbs_under(tmp_path) == ["xdg/memtide/memtide.db"]


def test_relative_xdg_data_home_is_ignored(mt, tmp_path, home):
    # The XDG spec: a relative path is invalid and must be ignored.
    record_true(mt, clean_env(home, XDG_DATA_HOME="rel"))
    assert dbs_under(tmp_path) == ["home/.local/share/memtide/memtide.db"]


def test_memtide_db_beats_xdg(mt, tmp_path, home):
    record_true(mt, clean_env(home, XDG_DATA_HOME=tmp_path / "xdg",
                              MEMTIDE_DB=tmp_path / "env.db"))
    assert dbs_under(tmp_path) == ["env.db"]


def test_db_option_beats_memtide_db(mt, tmp_path, home):
    env = clean_env(home, XDG_DATA_HOME=tmp_path / "xdg", MEMTIDE_DB=tmp_path / "env.db")
    record_true(mt, env, "--db", tmp_path / "opt.db")
    assert dbs_under(tmp_path) == ["opt.db"]
