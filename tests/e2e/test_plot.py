"""memtide-plot: charts of runs as PNG, SVG and PDF, checked by content.

Most databases here are written directly with the schema of lib/schema.c, so
the data (a ramp, a one-sample spike, processes that start and stop at known
ticks) is exact and large sample counts are cheap; one test records a real
program with memtide run and charts it through memtide plot.  Images are
checked by what is in them: PNG pixels (decoded with zlib, no imaging
library), the paths of the SVG, the metadata of the PDF.
"""
import os
import re
import sqlite3
import struct
import subprocess
import zlib
from collections import Counter
from pathlib import Path

import pytest

from conftest import MiB, PY, prog

HERE = Path(__file__).resolve().parent
SCHEMA_C = HERE / ".." / ".." / "lib" / "schema.c"

# Okabe-Ito blue and vermillion: the first two series colours; the total's ink.
BLUE = (0x00, 0x72, 0xB2)
VERMILLION = (0xD5, 0x5E, 0x00)
INK = (0x1A, 0x1A, 0x1A)


# --- databases -------------------------------------------------------------

def schema_sql():
    """The SQL of schema version 1: the C string literals of v1[] in
    lib/schema.c, concatenated (the test never carries its own copy)."""
    src = SCHEMA_C.read_text()
    body = src[src.index("static const char v1[]"):]
    body = body[:body.index(";\n")]
    return "".join(s.encode().decode("unicode_escape")
                   for s in re.findall(r'"((?:[^"\\]|\\.)*)"', body))


