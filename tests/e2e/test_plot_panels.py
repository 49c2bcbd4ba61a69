"""memtide-plot beyond one memory line: panels, metrics, stacked areas, the
top N, daemon history on a wall-clock axis (raw samples and rollups), the
trend, markers, flame bars, themes and resolution, and the errors of all of
that.  Databases are written with SQL inserts (plotdb.py); images are checked
by what is in them: the <text> elements and paths of the SVG, PNG pixels."""
import html
import re
import subprocess

import pytest

import plotdb
from plotdb import MiB, T0
from test_plot import BLUE, INK, VERMILLION, near, pixels_of, png_read, svg_series

BG_DARK = (0x1C, 0x1E, 0x22)
SKY = (0x56, 0xB4, 0xE9)  # the first series colour of the dark theme


@pytest.fixture
def plot(plot_exe, env):
    """plot(*args, tz="UTC") runs memtide-plot; returns (rc, stdout, stderr)."""
    def run(*args, tz="UTC"):
        e = dict(env, TZ=tz)
        p = subprocess.run([str(plot_exe), *map(str, args)], env=e,
                           stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=60)
        return p.returncode, p.stdout.decode(), p.stderr.decode()
    return run


def texts(svg):
    """The <text> elements of an SVG: [(text, attributes dict)]."""
    out = []
    for m in re.finditer(r"<text ([^>]*)>([^<]*)</text>", svg):
        attrs = dict(re.findall(r'([\w-]+)="([^"]*)"', m.group(1)))
        out.append((html.unescape(m.group(2)), attrs))
    return out


def words(svg):
    return [t for t, _ in texts(svg)]


def filled_paths(svg):
    """The fill colours (r, g, b) of the filled paths of an SVG."""
    out = []
    for m in re.finditer(r'<path [^>]*style="([^"]*)"', svg):
        style = m.group(1)
        rgb = re.search(r"fill:rgb\(([\d.]+)%,([\d.]+)%,([\d.]+)%\)", style)
        if rgb and "fill:none" not in style:
            out.append(tuple(round(float(v) * 2.55) for v in rgb.groups()))
    return out


@pytest.fixture
def workers(tmp_path):
    path = tmp_path / "workers.db"
    plotdb.workers_run(path)
    return path


@pytest.fixture
def history(tmp_path):
    """Three hours of memtided history, 08:00-11:00 UTC: rollups for the
    first two, raw samples (every second) for the last."""
    path = tmp_path / "history.db"
    plotdb.daemon_history(path)
    return path


def draw(plot, tmp_path, name, *args, tz="UTC"):
    out = tmp_path / name
    rc, stdout, err = plot("-o", out, *args, tz=tz)
    assert rc == 0, err
    assert stdout == f"{out}\n"
    return out


# --- panels -----------------------------------------------------------------

def test_panels_share_one_time_axis(plot, workers, tmp_path):
    svg = draw(plot, tmp_path, "p.svg", "--db", workers,
               "--panels", "mem,cpu,threads").read_text()
    w = words(svg)
    for title in ("resident memory (MiB)", "CPU (%)", "threads"):
        assert w.count(title) == 1, title
    # One time axis: its title and its labels once, under the last panel.
    assert w.count("time since start (s)") == 1
    assert w.count("28") == 1
    (_, axis), = [(t, a) for t, a in texts(svg) if t == "time since start (s)"]
    ys = {t: float(a["y"]) for t, a in texts(svg)
          if t in ("resident memory (MiB)", "CPU (%)", "threads")}
    assert ys["resident memory (MiB)"] < ys["CPU (%)"] < ys["threads"] < float(axis["y"])
    # The CPU of the four processes sums to 200 % and the threads to 9: the
    # panels' axes reach them.
    assert "200" in w and "9" in w or "10" in w


def test_panels_png_draws_each_panel(plot, workers, tmp_path):
    png = draw(plot, tmp_path, "p.png", "--db", workers, "--panels", "cpu,mem")
    w, h, rows = png_read(png)
    assert (w, h) == (1200, 600)
    ink = pixels_of(rows, INK)
    # The thick total line is in both halves of the canvas.
    assert any(y < 250 for _, y in ink) and any(y > 350 for _, y in ink)


def test_bad_panels(plot, workers, tmp_path):
    for bad in ("mem,mem", "disk", "", "mem,,cpu"):
        rc, _, err = plot("--db", workers, "-o", tmp_path / "x.png", "--panels", bad)
        assert rc == 2, bad
        assert err.startswith("memtide-plot: bad panels") and err.count("\n") == 1


# --- metrics, stacked, top N ---------------------------------------------------

