"""memtide import and export: mprof files in and out, exactly; CSV and JSON.

The mprof side is the real thing: files written by Debian's python3-mprof,
and exports drawn and read by python3-mprof itself."""
import csv
import io
import json
import shutil
import subprocess
import sys

import pytest

from conftest import HERE, MiB, PY, prog, q, q1

FIX = HERE.parent / "fixtures" / "mprof"
MPROF = "/usr/bin/python3-mprof"
sys.path.insert(0, "/usr/lib/python3/dist-packages")


def mprof_read(path):
    """The file as mprof's own reader sees it."""
    import mprof
    return mprof.read_mprofile_file(str(path))


def export(mt, db, *args):
    rc, out, err = mt("export", "--db", db, *args)
    assert rc == 0, err
    return out


def test_canonical_file_comes_back_byte_for_byte(mt, db, tmp_path):
    rc, out, err = mt("import", "--db", db, FIX / "canonical.dat")
    assert rc == 0, err
    assert "run 1, 10 samples, 3 processes, 3 markers" in out
    got = tmp_path / "out.dat"
    export(mt, db, "1", "--format", "mprof", "-o", got)
    assert got.read_bytes() == (FIX / "canonical.dat").read_bytes()
    # What SQL sees: bytes, times, the CMDLINE as the command, markers.
    assert q1(db, "SELECT command FROM runs") == \
        "/usr/bin/python3 train.py --epochs 2 --name 'a b'"
    assert q1(db, "SELECT kind FROM runs") == "import"
    assert q(db, "SELECT pid, rss FROM samples WHERE t BETWEEN 1713264000.1 AND 1713264000.11") \
        == [(0, round(9.882812 * MiB))]
    assert q1(db, "SELECT peak_rss FROM runs") == round(1234567.999999 * MiB)
    assert q(db, "SELECT label, level, mem_start FROM marks ORDER BY start") == [
        ("__main__.load_data", 0, round(9.9023 * MiB)),
        ("__main__.parse", 1, 10 * MiB),
        ("legacy.func", -1, 10 * MiB)]


def test_lines_in_any_order_and_blank_lines(mt, db):
    rc, _, err = mt("import", "--db", db, FIX / "shuffled.dat")
    assert rc == 0, err
    assert export(mt, db, "--format", "mprof") == (FIX / "canonical.dat").read_text()


@pytest.mark.parametrize("name", ["real_python_markers.dat", "real_multiprocess.dat"])
def test_files_written_by_real_mprof(mt, db, tmp_path, name):
    """mprof's own line order (CMDLINE last, FUNC among MEM) is not kept, every
    line is, byte for byte."""
    src = (FIX / name).read_text()
    rc, _, err = mt("import", "--db", db, FIX / name)
    assert rc == 0, err
    out = export(mt, db, "--format", "mprof")
    assert sorted(out.splitlines()) == sorted(src.splitlines())
    assert out.startswith("CMDLINE ")


def test_file_from_a_live_mprof_run(mt, db, tmp_path):
    dat = tmp_path / "live.dat"
    subprocess.run([MPROF, "run", "-M", "-T", "0.02", "-o", str(dat),
                    prog("parent_children.py"), "8", "12"],
                   check=True, capture_output=True, cwd=tmp_path, timeout=60)
    src = dat.read_text()
    assert "CHLD " in src
    rc, _, err = mt("import", "--db", db, dat)
    assert rc == 0, err
    assert sorted(export(mt, db, "--format", "mprof").splitlines()) == \
        sorted(src.splitlines())
    # Each child is a process of the run, MEM the one with pid 0.
    pids = {int(l.split()[1]) for l in src.splitlines() if l.startswith("CHLD")}
    assert {p for (p,) in q(db, "SELECT pid FROM processes")} == pids | {0}


def test_mprof_plot_draws_a_recorded_run(mt, db, tmp_path, env):
    """A run memtide recorded, with children and a marker, exported for mprof:
    mprof reads the same MEM totals and draws it."""
    rc, _, err = mt("run", "--db", db, "-C", "-T", "0.05", "-q", PY,
                    prog("parent_children.py"), "10", "20")
    assert rc == 0, err
    rc, _, err = mt("mark", "--db", db, "after the fact")
    assert rc == 0, err
    dat = tmp_path / "run.dat"
    export(mt, db, "-o", dat)  # .dat: mprof format
    data = mprof_read(dat)
    totals = q(db, "SELECT tick, sum(rss) FROM samples GROUP BY tick ORDER BY tick")
    assert [round(m, 6) for m in data["mem_usage"]] == \
        [float("%.6f" % (r / MiB)) for _, r in totals]
    started = q1(db, "SELECT started FROM runs")
    assert data["timestamp"][0] == pytest.approx(started, abs=1e-4)
    assert len(data["children"]) == q1(db, "SELECT count(*) - 1 FROM processes")
    assert list(data["func_timestamp"]) == ["after_the_fact"]
    png = tmp_path / "run.png"
    subprocess.run([MPROF, "plot", "-o", str(png), str(dat)], check=True,
                   capture_output=True, timeout=120, cwd=tmp_path)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10000


def test_malformed_line_imports_nothing_of_that_file(mt, db, tmp_path):
    bad = tmp_path / "bad.dat"
    bad.write_text("CMDLINE x\nMEM 1.0 100.0\nMEM 2.0 1OO.1\nMEM 3.0 100.2\n")
    rc, out, err = mt("import", "--db", db, FIX / "canonical.dat", bad)
    assert rc == 1
    assert err == f"memtide: {bad}:3: bad time\n"
    assert q1(db, "SELECT count(*) FROM runs") == 1  # canonical.dat only
    assert q1(db, "SELECT count(*) FROM sample") == 10
    for text, line, why in [("MEM 1.0 2.0\nFROB 1 2 3 4\n", 2, "unknown line"),
                            ("FUNC f 1.0 2.0 1.0\n", 1, "bad or missing exit time"),
                            ("CHLD 12 1.0\n", 1, "missing time")]:
        bad.write_text(text)
        rc, _, err = mt("import", "--db", db, bad)
        assert rc == 1 and err.startswith(f"memtide: {bad}:{line}: {why}"), err
    assert q1(db, "SELECT count(*) FROM runs") == 1