def make_db(path, runs):
    """Writes a memtide database at path.  runs: a list of dicts with
    command, interval (s), optional kernel_peak (bytes), label, page_size,
    and procs: a list of (pid, cmdline, first_tick, [rss bytes per tick]).
    Returns the run ids."""
    con = sqlite3.connect(path)
    con.executescript(schema_sql())
    con.execute("PRAGMA user_version = 1")
    ids = []
    for r in runs:
        page = r.get("page_size", 4096)
        cur = con.execute(
            "INSERT INTO run(kind, command, label, started, interval, page_size)"
            " VALUES ('run', ?, ?, 1.7e9, ?, ?)",
            (r["command"], r.get("label"), r["interval"], page))
        run = cur.lastrowid
        ids.append(run)
        totals = {}
        for i, (pid, cmdline, first, values) in enumerate(r["procs"]):
            cur = con.execute(
                "INSERT INTO proc(run, pid, ppid, start_ticks, first_tick,"
                " last_tick, cmdline) VALUES (?, ?, 1, ?, ?, ?, ?)",
                (run, pid, 1000 + i, first, first + len(values) - 1, cmdline))
            proc = cur.lastrowid
            con.executemany(
                "INSERT INTO sample(proc, tick, rss, cpu, threads)"
                " VALUES (?, ?, ?, 0, 1)",
                ((proc, first + t, int(v) // page) for t, v in enumerate(values)))
            for t, v in enumerate(values):
                totals[first + t] = totals.get(first + t, 0) + int(v) // page * page
        con.execute("UPDATE run SET peak_rss = ?, kernel_peak_rss = ?,"
                    " last_tick = ?, samples = ? WHERE id = ?",
                    (max(totals.values(), default=None), r.get("kernel_peak"),
                     max(totals, default=None), sum(len(p[3]) for p in r["procs"]),
                     run))
    con.commit()
    con.close()
    return ids


def ramp(n, lo_mib, hi_mib):
    return [(lo_mib + (hi_mib - lo_mib) * i / (n - 1)) * MiB for i in range(n)]


# --- images ----------------------------------------------------------------

def png_read(path):
    """Decodes an 8-bit RGB or RGBA PNG: (width, height, rows), each row a
    list of (r, g, b) tuples."""
    data = Path(path).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, ihdr = 8, b"", None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", chunk)
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + n
    w, h, depth, ctype = ihdr[:4]
    assert depth == 8 and ctype in (2, 6), ihdr
    bpp = 3 if ctype == 2 else 4
    raw = zlib.decompress(idat)
    stride = w * bpp
    rows, prev = [], bytearray(stride)
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 0xff
            elif f == 2:
                line[i] = (line[i] + b) & 0xff
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xff
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else b if pb <= pc else c
                line[i] = (line[i] + pred) & 0xff
        rows.append([tuple(line[x * bpp:x * bpp + 3]) for x in range(w)])
        prev = line
    return w, h, rows


def near(px, colour, tol=40):
    return sum((a - b) ** 2 for a, b in zip(px, colour)) <= tol * tol


def pixels_of(rows, colour):
    """The (x, y) of every pixel close to colour."""
    return [(x, y) for y, row in enumerate(rows) for x, px in enumerate(row)
            if near(px, colour)]


def svg_line(svg, colour):
    """The points of the data line of a colour: its longest stroked path
    (the legend's line sample is a short one of the same colour)."""
    paths = [s for s in svg_series(svg) if near(s[0], colour, 3)]
    assert paths, f"no line of colour {colour}"
    return max(paths, key=lambda s: len(s[2]))[2]


def svg_series(svg):
    """The stroked paths of an SVG as (rgb percent triple, stroke width,
    [(x, y), ...]), in document order."""
    out = []
    for m in re.finditer(r'<path (?:fill-rule="[^"]*" )?(?:fill="none" )?'
                         r'style="([^"]*)" d="([^"]*)"', svg):
        style, d = m.groups()
        if "stroke:none" in style or "stroke-width" not in style:
            continue
        if "stroke-dasharray" in style:
            continue
        rgb = re.search(r"stroke:rgb\(([\d.]+)%,([\d.]+)%,([\d.]+)%\)", style)
        width = float(re.search(r"stroke-width:([\d.]+)", style).group(1))
        nums = [float(v) for v in re.findall(r"-?[\d.]+", d)]
        pts = list(zip(nums[0::2], nums[1::2]))
        out.append((tuple(round(float(v) * 2.55) for v in rgb.groups()), width, pts))
    return out


# --- running ---------------------------------------------------------------

@pytest.fixture
def plot(plot_exe, env):
    """plot(*args, cwd=None) runs memtide-plot; returns (rc, stdout, stderr)."""
    def run(*args, cwd=None):
        p = subprocess.run([str(plot_exe), *map(str, args)], env=env, cwd=cwd,
                           stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=60)
        return p.returncode, p.stdout.decode(), p.stderr.decode()
    return run


@pytest.fixture
def spike_db(tmp_path):
    """One process, 200k samples at 10 ms: a ramp 50 -> 250 MiB with a
    one-sample spike to 400 MiB at 60 % of the run; kernel peak 401 MiB."""
    n = 200_000
    values = ramp(n, 50, 250)
    values[int(n * 0.6)] = 400 * MiB
    path = tmp_path / "spike.db"
    make_db(path, [{"command": "/usr/bin/python3 spike.py", "interval": 0.01,
                    "kernel_peak": 401 * MiB,
                    "procs": [(4242, "/usr/bin/python3 /srv/spike.py", 0, values)]}])
    return path


# --- tests -----------------------------------------------------------------

def test_png_shows_the_series_and_its_one_sample_spike(plot, spike_db, tmp_path):
    out = tmp_path / "spike.png"
    rc, stdout, err = plot("--db", spike_db, "-o", out)
    assert rc == 0, err
    assert stdout == f"{out}\n"
    assert 10_000 < out.stat().st_size < 400_000
    w, h, rows = png_read(out)
    assert (w, h) == (1200, 600)
    blue = pixels_of(rows, BLUE)
    assert len(blue) > 1000
    # The line spans most of the width and rises from left to right.
    xs = sorted({x for x, _ in blue})
    left, right = xs[0], xs[-1]
    assert right - left > 0.8 * w

    def line_y(x):
        ys = [y for bx, y in blue if bx == x]
        return max(ys)  # the data line lies below the dashed peak line

    assert line_y(left + 5) > line_y(right - 5) + 100
    # The spike: one sample in 200,000 still draws a tall vertical span in
    # its column, and nowhere else is there one.
    spike_x = left + 0.6 * (right - left)
    tall = [x for x in xs
            if len([1 for bx, _ in blue if bx == x]) > 60]
    assert tall, "the spike was decimated away"
    assert all(abs(x - spike_x) <= 4 for x in tall), (tall, spike_x)


def test_svg_is_decimated_and_titled(plot, spike_db, tmp_path):
    out = tmp_path / "spike.svg"
    rc, _, err = plot("--db", spike_db, "-o", out, "-t", "Spike & <friends>")
    assert rc == 0, err
    svg = out.read_text()
    assert "<title>Spike &amp; &lt;friends&gt;</title>" in svg
    assert 'width="1200pt"' in svg and 'height="600pt"' in svg
    assert out.stat().st_size < 150_000
    assert svg.count("<path") < 200
    pts = svg_line(svg, BLUE)
    # At most two points a pixel column for 200,000 samples.
    assert len(pts) <= 2 * 1200
    # The spike survives: the path's highest point is far above its
    # neighbours' (y grows downwards).
    top = min(pts, key=lambda p: p[1])
    others = [y for x, y in pts if abs(x - top[0]) > 5]
    assert min(others) - top[1] > 100


def test_pdf_has_metadata(plot, spike_db, tmp_path):
    out = tmp_path / "spike.pdf"
    rc, _, err = plot("--db", spike_db, "-o", out, "--size", "800x400")
    assert rc == 0, err
    data = out.read_bytes()
    assert data.startswith(b"%PDF-")
    assert data.rstrip().endswith(b"%%EOF")
    assert b"/Title (/usr/bin/python3 spike.py)" in data
    assert b"memtide-plot" in data
    assert re.search(rb"/MediaBox \[ ?0 0 800 400 ?\]", data)
    assert 5_000 < len(data) < 200_000


def test_size_sets_the_canvas(plot, spike_db, tmp_path):
    out = tmp_path / "small.png"
    rc, _, err = plot("--db", spike_db, "-o", out, "--size", "640x360")
    assert rc == 0, err
    w, h, rows = png_read(out)
    assert (w, h) == (640, 360)
    assert len(pixels_of(rows, BLUE)) > 300


def test_processes_and_their_total(plot, tmp_path):
    """Three processes: a line each, and a thicker total that is their sum
    at every tick, even where they start and stop."""
    db = tmp_path / "multi.db"
    n = 3000
    procs = [(100, "/usr/bin/python3 main.py", 0, [40 * MiB] * n),
             (101, "/usr/bin/python3 main.py --worker", 500, [60 * MiB] * 1000),
             (102, "/usr/bin/python3 main.py --worker", 1000, [80 * MiB] * 1500)]
    make_db(db, [{"command": "python3 main.py", "interval": 0.01, "procs": procs}])
    out = tmp_path / "multi.svg"
    rc, _, err = plot("--db", db, "-o", out)
    assert rc == 0, err
    svg = out.read_text()
    series = svg_series(svg)
    widths = {}
    for rgb, width, pts in series:
        widths[rgb] = max(widths.get(rgb, 0), width)
    ink = [w for rgb, w in widths.items() if near(rgb, INK, 3)]
    assert ink and ink[0] > max(w for rgb, w in widths.items()
                                if not near(rgb, INK, 3))
    # The memory axis is linear: the 40 MiB and 60 MiB lines fix it, and
    # the total must then peak at 40 + 60 + 80 = 180 MiB and bottom out at
    # 40 MiB, where the main process runs alone.
    y40 = svg_line(svg, BLUE)[0][1]
    y60 = svg_line(svg, VERMILLION)[0][1]
    per_mib = (y40 - y60) / 20
    ys = [y for _, y in svg_line(svg, INK)]
    assert abs(min(ys) - (y40 - 140 * per_mib)) < 1.5
    assert abs(max(ys) - y40) < 1.5


def test_runs_overlaid_from_their_starts(plot, tmp_path):
    db = tmp_path / "two.db"
    ids = make_db(db, [
        {"command": "python3 a.py", "interval": 0.1,
         "procs": [(1, "python3 a.py", 0, ramp(600, 10, 100))]},
        {"command": "python3 b.py", "interval": 0.1,
         "procs": [(2, "python3 b.py", 0, ramp(300, 20, 60))]},
    ])
    png, svg = tmp_path / "two.png", tmp_path / "two.svg"
    for out in (png, svg):
        rc, stdout, err = plot("--db", db, "-o", out, *ids)
        assert rc == 0, err
    _, _, rows = png_read(png)
    assert len(pixels_of(rows, BLUE)) > 500
    assert len(pixels_of(rows, VERMILLION)) > 300
    a = svg_line(svg.read_text(), BLUE)
    b = svg_line(svg.read_text(), VERMILLION)
    # Both start at the left edge of the plot; b, half as long, ends midway.
    assert abs(a[0][0] - b[0][0]) < 1
    middle = (a[0][0] + a[-1][0]) / 2
    assert abs(b[-1][0] - middle) < 3


def test_window_clips_to_the_seconds_asked(plot, tmp_path):
    db = tmp_path / "w.db"
    make_db(db, [{"command": "python3 w.py", "interval": 0.1,
                  "procs": [(7, "python3 w.py", 0, ramp(1001, 10, 110))]}])
    full, win = tmp_path / "full.svg", tmp_path / "win.svg"
    assert plot("--db", db, "-o", full)[0] == 0
    rc, _, err = plot("--db", db, "-o", win, "-w", "40,60")
    assert rc == 0, err
    line = svg_line(win.read_text(), BLUE)
    # In the window the ramp (1 MiB a second) is steep: 20 s of it span
    # the plot's width, and the line enters and leaves at the edges.
    xs = [x for x, _ in line]
    assert max(xs) - min(xs) > 1000
    ys = [y for _, y in line]
    assert max(ys) - min(ys) > 20
    # A window past the data still draws an (empty) chart.
    rc, _, err = plot("--db", db, "-o", tmp_path / "empty.png", "-w", "500,600")
    assert rc == 0, err
    for bad in ("60,40", "5", "a,b", "1,1"):
        rc, _, err = plot("--db", db, "-o", tmp_path / "x.png", "-w", bad)
        assert rc == 2, bad
        assert "bad window" in err


def test_default_output_name_in_current_directory(plot, spike_db, tmp_path):
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    rc, stdout, err = plot("--db", spike_db, cwd=cwd)
    assert rc == 0, err
    assert stdout == "memtide_1.png\n"
    assert (cwd / "memtide_1.png").stat().st_size > 10_000


def test_unknown_format_is_a_usage_error(plot, spike_db, tmp_path):
    rc, stdout, err = plot("--db", spike_db, "-o", tmp_path / "chart.jpg")
    assert rc == 2
    assert stdout == ""
    assert err == ("memtide-plot: unknown output format '.jpg'"
                   " (use .png, .svg or .pdf)\n")
    assert not (tmp_path / "chart.jpg").exists()
    rc, _, err = plot("--db", spike_db, "-o", tmp_path / "chart")
    assert rc == 2 and "no extension" in err


def test_runtime_errors(plot, spike_db, tmp_path):
    rc, stdout, err = plot("--db", spike_db, "99")
    assert (rc, stdout) == (1, "")
    assert err == "memtide-plot: no run 99 (see memtide list)\n"
    rc, _, err = plot("--db", tmp_path / "missing.db")
    assert rc == 1
    assert err.startswith("memtide-plot: cannot open database")
    assert len(err.splitlines()) == 1
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"not sqlite at all" * 100)
    rc, _, err = plot("--db", garbage)
    assert rc == 1 and len(err.splitlines()) == 1
    rc, _, err = plot("--db", spike_db, "-o", tmp_path / "no" / "dir.png")
    assert rc == 1
    assert "cannot write" in err
    empty = tmp_path / "empty.db"
    make_db(empty, [])
    rc, _, err = plot("--db", empty)
    assert rc == 1 and "no runs" in err


def test_usage(plot, spike_db):
    rc, out, _ = plot("--help")
    assert rc == 0 and out.startswith("Usage: memtide-plot")
    rc, out, _ = plot("--version")
    assert rc == 0 and re.fullmatch(r"memtide-plot \d+\.\d+\.\d+\n", out)
    for args in (["--bogus"], ["--size", "10x10"], ["--size", "wide"],
                 ["--db", spike_db, "abc"]):
        rc, _, err = plot(*args)
        assert rc == 2, args
        assert err.startswith("memtide-plot: "), err


def test_recorded_run_through_memtide_plot(mt, build, db, tmp_path):
    """The whole way: memtide run records a program that holds 120 MiB,
    memtide plot (which execs memtide-plot) draws it."""
    if not os.access(build / "memtide", os.X_OK):
        pytest.skip("build/memtide is not built")
    rc, _, err = mt("run", "-q", "--db", db, "-T", "0.02", "--",
                    PY, prog("alloc_hold.py"), 120, 1.0)
    assert rc == 0, err
    out = tmp_path / "real.png"
    rc, stdout, err = mt("plot", "--db", db, "-o", out)
    assert rc == 0, err
    assert stdout.strip() == str(out)
    w, h, rows = png_read(out)
    assert (w, h) == (1200, 600)
    blue = pixels_of(rows, BLUE)
    # The held 120 MiB is a plateau: a long horizontal stretch of line.
    _, count = Counter(y for _, y in blue).most_common(1)[0]
    assert count > 300
