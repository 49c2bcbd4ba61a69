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
import time

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
    rc, out, _ = mt("plot", "--help")
    assert rc == 0 and out.startswith("Usage: memtide plot [OPTION...] [RUN...]\n")
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
    # A day of history: per hour.
    db = tmp_path / "day.db"
    plotdb.daemon_history(db, hours=24, raw_hours=1, procs=[
        (4242, "celery worker", "/usr/bin/python3 -m celery worker", 100, 12)])
    svg = draw(plot, tmp_path / "d.svg", "--db", db, "--pid", 4242,
               "-s").read_text()
    label = trend_label(svg)
    m = re.fullmatch(r"trend \+([\d.]+) MiB/h", label)
    assert m and abs(float(m.group(1)) - 12) < 1.5, label


# --- daemon history ------------------------------------------------------------------

def gappy_history(path):
    """50 s of memtided history (ticks of 10 ms): app.py (pid 100, 0-20 s,
    100 MiB growing 1 MiB/s), its worker (101, 2-18 s, 80 MiB), ten tasks
    of 0.3 s at 150 MiB (200-209, one a second from 4 s), nothing matching
    app.py from 20 s to 32 s, then app.py again (300, 32-50 s, 60 MiB); and
    other.py (400, all along, 10 MiB).  Each process is sampled every 0.1 s.
    Markers: one from pid 100 at 10 s, one from pid 400 at 25 s."""
    con = plotdb.new_db(path)
    run = plotdb.add_run(con, "memtided", 0.01, started=T0, kind="daemon")

    def proc(pid, cmd, t0, t1, mib):
        p = plotdb.add_proc(con, run, pid, cmd, started=T0 + t0, ended=T0 + t1,
                            interval=0.1, first_tick=int(t0 * 100))
        plotdb.add_samples(con, p, ((k, mib(k / 100) * MiB, 1.0, 1) for k in
                                    range(int(t0 * 100), int(t1 * 100) + 1, 10)))
    proc(100, "/usr/bin/python3 app.py", 0, 20, lambda t: 100 + t)
    proc(101, "/usr/bin/python3 app.py --worker", 2, 18, lambda t: 80)
    for i in range(10):
        proc(200 + i, "/usr/bin/python3 app.py --task", 4 + i, 4.3 + i,
             lambda t: 150)
    proc(300, "/usr/bin/python3 app.py", 32, 50, lambda t: 60)
    proc(400, "/usr/bin/python3 other.py", 0, 50, lambda t: 10)
    for label, at, pid in (("app checkpoint", 10, 100), ("other checkpoint", 25, 400)):
        con.execute("INSERT INTO mark(run, label, start, level, pid)"
                    " VALUES (?, ?, ?, 0, ?)", (run, label, T0 + at, pid))
    plotdb.finish_run(con, run)
    con.execute("UPDATE run SET ended = ? WHERE id = ?", (T0 + 50, run))
    con.commit()
    con.close()


@pytest.fixture
def gappy(tmp_path):
    path = tmp_path / "gappy.db"
    gappy_history(path)
    return path


def subpaths(svg, colour, width_min):
    """The pieces (lists of (x, y)) of the stroked paths of a colour at
    least width_min wide: each M starts a piece."""
    out = []
    for m in re.finditer(r'<path (?:fill-rule="[^"]*" )?(?:fill="none" )?'
                         r'style="([^"]*)" d="([^"]*)"', svg):
        style, d = m.groups()
        rgb = re.search(r"stroke:rgb\(([\d.]+)%,([\d.]+)%,([\d.]+)%\)", style)
        w = re.search(r"stroke-width:([\d.]+)", style)
        if not rgb or not w or float(w.group(1)) < width_min or "dasharray" in style:
            continue
        if not near(tuple(round(float(v) * 2.55) for v in rgb.groups()), colour, 3):
            continue
        for piece in re.split(r"M ", d)[1:]:
            nums = [float(v) for v in re.findall(r"-?[\d.]+", piece)]
            out.append(list(zip(nums[0::2], nums[1::2])))
    return out


def x_of(svg):
    """Canvas x of a time of the gappy history (seconds since T0), from the
    positions of its 08:00:10 and 08:00:40 tick labels."""
    t = {text: float(a["x"]) for text, a in texts(svg)}
    a, b = t["08:00:10"], t["08:00:40"]
    return lambda s: a + (s - 10) * (b - a) / 30


INK = (0x1A, 0x1A, 0x1A)