def test_files_without_samples_are_refused(mt, db, tmp_path):
    empty = tmp_path / "empty.dat"
    empty.write_text("CMDLINE python3 x.py\n")
    rc, _, err = mt("import", "--db", db, empty)
    assert rc == 1 and "no memory samples" in err
    rc, _, err = mt("import", "--db", db, tmp_path / "missing.dat")
    assert rc == 1 and "No such file" in err


def test_old_mprofile_files_with_their_ts_file(mt, db, tmp_path):
    """The 2013 format: untagged "<MiB> <time>" lines, and function times in
    mprofile_<stamp>_ts.dat, picked up like mprof plot did."""
    for f in FIX.glob("mprofile_*"):
        shutil.copy(f, tmp_path)
    ts = tmp_path / "mprofile_20130403174000_ts.dat"
    rc, _, err = mt("import", "--db", db, ts)
    assert rc == 1
    assert "old mprof timestamp file" in err and "import the .dat file" in err
    rc, out, err = mt("import", "--db", db, tmp_path / "mprofile_20130403174000.dat", ts)
    assert rc == 0, err
    assert "4 samples, 1 process, 2 markers (with its _ts.dat)" in out
    assert q(db, "SELECT label, start, end, level FROM marks ORDER BY start") == [
        ("__main__.load", 1365000000.2, 1365000001.1, -1),
        ("__main__.save", 1365000001.2, 1365000001.4, -1)]
    out = export(mt, db, "--format", "mprof")
    assert "MEM 20.250000 1365000001.0000\n" in out
    # Markers without memory take the MEM value of their moment.
    assert "FUNC __main__.load 4.1836 1365000000.2000 20.2500 1365000001.1000\n" in out


def test_samples_at_the_same_time_are_kept(mt, db, tmp_path):
    f = tmp_path / "dup.dat"
    text = "MEM 1.000000 100.0000\nMEM 2.000000 100.0000\nMEM 3.000000 100.0000\n" \
           "MEM 4.000000 100.0001\n"
    f.write_text(text)
    rc, _, err = mt("import", "--db", db, f)
    assert rc == 0, err
    assert export(mt, db, "--format", "mprof") == text
    f.write_text("MEM 1.0 100.0\n" * 6)
    rc, _, err = mt("import", "--db", db, f)
    assert rc == 1 and f"{f}:6: more than 5 samples" in err


def test_imported_runs_are_listed_plotted_and_exported(mt, db, tmp_path, build):
    rc, _, err = mt("import", "--db", db, "--label", "from mprof", FIX / "canonical.dat")
    assert rc == 0, err
    rc, out, _ = mt("list", "--db", db)
    assert "[from mprof]" in out and "train.py" in out
    png = tmp_path / "imp.png"
    rc, _, err = mt("plot", "--db", db, "-o", png)
    assert rc == 0, err
    assert png.stat().st_size > 5000
    rows = list(csv.reader(io.StringIO(export(mt, db, "--format", "csv"), newline="")))
    assert rows[0] == ["run", "pid", "t", "rss", "cpu", "threads"]
    assert len(rows) == 11
    assert rows[1][:4] == ["1", "0", "1713264000.102100", str(round(9.882812 * MiB))]
    doc = json.loads(export(mt, db, "--format", "json"))
    assert len(doc) == 1 and doc[0]["run"] == 1 and doc[0]["kind"] == "import"
    assert [p["pid"] for p in doc[0]["processes"]] == [0, 48211, 48212]
    assert doc[0]["processes"][1]["samples"]["rss"] == \
        [round(12.503906 * MiB), round(12.507812 * MiB)]
    assert [m["label"] for m in doc[0]["marks"]] == \
        ["__main__.load_data", "__main__.parse", "legacy.func"]


def test_export_usage_errors(mt, db):
    rc, _, err = mt("import", "--db", db, FIX / "canonical.dat")
    assert rc == 0
    rc, _, err = mt("export", "--db", db, "--format", "xml")
    assert rc == 2 and "unknown format 'xml'" in err
    rc, _, err = mt("export", "--db", db, "1", "1", "--format", "mprof")
    assert rc == 2 and "one run" in err
    rc, _, err = mt("export", "--db", db, "7")
    assert rc == 1 and "no run 7" in err


def test_v1_database_lists_queries_and_exports(mt, tmp_path):
    v1 = tmp_path / "v1.db"
    shutil.copy(HERE.parent / "fixtures" / "db" / "v1.db", v1)
    rc, out, err = mt("list", "--db", v1)
    assert rc == 0 and "bytearray(20<<20)" in out, err
    rc, out, err = mt("query", "--db", v1, "--json",
                      "SELECT run, count(*) AS n FROM samples GROUP BY run")
    assert rc == 0, err
    assert json.loads(out) == [{"run": 1, "n": 11}, {"run": 2, "n": 18}]
    rc, out, err = mt("export", "--db", v1, "2", "--format", "mprof")
    assert rc == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("CMDLINE /usr/bin/python3 -c")
    assert sum(l.startswith("MEM ") for l in lines) == q1(
        v1, "SELECT count(DISTINCT tick) FROM samples WHERE run = 2")
    assert any(l.startswith("CHLD ") for l in lines)  # the sleep child