def pss_peak(ticks=3000, nworkers=3):
    """The highest sum of PSS over the processes of plotdb.workers_run."""
    best = 0
    for t in range(0, ticks, 10):
        total = (30 + 20 * t / ticks) * MiB // 1024 * 1024
        for w in range(nworkers):
            if 200 + 100 * w <= t < ticks - 100 * w:
                total += (10 + 5 * w) * MiB
        best = max(best, total)
    return best


def test_metric_pss(plot, workers, tmp_path):
    svg = draw(plot, tmp_path, "pss.svg", "--db", workers, "--metric", "pss").read_text()
    w = words(svg)
    assert "proportional memory (PSS) (MiB)" in w
    assert "peak %.1f MiB" % (pss_peak() / MiB) in w


def test_metric_errors(plot, workers, tmp_path):
    rc, out, err = plot("--db", workers, "-o", tmp_path / "x.png", "--metric", "vms")
    assert (rc, out) == (2, "")
    assert err == "memtide-plot: unknown metric 'vms' (use rss, pss, uss or swap)\n"
    bare = tmp_path / "bare.db"
    plotdb.workers_run(bare, pss=False)
    rc, out, err = plot("--db", bare, "-o", tmp_path / "x.png", "--metric", "swap")
    assert (rc, out) == (1, "")
    assert err == ("memtide-plot: run 1 has no swap samples (record it with"
                   " --backend psutil_pss)\n")
    assert not (tmp_path / "x.png").exists()


def test_stacked_areas_sum_to_the_total(plot, workers, tmp_path):
    lines = draw(plot, tmp_path, "l.png", "--db", workers)
    areas = draw(plot, tmp_path, "a.png", "--db", workers, "--stacked")
    _, _, lrows = png_read(lines)
    _, h, arows = png_read(areas)
    # The main process (blue) is an area from the axis up to its line.
    assert len(pixels_of(arows, BLUE)) > 20 * len(pixels_of(lrows, BLUE))
    x = 600
    col = [y for y in range(h) if near(arows[y][x], BLUE)]
    assert max(col) - min(col) > 60 and max(col) > h - 60
    svg = draw(plot, tmp_path, "a.svg", "--db", workers, "--stacked").read_text()
    fills = filled_paths(svg)
    assert sum(near(f, BLUE, 3) for f in fills) >= 1
    assert sum(near(f, VERMILLION, 3) for f in fills) >= 1
    assert svg_series(svg)  # the total line stays on top


def test_top_n_and_others(plot, workers, tmp_path):
    svg = draw(plot, tmp_path, "top.svg", "--db", workers, "--top", "2").read_text()
    w = words(svg)
    # By peak: main (60 MiB) and worker 2 (40 MiB); the rest are "others".
    assert "100 python3 train.py" in w
    assert "103 python3 train.py --worker 2" in w
    assert "others (2 processes)" in w
    assert not any("--worker 0" in t or "--worker 1" in t for t in w)
    for bad in ("0", "x", "101"):
        rc, _, err = plot("--db", workers, "-o", tmp_path / "x.png", "--top", bad)
        assert rc == 2 and "bad --top" in err


# --- the trend ----------------------------------------------------------------

def test_slope_label_in_mib_per_hour(plot, tmp_path):
    db = tmp_path / "leak.db"
    con = plotdb.new_db(db)
    run = plotdb.add_run(con, "python3 leak.py", 0.1)
    proc = plotdb.add_proc(con, run, 7, "python3 leak.py")
    # 60 MiB/h for an hour, a 30 MiB garbage-collector sawtooth every 45 s.
    plotdb.add_samples(con, proc, ((t, (100 + 60 * t / 36000 + 30 * ((t % 450) / 450)) * MiB,
                                    1.0, 1) for t in range(36000)))
    plotdb.finish_run(con, run)
    con.commit()
    con.close()
    svg = draw(plot, tmp_path, "s.svg", "--db", db, "-s").read_text()
    (label,) = [t for t in words(svg) if t.startswith("trend ")]
    value = float(re.fullmatch(r"trend \+([\d.]+) MiB/h", label).group(1))
    assert abs(value - 60) < 3, label
    # Drawn as a dash-dotted line.
    assert re.search(r"stroke-dasharray:[\d.]+,[\d.]+,[\d.]+,[\d.]+", svg)
    # Without -s, no trend.
    svg = draw(plot, tmp_path, "n.svg", "--db", db).read_text()
    assert not any(t.startswith("trend") for t in words(svg))


# --- markers ------------------------------------------------------------------