def test_history_total_breaks_where_nothing_ran(plot, gappy, tmp_path):
    for args in ((), ("--stacked",), ("--top", "2"), ("--stacked", "--top", "1")):
        svg = draw(plot, tmp_path / "g.svg", "--db", gappy, "--match", "app.py",
                   *args).read_text()
        x = x_of(svg)
        pieces = subpaths(svg, INK, 2)
        assert pieces, args
        points = [p for piece in pieces for p in piece]
        # Drawn before the gap and after it ...
        assert any(px < x(19) for px, _ in points) and any(px > x(33) for px, _ in points)
        # ... and nothing in it: no point, and no segment across it.
        assert not [p for p in points if x(20.5) < p[0] < x(31.5)], args
        for piece in pieces:
            for (xa, _), (xb, _) in zip(piece, piece[1:]):
                assert not (xa < x(20.5) and xb > x(31.5)), args
        # No area in the gap either (not even "others").
        areas = area_fills(svg)
        if "--stacked" in args:
            bottom = max(y for _, y in areas)
            assert not [p for p in areas if x(20.5) < p[0] < x(31.5) and p[1] < bottom - 1]


def test_history_gap_across_the_split_of_a_large_read(plot, tmp_path):
    """60,000 samples are read in two halves on two threads; a 400 s gap
    holds the middle, where the later half starts with nothing alive."""
    db = tmp_path / "split.db"
    con = plotdb.new_db(db)
    run = plotdb.add_run(con, "memtided", 0.01, started=T0, kind="daemon")
    for pid, a, b in ((10, 0, 300), (11, 700, 1000)):
        p = plotdb.add_proc(con, run, pid, "/usr/bin/python3 batch.py", started=T0 + a,
                            ended=T0 + b, interval=0.01, first_tick=a * 100)
        plotdb.add_samples(con, p, ((k, (50 + k % 7) * MiB, 1.0, 1)
                                    for k in range(a * 100, b * 100)))
    plotdb.finish_run(con, run)
    con.commit()
    con.close()
    svg = draw(plot, tmp_path / "s.svg", "--db", db, "--match", "batch").read_text()
    pieces = [p for p in subpaths(svg, INK, 2) if len(p) > 2]
    assert len(pieces) == 2, [(p[0], p[-1]) for p in pieces]


def test_real_daemon_history_breaks_across_a_gap(memtided, plot, procs, env, tmp_path):
    """memtided records two runs of a program 3 s apart; the chart of
    their history has two pieces of total, none across the gap."""
    from conftest import PY, prog, wait_for
    from test_daemon import Daemon
    import uuid
    tag = uuid.uuid4().hex[:8]
    d = Daemon(memtided, tmp_path, procs, env, f"""\
[track "t"]
cmdline = gap-{tag}
interval = 50ms
""").start()
    for _ in range(2):
        p = procs.start([PY, prog("alloc_hold.py"), 30, 1.0, f"gap-{tag}"],
                        stdout=subprocess.DEVNULL)
        p.wait(timeout=30)
        time.sleep(3)
    assert d.stop() == 0
    ended = d.rows("SELECT count(*) FROM proc WHERE cmdline LIKE ?", (f"%gap-{tag}%",))
    assert ended[0][0] == 2
    svg = draw(plot, tmp_path / "h.svg", "--db", d.db, "--match", f"gap-{tag}").read_text()
    pieces = [p for p in subpaths(svg, INK, 2) if len(p) > 2]
    assert len(pieces) == 2, pieces
    first, second = sorted(pieces)
    # The gap is 3 s of a window of about 6: hundreds of units wide.
    assert second[0][0] - first[-1][0] > 200


def test_top_n_ranks_by_memory_times_time(plot, gappy, tmp_path):
    svg = draw(plot, tmp_path / "t.svg", "--db", gappy, "--match", "app.py",
               "--top", "2").read_text()
    legend = [t for t in words(svg) if re.match(r"\d+ python3|others|total", t)]
    # app.py and its worker held 100+ and 80 MiB for 20 and 16 s; the tasks
    # peaked higher (150 MiB) for 0.3 s each.
    assert legend == ["total (13 processes)", "100 python3 app.py",
                      "101 python3 app.py --worker", "others (11 processes)"], legend


def test_history_shows_only_the_markers_of_the_processes_drawn(plot, gappy, tmp_path):
    svg = draw(plot, tmp_path / "m.svg", "--db", gappy, "--match", "app.py").read_text()
    assert "app checkpoint" in words(svg)
    assert "other checkpoint" not in words(svg)
    svg = draw(plot, tmp_path / "o.svg", "--db", gappy, "--match", "other").read_text()
    assert "other checkpoint" in words(svg) and "app checkpoint" not in words(svg)
    # Everything drawn: both.
    svg = draw(plot, tmp_path / "a.svg", "--db", gappy, "--since",
               "2026-11-20T08:00Z", "--until", "2026-11-20T08:01Z").read_text()
    assert {"app checkpoint", "other checkpoint"} <= set(words(svg))


