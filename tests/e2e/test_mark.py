"""Markers: the Python module and memtide mark, through the socket of a
running memtide run or straight into the database."""
import subprocess

import pytest

from conftest import HERE, PY, q, q1, syscalls

PYTHONPATH = str(HERE.parent.parent / "python")

NESTED = """
import os, sys, time, memtide
assert memtide.enabled()
with memtide.mark("outer"):
    time.sleep(0.05)
    with memtide.mark("inner"):
        time.sleep(0.05)
    memtide.moment("half way")

@memtide.marked
def work(n):
    time.sleep(0.02)
    return n * 2

@memtide.marked("custom label")
def other():
    pass

assert work(21) == 42
other()
try:
    with memtide.mark("failing"):
        raise ValueError
except ValueError:
    pass
print(os.getpid())
"""


@pytest.fixture
def penv(env):
    return dict(env, PYTHONPATH=PYTHONPATH)


def marks(db):
    return q(db, "SELECT label, start, end, level, pid FROM marks ORDER BY mark")


def test_python_markers_under_memtide_run(mt, db, tmp_path, penv):
    script = tmp_path / "nested.py"
    script.write_text(NESTED)
    rc, out, err = mt("run", "--db", db, "-T", "0.02", "-q", PY, script, env=penv)
    assert rc == 0, err
    pid = int(out)
    rows = marks(db)
    assert [(l, lv) for l, _, _, lv, _ in rows] == [
        ("outer", 0), ("inner", 1), ("half way", 1), ("__main__.work", 0),
        ("custom label", 0), ("failing", 0)]
    assert all(p == pid for *_, p in rows)
    started, ended = q(db, "SELECT started, ended FROM runs")[0]
    by = {l: (s, e) for l, s, e, _, _ in rows}
    for label, (s, e) in by.items():
        assert started <= s <= ended
        if label == "half way":
            assert e is None  # a moment
        else:
            assert e is not None and s <= e <= ended
    assert by["outer"][0] < by["inner"][0] < by["inner"][1] < by["outer"][1]
    assert 0.015 < by["__main__.work"][1] - by["__main__.work"][0] < 1


def test_markers_work_with_python_m(mt, db, tmp_path, penv):
    pkg = tmp_path / "app"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "__main__.py").write_text(
        "import memtide\n"
        "@memtide.marked\n"
        "def main():\n"
        "    with memtide.mark('step'):\n"
        "        pass\n"
        "main()\n")
    rc, _, err = mt("run", "--db", db, "-q", PY, "-m", "app", env=dict(
        penv, PYTHONPATH=f"{PYTHONPATH}:{tmp_path}"), cwd=tmp_path)
    assert rc == 0, err
    assert [(l, lv) for l, _, e, lv, _ in marks(db) if e] == [
        ("__main__.main", 0), ("step", 1)]


def test_module_is_silent_outside_memtide(tmp_path, penv):
    script = tmp_path / "nested.py"
    script.write_text(NESTED.replace("assert memtide.enabled()", ""))
    for extra in ({}, {"MEMTIDE_MARK_SOCKET": str(tmp_path / "nobody.sock")}):
        env = {k: v for k, v in penv.items() if k != "MEMTIDE_MARK_SOCKET"}
        env.update(extra)
        p = subprocess.run([PY, str(script)], env=env, capture_output=True,
                           timeout=30)
        assert p.returncode == 0 and p.stderr == b""
        assert p.stdout.strip().isdigit()


def test_memtide_mark_inside_a_run(mt, memtide, db, tmp_path, penv):
    """memtide mark from a shell script that memtide run records."""
    script = tmp_path / "job.sh"
    script.write_text(f"""#!/bin/sh
{memtide} mark "phase one"
sleep 0.1
{memtide} mark "phase one" --end
{memtide} mark "checkpoint"
""")
    script.chmod(0o755)
    rc, _, err = mt("run", "--db", db, "-T", "0.02", "-q", script, env=penv)
    assert rc == 0, err
    rows = marks(db)
    assert [r[0] for r in rows] == ["phase one", "checkpoint"]
    s, e = rows[0][1], rows[0][2]
    assert e is not None and 0.05 < e - s < 2
    assert rows[1][2] is None


def test_memtide_mark_into_the_database(mt, db, penv):
    rc, _, err = mt("run", "--db", db, "-q", "/bin/sleep", "0.05")
    assert rc == 0, err
    rc, _, err = mt("run", "--db", db, "-q", "/bin/sleep", "0.05")
    assert rc == 0, err
    assert mt("mark", "--db", db, "deploy")[0] == 0
    assert mt("mark", "--db", db, "--run", "1", "first")[0] == 0
    assert mt("mark", "--db", db, "--run", "1", "first", "--end")[0] == 0
    assert q(db, "SELECT run, label, end IS NULL FROM marks ORDER BY mark") == [
        (2, "deploy", 1), (1, "first", 0)]
    rc, _, err = mt("mark", "--db", db, "first", "--end")
    assert rc == 1 and err == "memtide: run 2 has no marker 'first' without an end\n"
    rc, _, err = mt("mark", "--db", db, "--run", "9", "x")
    assert rc == 1 and "no run 9" in err
    rc, _, err = mt("mark", "--db", db)
    assert rc == 2 and "mark needs a label" in err
    # rm takes a run's markers with it.
    assert mt("rm", "--db", db, "1")[0] == 0
    assert q1(db, "SELECT count(*) FROM mark") == 1


def test_markers_are_exported_as_func_lines(mt, db, tmp_path, penv):
    script = tmp_path / "nested.py"
    script.write_text(NESTED)
    rc, _, err = mt("run", "--db", db, "-T", "0.02", "-q", PY, script, env=penv)
    assert rc == 0, err
    rc, out, err = mt("export", "--db", db, "--format", "mprof")
    assert rc == 0, err
    funcs = [l.split() for l in out.splitlines() if l.startswith("FUNC ")]
    assert [f[1] for f in funcs] == ["outer", "inner", "half_way", "__main__.work",
                                     "custom_label", "failing"]
    assert all(len(f) == 7 and float(f[3]) <= float(f[5]) for f in funcs)
    assert [f[6] for f in funcs] == ["0", "1", "1", "0", "0", "0"]


def test_marker_reader_sleeps_until_a_marker(memtide, db, tmp_path, penv):
    script = tmp_path / "idle.py"
    script.write_text("import time, memtide\ntime.sleep(1)\nmemtide.moment('late')\n"
                      "time.sleep(1)\n")
    rc, calls = syscalls([memtide, "run", "--db", db, "-T", "0.5", "-q", PY, script],
                         tmp_path, env=penv)
    assert rc == 0, calls
    assert [l for l, *_ in marks(db)] == ["late"]
    # The thread reading the marker socket wakes for the marker and for the
    # end of the run, not ten times a second to look for them.
    assert calls.get("poll", 0) + calls.get("ppoll", 0) <= 5, calls
