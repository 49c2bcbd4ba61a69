"""Memory per pytest test: the memtide.pytest plugin on real pytest suites
(run by /usr/bin/python3's pytest, pytest-xdist), memtide tests, budgets in
pytest and in memtide run, and memtide diff between two runs."""
import csv
import io
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import MiB, PY, q

ROOT = Path(__file__).resolve().parents[2]

SUITE = '''
import os, time
import pytest

SPIKE = int(os.environ.get("SPIKE_MIB", "80"))

def touch(mib):
    b = bytearray(mib << 20)
    for i in range(0, len(b), 4096):
        b[i] = 1
    return b

def test_spike():
    b = touch(SPIKE)
    del b

def test_hold():
    global HELD
    HELD = touch(24)
    time.sleep(0.2)

def test_fails():
    assert 1 == 2

@pytest.mark.parametrize("n", [1, 2])
def test_param(n):
    assert n

@pytest.mark.memtide(max_peak="2 GiB", max_growth="1 MiB")
def test_within_budget():
    touch(16)

@pytest.mark.memtide(max_peak="{limit}")
def test_over_budget():
    b = touch(96)
    del b
'''


def suite(tmp_path, limit="64 MiB"):
    d = tmp_path / "suite"
    d.mkdir(exist_ok=True)
    (d / "test_suite.py").write_text(SUITE.replace("{limit}", limit))
    return d


def pytest_cmd(*extra):
    return ["--", PY, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p",
            "memtide.pytest", *extra, "test_suite.py"]


def read_tests(mt, db, run="-1"):
    rc, out, err = mt("tests", "--db", db, run, "--csv")
    assert rc == 0, err
    return {r["test"]: r for r in csv.DictReader(io.StringIO(out))}


def test_every_test_shows_with_its_peak_even_shorter_than_the_interval(mt, tmp_path):
    d, db = suite(tmp_path), tmp_path / "t.db"
    # One sample every 5 s: every test here is shorter than the interval.
    rc, out, err = mt("run", "-q", "--db", db, "-T", "5", *pytest_cmd(), cwd=d)
    assert rc == 1, out + err  # test_fails and test_over_budget fail
    rows = read_tests(mt, db)
    assert sorted(rows) == sorted(
        "test_suite.py::" + t for t in ("test_spike", "test_hold", "test_fails",
                                        "test_param[1]", "test_param[2]",
                                        "test_within_budget", "test_over_budget"))
    spike = rows["test_suite.py::test_spike"]
    assert float(spike["duration_s"]) < 5
    assert int(spike["peak_bytes"]) >= int(spike["start_bytes"]) + 78 * MiB
    assert abs(int(spike["grown_bytes"])) < 4 * MiB
    hold = rows["test_suite.py::test_hold"]
    assert 23 * MiB <= int(hold["grown_bytes"]) <= 26 * MiB
    assert rows["test_suite.py::test_fails"]["outcome"] == "failed"
    assert rows["test_suite.py::test_over_budget"]["outcome"] == "failed"
    assert rows["test_suite.py::test_spike"]["outcome"] == "passed"
    # Phases are spans inside each test, each with its outcome.
    assert q(db, "SELECT label, outcome, level FROM marks WHERE label LIKE"
                 " 'test_suite.py::test_fails %' ORDER BY start") == [
        ("test_suite.py::test_fails [setup]", "passed", 1),
        ("test_suite.py::test_fails [call]", "failed", 1),
        ("test_suite.py::test_fails [teardown]", "passed", 1)]
    rc, out, err = mt("tests", "--db", db, "--top", "1")
    assert rc == 0, err
    lines = out.splitlines()
    assert len(lines) == 2 and lines[1].endswith("test_over_budget")
    rc, out, err = mt("tests", "--db", db, "--sort", "growth", "--json")
    assert json.loads(out)[0]["test"] == "test_suite.py::test_hold"