def test_markers_labelled_apart(plot, workers, tmp_path):
    svg = draw(plot, tmp_path, "m.svg", "--db", workers).read_text()
    t = {text: a for text, a in texts(svg)}
    for label in ("checkpoint saved", "load_data", "parse_rows", "train_epoch",
                  "forward", "backward", "matmul"):
        assert label in t, label
    # Nested spans stack in lanes: a child's label lies below its parent's.
    assert float(t["parse_rows"]["y"]) > float(t["load_data"]["y"])
    assert float(t["matmul"]["y"]) > float(t["forward"]["y"])
    svg = draw(plot, tmp_path, "n.svg", "--db", workers, "-n").read_text()
    assert not {"checkpoint saved", "load_data"} & set(words(svg))


def test_flame_panel(plot, workers, tmp_path):
    svg = draw(plot, tmp_path, "f.svg", "--db", workers, "-f").read_text()
    t = {text: a for text, a in texts(svg)}
    assert "calls" in t
    # Bars by level from the bottom: a call's bar above its caller's.
    assert float(t["parse_rows"]["y"]) < float(t["load_data"]["y"])
    assert float(t["matmul"]["y"]) < float(t["forward"]["y"]) < float(t["train_epoch"]["y"])
    # Filled bars in the palette.
    assert sum(near(f, BLUE, 3) for f in filled_paths(svg)) >= 2
    png = draw(plot, tmp_path, "f.png", "--db", workers, "-f")
    _, h, rows = png_read(png)
    assert pixels_of(rows, INK)


# --- history on the clock ---------------------------------------------------------

def test_history_wall_clock_axis(plot, history, tmp_path):
    svg = draw(plot, tmp_path, "h.svg", "--db", history, "--match", "celery|gunicorn",
               "--since", "2026-11-20T08:00Z", "--until", "2026-11-20T11:00Z").read_text()
    w = words(svg)
    assert "time (UTC), Fri 20 Nov 2026" in w
    for tick in ("08:00", "08:30", "09:00", "10:30", "11:00"):
        assert tick in w, tick
    assert "4242 celery worker (venv shop)" in w
    assert "4243 gunicorn app:wsgi (venv shop)" in w
    assert not any("cron" in t for t in w)
    assert "deploy v2.3" in w
    # Another zone: the same instants, labelled in local time.
    svg = draw(plot, tmp_path, "k.svg", "--db", history, "--pid", "4242",
               "--since", "2026-11-20T08:00Z", "--until", "2026-11-20T11:00Z",
               tz="Asia/Kolkata").read_text()
    w = words(svg)
    assert "time (IST, UTC+05:30), Fri 20 Nov 2026" in w
    assert "13:30" in w and "16:30" in w


def test_history_reads_rollups_where_raw_samples_are_gone(plot, history, tmp_path):
    png = draw(plot, tmp_path, "h.png", "--db", history, "--pid", "4242",
               "--since", "2026-11-20T08:00Z", "--until", "2026-11-20T11:00Z")
    w, h, rows = png_read(png)
    blue = pixels_of(rows, BLUE)
    xs = sorted({x for x, _ in blue})
    # Rollups for 08:00-10:00, raw samples after: one line across.
    assert xs[-1] - xs[0] > 0.85 * w
    gaps = [b - a for a, b in zip(xs, xs[1:])]
    assert max(gaps) < 5


