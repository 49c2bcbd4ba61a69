"""Charts you can trust (issue 12): the figures a chart prints and the
shapes it draws agree with the data, at any canvas size and theme.  Each
test fails on the charts as they were before: a trend that moved with the
canvas and was always per hour, a history total drawn across gaps, stacked
areas over their total, --top by peak, markers of processes not drawn,
overlays that read the same, text too small to read, labels lost among
hundreds of markers, and memtide plot's messages under another name.

Databases are written with plain SQL on lib/schema.c's schema (plotdb.py);
images are checked by what is in them: SVG <text> elements and paths, PNG
pixels."""
import re
import subprocess

import pytest

import plotdb
from plotdb import MiB, T0
from test_plot import near, pixels_of, png_read, svg_series
from test_plot_panels import texts, words


@pytest.fixture
def plot(plot_exe, env):
    """plot(*args) runs memtide-plot; returns (rc, stdout, stderr)."""
    def run(*args, exe=None):
        p = subprocess.run([str(exe or plot_exe), *map(str, args)],
                           env=dict(env, TZ="UTC"), stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=60)
        return p.returncode, p.stdout.decode(), p.stderr.decode()
    return run


def draw(plot, out, *args):
    rc, stdout, err = plot("-o", out, *args)
    assert rc == 0, err
    return out


def one_proc_run(path, seconds, interval, rss_of, command="python3 grow.py"):
    """A run of one process sampled every interval s for seconds s, its RSS
    rss_of(t) bytes.  Returns the run id."""
    con = plotdb.new_db(path)
    run = plotdb.add_run(con, command, interval)
    proc = plotdb.add_proc(con, run, 7, command)
    n = int(round(seconds / interval))
    plotdb.add_samples(con, proc, ((k, rss_of(k * interval), 1.0, 1)
                                   for k in range(n + 1)))
    plotdb.finish_run(con, run)
    con.commit()
    con.close()
    return run


# --- memtide plot's messages ---------------------------------------------------

def test_memtide_plot_speaks_as_memtide_plot(mt, plot, tmp_path):
    missing = tmp_path / "nowhere.db"
    rc, out, err = mt("plot", "--db", missing)
    assert rc == 1 and out == ""
    # Worded as memtide list words it, under the name the user typed.
    assert err == (f"memtide plot: cannot open database '{missing}': it does not"
                   " exist yet (record something with 'memtide run')\n")
    rc, _, list_err = mt("list", "--db", missing)
    assert rc == 1 and list_err.split(": ", 1)[1] == err.split(": ", 1)[1]
    assert not missing.exists()
    rc, _, err = mt("plot", "--theme", "blue")
    assert rc == 2 and err == "memtide plot: unknown theme 'blue' (use light or dark)\n"
    rc, _, err = mt("plot", "--bogus")
    assert rc == 2 and err.startswith("memtide plot: ") and \
        err.endswith("Try 'memtide plot --help'.\n")
    # memtide-plot run on its own keeps its own name.
    rc, _, err = plot("--db", missing)
    assert rc == 1 and err.startswith("memtide-plot: cannot open database")


# --- the trend ---------------------------------------------------------------------

def trend_label(svg):
    (label,) = [t for t in words(svg) if t.startswith("trend ")]
    return label


def test_trend_comes_from_the_data_not_the_canvas(plot, tmp_path):
    """35 s growing 2 MiB/s under a 6 MiB sawtooth every 5 s: the same rate
    at every canvas size, per second, near what the program did."""
    db = tmp_path / "fast.db"
    one_proc_run(db, 35, 0.01,
                 lambda t: (40 + 2 * t + 6 * ((t % 5) / 5)) * MiB)
    labels = set()
    for size in ("1200x600", "480x320", "2000x900", "777x333"):
        svg = draw(plot, tmp_path / f"t{size}.svg", "--db", db, "-s",
                   "--size", size).read_text()
        labels.add(trend_label(svg))
    assert len(labels) == 1, labels
    (label,) = labels
    m = re.fullmatch(r"trend \+([\d.]+) MiB/s", label)
    assert m, label
    assert abs(float(m.group(1)) - 2) < 0.1, label


def test_trend_of_a_day_is_per_hour(plot, tmp_path):
    db = tmp_path / "day.db"
    plotdb.daemon_history(db, hours=24, raw_hours=1, procs=[
        (4242, "celery worker", "/usr/bin/python3 -m celery worker", 100, 12)])
    svg = draw(plot, tmp_path / "d.svg", "--db", db, "--pid", 4242,
               "-s").read_text()
    label = trend_label(svg)
    m = re.fullmatch(r"trend \+([\d.]+) MiB/h", label)
    assert m and abs(float(m.group(1)) - 12) < 1.5, label