def area_fills(svg):
    """The points of the opaque filled paths in palette colours or grey:
    the stacked areas."""
    out = []
    for m in re.finditer(r'<path (?:fill-rule="[^"]*" )?style="([^"]*)" d="([^"]*)"', svg):
        style, d = m.groups()
        rgb = re.search(r"fill:rgb\(([\d.]+)%,([\d.]+)%,([\d.]+)%\)", style)
        if not rgb or "fill-opacity:1" not in style:
            continue
        c = tuple(round(float(v) * 2.55) for v in rgb.groups())
        if max(c) - min(c) < 8 and c != (0xA0, 0xA0, 0xA0):
            continue  # background, panels
        nums = [float(v) for v in re.findall(r"-?[\d.]+", d)]
        out += list(zip(nums[0::2], nums[1::2]))
    return out


def test_stacked_areas_add_up_to_the_total(plot, tmp_path):
    """Ten minutes of a 100 MiB service and 0.3-second tasks of 150 MiB,
    one every 0.4 s: the total never passes 250 MiB, and at 1200 pixels
    a column of 0.5 s holds two tasks.  Counted whole, they stacked to
    400 MiB."""
    db = tmp_path / "tasks.db"
    con = plotdb.new_db(db)
    run = plotdb.add_run(con, "memtided", 0.01, started=T0, kind="daemon")
    p = plotdb.add_proc(con, run, 100, "/usr/bin/python3 svc.py", started=T0,
                        ended=T0 + 600, interval=0.1)
    plotdb.add_samples(con, p, ((k, 100 * MiB, 1.0, 1) for k in range(0, 60001, 10)))
    for i in range(1400):
        t0 = 10 + 0.4 * i
        p = plotdb.add_proc(con, run, 1000 + i, "/usr/bin/python3 svc.py --task",
                            started=T0 + t0, interval=0.1, first_tick=int(t0 * 100))
        plotdb.add_samples(con, p, ((k, 150 * MiB, 1.0, 1) for k in
                                    range(int(round(t0 * 100)), int(round(t0 * 100)) + 21, 10)))
    plotdb.finish_run(con, run)
    con.commit()
    con.close()
    svg = draw(plot, tmp_path / "s.svg", "--db", db, "--match", "svc",
               "--stacked").read_text()
    assert "peak 250.0 MiB" in words(svg)
    # The legend's line sample is a piece of two points.
    line = [p for piece in subpaths(svg, INK, 2) if len(piece) > 2 for p in piece]
    areas = area_fills(svg)
    assert line and areas
    # The highest area reaches the line and no further (y grows downwards).
    assert min(y for _, y in areas) >= min(y for _, y in line) - 0.5
    assert min(y for _, y in areas) <= min(y for _, y in line) + 2


# --- themes, sizes, overlays -------------------------------------------------------

def hue(rgb):
    r, g, b = (v / 255 for v in rgb)
    hi, lo = max(r, g, b), min(r, g, b)
    if hi == lo:
        return None
    if hi == r:
        h = (g - b) / (hi - lo)
    elif hi == g:
        h = 2 + (b - r) / (hi - lo)
    else:
        h = 4 + (r - g) / (hi - lo)
    return (h * 60) % 360


def line_colours(svg):
    """The colours of the lines, each once, in the order they are first
    drawn (the processes, in their order)."""
    out = []
    for c, _, _ in svg_series(svg):
        if max(c) - min(c) > 40 and c not in out:
            out.append(c)
    return out


def test_dark_theme_keeps_each_series_colour(plot, tmp_path):
    db = tmp_path / "w.db"
    plotdb.workers_run(db, nworkers=5)
    light = line_colours(draw(plot, tmp_path / "l.svg", "--db", db).read_text())
    dark = line_colours(draw(plot, tmp_path / "d.svg", "--db", db,
                             "--theme", "dark").read_text())
    assert len(light) == len(dark) == 6
    for a, b in zip(light, dark):
        d = abs(hue(a) - hue(b))
        assert min(d, 360 - d) < 10, (a, b)
    # Still six colours apart from each other on the dark background.
    assert len(set(dark)) == 6


