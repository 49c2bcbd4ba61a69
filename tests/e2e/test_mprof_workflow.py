"""mprof's workflow under memtide: @profile scripts, .dat files read in place,
exports that mprof reads, relative run indices, and markers' own memory.

Real mprof (Debian's python3-memory-profiler) runs beside memtide on the same
scripts: scripts in programs/mprof_style/ are written in the style of
memory_profiler's upstream test/ and examples/ scripts."""
import glob
import os
import re
import subprocess
from pathlib import Path

import pytest

from conftest import MiB, PY, PROGRAMS, q, q1

MPROF = "/usr/bin/python3-mprof"
# Debian's python3-memory-profiler ships some of memory_profiler's examples
# (the others need numpy, scipy or minutes): they run as they are.
DEBIAN = [p for p in (Path("/usr/share/doc/python3-memory-profiler/examples") / n
                      for n in ("example.py", "example_undecorated.py")) if p.exists()]
STYLE = sorted((PROGRAMS / "mprof_style").glob("*.py")) + DEBIAN
FIX = Path(__file__).resolve().parent.parent / "fixtures" / "mprof"


def path_env(env):
    """A bare script.py runs under the python3 first on PATH: make it the
    system one, which has memory_profiler, as mprof's sys.executable is."""
    e = dict(env)
    e["PATH"] = "/usr/bin:" + e.get("PATH", "")
    return e


def funcs(dat):
    """The FUNC lines of an mprof file as (name, level), in start order."""
    rows = []
    for line in Path(dat).read_text().splitlines():
        if line.startswith("FUNC "):
            f = line.split()
            rows.append((float(f[3]), int(f[6]), f[1]))
    return [(name, level) for _, level, name in sorted(rows)]