def test_budgets_fail_the_right_test_with_the_figures(tmp_path):
    """Outside memtide run the plugin marks nothing but budgets hold."""
    d = suite(tmp_path)
    env = dict(os.environ, PYTHONPATH=str(ROOT / "python"))
    env.pop("MEMTIDE_MARK_SOCKET", None)
    p = subprocess.run([PY, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p",
                        "memtide.pytest", "-k", "budget", "test_suite.py"], cwd=d,
                       env=env, capture_output=True, text=True, timeout=120)
    assert p.returncode == 1, p.stdout + p.stderr
    assert "1 failed, 1 passed" in p.stdout
    assert "FAILED test_suite.py::test_over_budget" in p.stdout
    line = [x for x in p.stdout.splitlines() if "memtide budget exceeded" in x][0]
    assert "> max_peak 64.0 MiB" in line and "peak " in line


def test_run_budgets_exit_3_unless_the_command_failed(mt, tmp_path):
    db = tmp_path / "t.db"
    # os._exit: the memory is still held at the last sample, never freed
    # by the interpreter's finalization just before exit.
    hold = ("b = bytearray(48 << 20)\n"
            "for i in range(0, len(b), 4096): b[i] = 1\n"
            "import time, os; time.sleep(0.3); os._exit(%d)\n")
    rc, _, err = mt("run", "-q", "--db", db, "--max-peak", "32MiB", "--", PY, "-c", hold % 0)
    assert rc == 3
    assert "budget exceeded: peak" in err and "> --max-peak 32.0 MiB" in err
    rc, _, err = mt("run", "-q", "--db", db, "--max-peak", "32MiB", "--", PY, "-c", hold % 5)
    assert rc == 5 and "budget exceeded" in err
    rc, _, err = mt("run", "-q", "--db", db, "--max-peak", "1GiB", "--max-growth", "100MiB",
                    "--", PY, "-c", hold % 0)
    assert rc == 0, err
    rc, _, err = mt("run", "-q", "--db", db, "-T", "0.05", "--max-growth", "16MiB",
                    "--", PY, "-c", hold % 0)
    assert rc == 3 and "budget exceeded: grew" in err
    rc, _, err = mt("run", "-q", "--db", db, "-T", "0.05", "--max-growth", "1MiB/h",
                    "--", PY, "-c", hold % 0)
    assert rc == 3 and "MiB/h > --max-growth 1.0 MiB/h" in err
    rc, _, err = mt("run", "--max-peak", "lots", "--", "/bin/true")
    assert rc == 2 and "bad --max-peak 'lots'" in err


def test_diff_catches_the_test_whose_peak_doubled(mt, tmp_path):
    d, db = suite(tmp_path, limit="1 GiB"), tmp_path / "t.db"
    for mib in ("40", "80"):
        env = dict(os.environ, SPIKE_MIB=mib, HOME=str(tmp_path))
        rc, _, err = mt("run", "-q", "--db", db, "-T", "1", *pytest_cmd("-k", "spike or hold"),
                        cwd=d, env=env)
        assert rc == 0, err
    rc, out, err = mt("diff", "--db", db, "-2", "-1", "--fail-over", "25")
    assert rc == 3, out + err
    assert "'test_suite.py::test_spike' peaked" in err
    assert "test_hold" not in err
    rows = [line for line in out.splitlines() if "test_suite.py::" in line]
    assert rows[0].endswith("test_suite.py::test_spike")  # largest change first
    rc, out, err = mt("diff", "--db", db, "1", "1", "--fail-over", "0")
    assert rc == 0, err


def test_diff_of_imported_mprof_files(mt, tmp_path):
    fix = ROOT / "tests" / "fixtures" / "mprof"
    rc, out, err = mt("diff", fix / "real_python_markers.dat", fix / "canonical.dat")
    assert rc == 0, err
    assert "__main__.load" in out and "(run total)" in out