def test_text_is_readable_on_a_small_canvas(plot, tmp_path):
    db = tmp_path / "w.db"
    plotdb.workers_run(db)
    for args in ((), ("--panels", "mem,cpu,threads", "-f", "-s")):
        svg = draw(plot, tmp_path / "s.svg", "--db", db, "--size", "480x320",
                   *args).read_text()
        sizes = {t: float(a["font-size"]) for t, a in texts(svg)}
        assert min(sizes.values()) >= 9, sorted(sizes.items(), key=lambda kv: kv[1])[:3]
        # The tick labels: 11 units, digits 8 pixels tall.
        assert sizes["0"] >= 11
        # Nothing shortened to an ellipsis alone.
        assert not [t for t in sizes if t.strip("\u2026\u22ee ") == ""], sizes


def test_overlays_tell_runs_apart(plot, tmp_path):
    db = tmp_path / "o.db"
    con = plotdb.new_db(db)
    runs = [plotdb.add_run(con, "python3 -m dsjob.crunch", 0.1, started=T0 + 300 * i,
                           label="nightly" if i == 2 else None) for i in range(3)]
    for i, run in enumerate(runs):
        proc = plotdb.add_proc(con, run, 10 + i, "python3 -m dsjob.crunch")
        plotdb.add_samples(con, proc, ((t, (50 + 10 * i + t / 10) * MiB, 1.0, 1)
                                       for t in range(100)))
        plotdb.finish_run(con, run)
    con.commit()
    con.close()
    svg = draw(plot, tmp_path / "o.svg", "--db", db, *runs).read_text()
    w = words(svg)
    assert "run 1, 11-20 08:00:00: python3 -m dsjob.crunch" in w
    assert "run 2, 11-20 08:05:00: python3 -m dsjob.crunch" in w
    assert "nightly (run 3)" in w


# --- panels -------------------------------------------------------------------------

def test_panels_legend_leaves_no_empty_strip(plot, tmp_path):
    db = tmp_path / "w.db"
    plotdb.workers_run(db)
    svg = draw(plot, tmp_path / "p.svg", "--db", db, "--panels", "mem,cpu",
               "-s").read_text()
    t = {text: a for text, a in texts(svg)}
    # Every name whole ...
    for name in ("total (4 processes)", "100 python3 train.py",
                 "103 python3 train.py --worker 2"):
        assert name in t, sorted(t)
    # ... and the plots as wide as the canvas: the time axis' title sits in
    # its middle, not left of it beside a legend.
    assert abs(float(t["time since start (s)"]["x"]) - 600) < 40
    # Above the memory plot, under the title.
    assert float(t["train: /usr/bin/python3 train.py --workers 3"]["y"]) < \
        float(t["total (4 processes)"]["y"]) < float(t["100"]["y"])


def test_flame_axis_title_is_a_word(plot, tmp_path):
    """One level of spans: the flame panel is one row, too short for its
    title, which became a lone ellipsis (a "⋮" once turned)."""
    db = tmp_path / "f.db"
    con = plotdb.new_db(db)
    run = plotdb.add_run(con, "python3 job.py", 0.01)
    proc = plotdb.add_proc(con, run, 5, "python3 job.py")
    plotdb.add_samples(con, proc, ((t, (50 + t / 100) * MiB, 1.0, 1) for t in range(3000)))
    plotdb.add_mark(con, run, "load", T0 + 2, T0 + 10)
    plotdb.add_mark(con, run, "train", T0 + 12, T0 + 28)
    plotdb.finish_run(con, run)
    con.commit()
    con.close()
    for size in ("1200x600", "480x320"):
        svg = draw(plot, tmp_path / "f.svg", "--db", db, "-f", "--size", size).read_text()
        vertical = [t for t, a in texts(svg) if "transform" in a]
        assert "calls" in vertical, vertical
        assert not [t for t in words(svg) if t.strip("\u2026") == ""]


# --- hundreds of markers -------------------------------------------------------------

def pytest_run(path, ntests=417, spike_at=250, leak_at=100):
    """A pytest run (ticks of 10 ms) of ntests tests one after another, 0.1 s
    each but every seventh 30 ms, 10 ms apart; memory 60 MiB, creeping up
    0.05 MiB/s; test_spike rises 300 MiB and falls back, test_leak keeps
    40 MiB.  Returns the spans {name: (start, end)} (seconds)."""
    con = plotdb.new_db(path)
    run = plotdb.add_run(con, "python3 -m pytest tests/", 0.01)
    proc = plotdb.add_proc(con, run, 77, "python3 -m pytest tests/")
    spans, tick = {}, 0
    for i in range(ntests):
        ticks = 3 if i % 7 == 3 else 10
        name = ("test_spike" if i == spike_at else "test_leak" if i == leak_at
                else "test_case_%03d" % i)
        spans[name] = (tick, tick + ticks)
        tick += ticks + 1
    spike, leak = spans["test_spike"], spans["test_leak"]

    def rss(k):
        v = 60 + k / 2000
        if spike[0] <= k <= spike[1]:
            v += 300
        v += 40 * min(1, max(0, (k - leak[0]) / (leak[1] - leak[0])))
        return v * MiB
    plotdb.add_samples(con, proc, ((k, rss(k), 1.0, 1) for k in range(tick + 5)))
    for name, (a, b) in spans.items():
        plotdb.add_mark(con, run, name, T0 + a / 100, T0 + b / 100)
    plotdb.finish_run(con, run)
    con.commit()
    con.close()
    return {n: (a / 100, b / 100) for n, (a, b) in spans.items()}