def mprof(*args, cwd, env):
    return subprocess.run([PY, MPROF, *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("script", STYLE, ids=[("debian_" if s in DEBIAN else "") + s.stem
                                               for s in STYLE])
def test_profile_scripts_bracket_as_under_mprof(mt, env, tmp_path, script):
    env = path_env(env)
    m = mprof("run", "-T", "0.05", "-o", tmp_path / "m.dat", script, cwd=tmp_path,
              env=env)
    assert m.returncode == 0, m.stderr
    rc, _, err = mt("run", "-q", "--db", tmp_path / "t.db", "-T", "0.05", "-o",
                    tmp_path / "t.dat", script, env=env, cwd=tmp_path)
    assert rc == 0, err
    assert "NameError" not in err
    assert funcs(tmp_path / "t.dat") == funcs(tmp_path / "m.dat")


def test_marker_values_are_the_senders_own_at_its_ends(mt, env, tmp_path):
    """A span shorter than the interval: its start, end and peak are exact,
    and the export's FUNC line ends at the memory the function returned
    with, not at the sample before."""
    script = tmp_path / "spans.py"
    script.write_text(
        "import time\n"
        "def rss():\n"
        "    for l in open('/proc/self/status'):\n"
        "        if l.startswith('VmRSS:'):\n"
        "            return int(l.split()[1]) * 1024\n"
        "@profile\n"
        "def outer():\n"
        "    a = bytearray(64 << 20)\n"
        "    for i in range(0, len(a), 4096):\n"
        "        a[i] = 1\n"
        "    del a\n"
        "time.sleep(0.3)\n"
        "outer()\n"
        "print(rss())\n")
    rc, out, err = mt("run", "-q", "--db", tmp_path / "t.db", "-T", "2",
                      "-o", tmp_path / "t.dat", script, env=path_env(env))
    assert rc == 0, err
    after = int(out.split()[-1])
    start, end, peak, t0, t1 = q(tmp_path / "t.db",
                                 "SELECT mem_start, mem_end, mem_peak, start, end"
                                 " FROM marks WHERE label = '__main__.outer'")[0]
    assert t1 - t0 < 2  # shorter than the interval
    assert peak >= start + 64 * MiB
    assert abs(end - after) < 2 * MiB
    line = [x for x in (tmp_path / "t.dat").read_text().splitlines()
            if x.startswith("FUNC")][0].split()
    assert abs(float(line[4]) * MiB - after) < 2 * MiB
    rc, out, err = mt("peak", "--db", tmp_path / "t.db", "--func", "__main__.outer")
    assert rc == 0, err
    got = re.search(r"__main__\.outer\t1 call\tpeak ([\d.]+) MiB", out)
    assert got and abs(float(got.group(1)) * MiB - peak) < 0.1 * MiB, out


def test_import_memtide_in_any_interpreter(mt, env, tmp_path):
    """The oldest pyenv CPython, where memtide is not installed."""
    pys = sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.8*/bin/python3")))
    if not pys:
        pytest.fail("no CPython 3.8 under ~/.pyenv/versions")
    code = ("import memtide\n"
            "with memtide.mark('in 3.8'):\n"
            "    b = bytearray(8 << 20)\n")
    rc, _, err = mt("run", "-q", "--db", tmp_path / "t.db", "--", pys[0], "-c", code)
    assert rc == 0, err
    label, start, peak = q(tmp_path / "t.db",
                           "SELECT label, mem_start, mem_peak FROM marks")[0]
    assert label == "in 3.8" and peak >= start + 8 * MiB


def test_python_flag_runs_a_module_with_profile(mt, env, tmp_path):
    (tmp_path / "profmod.py").write_text(
        "@profile\ndef f():\n    return [0] * 1000\nf()\nf()\n")
    rc, _, err = mt("run", "-q", "--db", tmp_path / "t.db", "--python", "profmod",
                    env=path_env(env), cwd=tmp_path)
    assert rc == 0, err
    assert q(tmp_path / "t.db", "SELECT label FROM marks") == [("__main__.f",)] * 2
    assert q1(tmp_path / "t.db", "SELECT command FROM runs") == "python3 -m profmod"


def real_dat(tmp_path, env, name="real.dat"):
    """A file written by a real 'mprof run -M -o' of a program with a child."""
    out = tmp_path / name
    m = mprof("run", "-M", "-T", "0.05", "-o", out, PY, PROGRAMS / "parent_children.py",
              "20", "30",
              cwd=tmp_path, env=env)
    assert m.returncode == 0, m.stderr
    return out


def test_dat_files_peaked_and_plotted_in_place(mt, env, tmp_path):
    dat = real_dat(tmp_path, env)
    db = tmp_path / "never.db"
    rc, out, err = mt("peak", "--db", db, dat, FIX / "real_python_markers.dat")
    assert rc == 0, err
    want = []
    for f in (dat, FIX / "real_python_markers.dat"):
        m = mprof("peak", f, cwd=tmp_path, env=env)
        assert m.returncode == 0, m.stderr
        want += m.stdout.splitlines()
    assert out.splitlines() == want
    assert any(line.startswith("  Child ") for line in want)
    png = tmp_path / "two.png"
    rc, _, err = mt("plot", "--db", db, dat, FIX / "real_python_markers.dat", "-o", png)
    assert rc == 0, err
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000
    # Without -o the chart is named for the file, in the current directory.
    rc, out, err = mt("plot", dat, cwd=tmp_path)
    assert rc == 0, err
    assert out.strip().endswith("real.png") and (tmp_path / "real.png").stat().st_size > 5000
    assert not db.exists()


def test_export_follows_the_name_and_mprof_plots_it(mt, env, tmp_path):
    db = tmp_path / "t.db"
    rc, _, err = mt("run", "-q", "--db", db, "-T", "0.05",
                    PROGRAMS / "mprof_style" / "nested.py", env=path_env(env))
    assert rc == 0, err
    rc, out, err = mt("export", "--db", db)
    assert rc == 0, err
    assert out.startswith("CMDLINE ") and "\nMEM " in out and "\nFUNC " in out
    (tmp_path / "x.dat").write_text(out)
    env2 = dict(env, MPLBACKEND="Agg")
    m = mprof("plot", "-o", tmp_path / "x.png", tmp_path / "x.dat", cwd=tmp_path, env=env2)
    assert m.returncode == 0, m.stderr
    assert (tmp_path / "x.png").stat().st_size > 5000
    rc, _, err = mt("export", "--db", db, "-o", tmp_path / "x.csv")
    assert rc == 0, err
    assert (tmp_path / "x.csv").read_text().startswith("run,pid,t,rss,cpu,threads")
    rc, _, err = mt("export", "--db", db, "1", "2")
    assert rc == 2 and "--format csv or json" in err


def test_relative_indices_count_from_the_last_run(mt, tmp_path):
    db = tmp_path / "t.db"
    for label in ("a", "b", "c"):
        rc, _, err = mt("run", "-q", "--db", db, "--label", label, "--", "/bin/true")
        assert rc == 0, err
    rc, out, err = mt("peak", "--db", db, "-1", "-3")
    assert rc == 0, err
    assert re.findall(r"^run (\d+)", out, re.M) == ["3", "1"]
    rc, out, err = mt("peak", "--db", db, "-4")
    assert rc == 1 and "fewer than 4 runs" in err
    rc, _, err = mt("plot", "--db", db, "-2", "-o", tmp_path / "b.png")
    assert rc == 0, err


def test_attach_by_name_as_mprof_refusing_an_ambiguous_one(mt, procs, tmp_path):
    name = "mtA%06d" % (os.getpid() % 1000000)
    exe = tmp_path / name
    exe.write_bytes(Path("/bin/sleep").read_bytes())
    exe.chmod(0o755)
    one = procs.start([exe, "30"])
    rc, _, err = mt("attach", name[2:], "-q", "-t", "0.3", "--db", tmp_path / "t.db")
    assert rc == 0, err
    assert q1(tmp_path / "t.db", "SELECT pid FROM processes") == one.pid
    # mprof's spelling: run --attach.
    rc, _, err = mt("run", "-q", "-t", "0.3", "--db", tmp_path / "t.db", "--attach", one.pid)
    assert rc == 0, err
    assert q(tmp_path / "t.db", "SELECT kind FROM runs") == [("attach",), ("attach",)]
    two = procs.start([exe, "30"])
    rc, out, err = mt("attach", name, "-t", "0.3", "--db", tmp_path / "u.db")
    assert rc == 2 and out == ""
    assert f"2 processes are named like '{name}': give a pid" in err
    assert str(one.pid) in err and str(two.pid) in err
    assert not (tmp_path / "u.db").exists()


def test_user_sitecustomize_still_runs_and_profile_only_for_scripts(mt, env, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    (other / "sitecustomize.py").write_text("import builtins\nbuiltins.OTHER = 42\n")
    e = dict(env, PYTHONPATH=str(other))
    code = "import builtins; print(builtins.OTHER, 'profile' in vars(builtins))"
    rc, out, err = mt("run", "-q", "--db", tmp_path / "t.db", "--", PY, "-c", code, env=e)
    assert rc == 0, err
    assert out.split() == ["42", "False"]


def test_a_flood_of_markers_is_kept_whole_and_never_waits_for_a_tick(mt, tmp_path):
    """The kernel queues 10 datagrams on a unix socket: read once a tick
    (here every 5 s), the sender would wait at every tenth marker (up to its
    0.2 s send timeout) and lose most of them."""
    code = ("import memtide\n"
            "for i in range(3000):\n"
            "    with memtide.mark('m%d' % (i % 7)):\n"
            "        pass\n")
    rc, _, err = mt("run", "-q", "-T", "5", "--db", tmp_path / "t.db", "--", PY, "-c", code,
                    timeout=60)
    assert rc == 0, err
    assert q(tmp_path / "t.db", "SELECT count(*), count(end), count(mem_peak),"
                                " count(DISTINCT label) FROM marks") == [(3000, 3000, 3000, 7)]