def test_xdist_workers_under_C(mt, tmp_path):
    d, db = suite(tmp_path), tmp_path / "t.db"
    rc, out, err = mt("run", "-q", "-C", "--db", db, "-T", "0.2",
                      *pytest_cmd("-n", "2", "-k", "not budget"), cwd=d)
    assert rc == 1, out + err
    rows = read_tests(mt, db)
    assert len(rows) == 5
    pids = {int(r["pid"]) for r in rows.values()}
    assert len(pids) == 2
    root = q(db, "SELECT pid FROM processes ORDER BY proc LIMIT 1")[0][0]
    assert root not in pids
    recorded = {p for (p,) in q(db, "SELECT pid FROM processes")}
    assert pids <= recorded
    spike = rows["test_suite.py::test_spike"]
    assert int(spike["peak_bytes"]) >= int(spike["start_bytes"]) + 78 * MiB


def test_installed_entry_point_loads_the_plugin(memtide, tmp_path):
    """make install-python: pytest finds the plugin by its entry point, and
    an installed memtide (PREFIX/bin) finds PREFIX/lib/memtide/python."""
    dest = tmp_path / "dest"
    subprocess.run(["make", "-s", "-C", str(ROOT), "install-python", f"DESTDIR={dest}",
                    "PREFIX=/usr/local"], check=True, capture_output=True, timeout=60)
    site = next(dest.glob("usr/local/lib/python3*/dist-packages"))
    env = dict(os.environ, PYTHONPATH=str(site))
    p = subprocess.run([PY, "-m", "pytest", "-p", "no:cacheprovider", "--markers"],
                       cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert "@pytest.mark.memtide(max_peak=SIZE, max_growth=SIZE)" in p.stdout
    assert (dest / "usr/local/lib/memtide/python/sitecustomize.py").exists()
    bindir = dest / "usr/local/bin"
    bindir.mkdir(parents=True)
    shutil.copy(memtide, bindir / "memtide")
    script = tmp_path / "deco.py"
    script.write_text("@profile\ndef f():\n    return 1\nf()\n")
    env = dict(os.environ, PATH="/usr/bin:" + os.environ["PATH"], HOME=str(tmp_path))
    p = subprocess.run([bindir / "memtide", "run", "-q", "--db", tmp_path / "i.db", script],
                       env=env, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert q(tmp_path / "i.db", "SELECT label FROM marks") == [("__main__.f",)]


@pytest.mark.parametrize("args, code, says", [
    (["tests", "--sort", "size"], 2, "unknown sort 'size'"),
    (["tests", "--top", "x"], 2, "bad --top 'x'"),
    (["tests", "1", "2"], 2, "tests takes one run"),
    (["tests"], 1, "has no tests"),
    (["diff", "1"], 2, "diff needs two runs"),
    (["diff", "1", "2", "--fail-over", "lots"], 2, "bad --fail-over 'lots'"),
    (["diff", "1", "9"], 1, "no run 9"),
    (["peak", "--func", "nosuch"], 1, "has no marker 'nosuch'"),
    (["run", "--max-growth", "5MiB/week", "--", "/bin/true"], 2, "bad --max-growth"),
])
def test_bad_input_says_what_and_where(mt, tmp_path, args, code, says):
    db = tmp_path / "t.db"
    rc, _, err = mt("run", "-q", "--db", db, "--", "/bin/true")
    assert rc == 0, err
    rc, out, err = mt(*args, "--db", db) if args[0] != "run" else mt(*args)
    assert rc == code, (rc, err)
    assert err.startswith("memtide: ") and says in err.splitlines()[0], err


def test_output_file_that_cannot_be_written_keeps_the_run(mt, tmp_path):
    db = tmp_path / "t.db"
    rc, _, err = mt("run", "-q", "--db", db, "-o", tmp_path / "no" / "x.dat", "--",
                    "/bin/sleep", "0.2")
    assert rc == 1
    assert "cannot write" in err and "x.dat" in err
    assert q(db, "SELECT count(*) FROM runs") == [(1,)]