def brackets(svg):
    """The span brackets of an SVG: 4-point paths up, across, down."""
    out = []
    for m in re.finditer(r'<path [^>]*d="M ([-\d.]+) ([-\d.]+) L ([-\d.]+) ([-\d.]+) '
                         r'L ([-\d.]+) ([-\d.]+) L ([-\d.]+) ([-\d.]+) "', svg):
        x0, y0, x1, y1, x2, y2, x3, y3 = map(float, m.groups())
        if x0 == x1 and y1 == y2 and x2 == x3 and y0 == y3 and y1 < y0:
            out.append((x1, x2))
    return out


def test_hundreds_of_markers_label_the_ones_that_matter(plot, tmp_path):
    db = tmp_path / "pytest.db"
    pytest_run(db)
    for size in ("1200x600", "480x320"):
        svg = draw(plot, tmp_path / "t.svg", "--db", db, "--size", size).read_text()
        w = words(svg)
        # The test that peaked most and the one that grew most, and no
        # others: the rest are ticks along the top.
        assert "test_spike" in w and "test_leak" in w, size
        assert not [t for t in w if t.startswith("test_case")], size
        ticks = re.findall(r'd="M ([\d.]+) ([\d.]+) L \1 ([\d.]+) "', svg)
        assert len([1 for x, a, b in ticks if 4 < float(b) - float(a) < 7]) >= 400, size
        # No bracket a few units wide, a stray glyph.
        assert all(b - a >= 2 for a, b in brackets(svg)), brackets(svg)
    # Where the spike's test comes late among hundreds, the same.
    db = tmp_path / "late.db"
    pytest_run(db, spike_at=400, leak_at=30)
    w = words(draw(plot, tmp_path / "l.svg", "--db", db).read_text())
    assert {"test_spike", "test_leak"} <= set(w)
    # A few: every one labelled, in time order; a 30 ms one pinned, not
    # bracketed.
    db = tmp_path / "few.db"
    pytest_run(db, ntests=8, spike_at=5, leak_at=1)
    svg = draw(plot, tmp_path / "f.svg", "--db", db, "--size", "480x320").read_text()
    w = words(svg)
    assert all(n in w for n in ("test_case_000", "test_leak", "test_case_003",
                                "test_spike")), w
    assert all(b - a >= 2 for a, b in brackets(svg))


def test_stacked_mprof_C_M_file_counts_its_child_once(mt, plot, tmp_path):
    """mprof run -C -M: MEM already holds the child, which is a line over
    the parent's area, not a layer on it: the areas top out at MEM's
    peak, as the total does."""
    from pathlib import Path
    db = tmp_path / "cm.db"
    f = Path(__file__).resolve().parents[1] / "fixtures" / "mprof" / "parent_child_CM.dat"
    rc, _, err = mt("import", "--db", db, f)
    assert rc == 0, err
    top = max(float(l.split()[1]) for l in f.read_text().splitlines() if l.startswith("MEM "))
    svg = draw(plot, tmp_path / "s.svg", "--db", db, "--stacked").read_text()
    assert "peak %.1f MiB" % top in words(svg)
    line = [p for piece in subpaths(svg, INK, 2) if len(piece) > 2 for p in piece]
    areas = area_fills(svg)
    mib = mib_of_y(svg)
    assert abs(mib(min(y for _, y in line)) - top) < 5, mib(min(y for _, y in line))
    assert abs(mib(min(y for _, y in areas)) - top) < 5, mib(min(y for _, y in areas))


def mib_of_y(svg):
    """The MiB at a canvas y of a memory axis, from its tick labels (their
    baselines sit a little under the ticks: within a few MiB)."""
    ticks = {float(a["y"]): float(t) for t, a in texts(svg)
             if re.fullmatch(r"\d+", t) and a.get("text-anchor") == "end"}
    (y0, v0), (y1, v1) = max(ticks.items()), min(ticks.items())
    return lambda y: v0 + (y - y0) * (v1 - v0) / (y1 - y0)