def test_long_windows_read_rollups_only(plot, tmp_path):
    """Where both exist, a long window reads the rollups (a row a minute)
    and a short one the raw samples: made to disagree, they tell which."""
    db = tmp_path / "both.db"
    con = plotdb.new_db(db)
    start = T0 - 10 * 86400
    run = plotdb.add_run(con, "memtided", 0.01, started=start, kind="daemon")
    proc = plotdb.add_proc(con, run, 77, "python3 svc.py", started=start,
                           name="python3 svc.py", interval=1.0)
    for m in range(int(start // 60), int((T0 + 3600) // 60)):
        plotdb.add_rollup(con, proc, m, 90 * MiB, 110 * MiB, 100 * MiB)
    base = int(round((T0 - start) / 0.01))
    plotdb.add_samples(con, proc, ((base + k * 100, 300 * MiB, 1.0, 2) for k in range(3600)))
    plotdb.finish_run(con, run)
    con.commit()
    con.close()
    long = draw(plot, tmp_path, "long.svg", "--db", db, "--pid", "77",
                "--since", "2026-11-10T08:00Z", "--until", "2026-11-20T09:00Z").read_text()
    assert "peak 110.0 MiB" in words(long)
    assert "10 Nov" not in words(long) or True
    short = draw(plot, tmp_path, "short.svg", "--db", db, "--pid", "77",
                 "--since", "2026-11-20T08:10Z", "--until", "2026-11-20T08:50Z").read_text()
    assert "peak 300.0 MiB" in words(short)


def test_daemon_run_is_drawn_on_the_clock(plot, history, tmp_path):
    svg = draw(plot, tmp_path, "d.svg", "--db", history, "1").read_text()
    assert "time (UTC), Fri 20 Nov 2026" in words(svg)
    assert "total (3 processes)" in words(svg)


def test_history_errors(plot, history, tmp_path):
    out = tmp_path / "x.png"
    for bad in ("2 hours", "yesterday", "2026-11-31", "-1h"):
        rc, stdout, err = plot("--db", history, "-o", out, "--since", bad)
        assert (rc, stdout) == (2, ""), bad
        assert err.startswith(f"memtide-plot: bad --since '{bad}'") and err.count("\n") == 1
    rc, _, err = plot("--db", history, "-o", out, "--until", "soon")
    assert rc == 2 and err.startswith("memtide-plot: bad --until 'soon'")
    # Nothing in the window (the data is from 20 Nov, now is later).
    rc, _, err = plot("--db", history, "-o", out, "--pid", "4242", "--since", "2h")
    assert rc == 1
    assert err == "memtide-plot: no samples of pid 4242 in this window\n"
    rc, _, err = plot("--db", history, "-o", out, "--match", "nothing-like-this")
    assert rc == 1 and err.count("\n") == 1 and "no samples" in err
    rc, _, err = plot("--db", history, "-o", out, "--match", "(")
    assert rc == 2 and err.startswith("memtide-plot: bad --match '('")
    rc, _, err = plot("--db", history, "-o", out, "--pid", "4242", "1")
    assert rc == 2 and "without RUN" in err
    rc, _, err = plot("--db", history, "-o", out, "--since", "2026-11-20T10:00Z",
                      "--until", "2026-11-20T09:00Z")
    assert rc == 2 and "before --until" in err
    assert not out.exists()


# --- canvas ---------------------------------------------------------------------

def test_dark_theme(plot, workers, tmp_path):
    png = draw(plot, tmp_path, "d.png", "--db", workers, "--theme", "dark")
    w, h, rows = png_read(png)
    assert rows[2][2] == BG_DARK and rows[h - 3][w - 3] == BG_DARK
    assert len(pixels_of(rows, SKY)) > 500
    # Light text on the dark background.
    assert sum(1 for row in rows for px in row if min(px) > 0xD0) > 500
    svg = draw(plot, tmp_path, "d.svg", "--db", workers, "--theme", "dark").read_text()
    assert all(a["fill"] in ("#e8e8e8", "#a8a8a8") or a["fill"].startswith("#")
               for _, a in texts(svg))
    assert any(a["fill"] == "#e8e8e8" for _, a in texts(svg))
    rc, _, err = plot("--db", workers, "-o", tmp_path / "x.png", "--theme", "blue")
    assert rc == 2 and err == "memtide-plot: unknown theme 'blue' (use light or dark)\n"


def test_dpi_scales_the_png(plot, workers, tmp_path):
    png = draw(plot, tmp_path, "hi.png", "--db", workers, "--dpi", "192",
               "--size", "600x300")
    w, h, rows = png_read(png)
    assert (w, h) == (1200, 600)
    assert len(pixels_of(rows, BLUE)) > 1000
    for bad in ("0", "abc", "5000"):
        rc, _, err = plot("--db", workers, "-o", tmp_path / "x.png", "--dpi", bad)
        assert rc == 2 and "bad --dpi" in err


def test_svg_text_stays_on_the_canvas(plot, workers, tmp_path):
    for size in ("1200x600", "400x250", "3000x900"):
        w, h = map(int, size.split("x"))
        svg = draw(plot, tmp_path, f"{size}.svg", "--db", workers, "--size", size,
                   "--panels", "mem,cpu", "-s", "-f").read_text()
        for text, a in texts(svg):
            x, y, fs = float(a["x"]), float(a["y"]), float(a["font-size"])
            assert -0.5 <= x <= w + 0.5 and fs * 0.7 <= y + 0.5 and y <= h + 0.5, (size, text)
        assert len(svg) < 200_000


def test_memtide_plot_passes_history_options(mt, history, tmp_path):
    """memtide plot --pid N --since ... runs memtide-plot with them."""
    out = tmp_path / "via.svg"
    rc, stdout, err = mt("plot", "--db", history, "--pid", "4243", "--since",
                         "2026-11-20T10:00Z", "--until", "2026-11-20T11:00Z",
                         "-o", out)
    assert rc == 0, err
    assert stdout.strip() == str(out)
    assert "4243 gunicorn app:wsgi (venv shop)" in words(out.read_text())
