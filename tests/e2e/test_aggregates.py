"""Per-second buckets (table sample_agg): memtide run and import write them
with their samples, and they say what the samples say; memtide-plot reads
them for windows of two seconds or more a pixel column, one row a second
instead of a hundred, and draws the same chart as from the samples."""
import random
import shutil
import sqlite3

from conftest import PY, prog, q, q1
from test_plot import BLUE, VERMILLION, near, png_read
from test_plot_panels import draw, plot, words  # noqa: F401 (a fixture)

MiB = 1 << 20


def disagreements(db, run, k):
    """The buckets of run that differ from the GROUP BY of its samples
    (ticks of k a bucket): counts, extremes, first and last exactly, the
    mean within one unit."""
    return q(db, f"""
        WITH s AS (SELECT proc, tick / {k} AS b, count(*) AS n, min(rss) AS lo,
                          max(rss) AS hi, avg(rss) AS mean, max(cpu) AS cpu,
                          max(threads) AS thr FROM sample
                   WHERE proc IN (SELECT id FROM proc WHERE run = ?1) GROUP BY 1, 2),
             e AS (SELECT proc, tick / {k} AS b, min(tick) AS t0, max(tick) AS t1
                   FROM sample WHERE proc IN (SELECT id FROM proc WHERE run = ?1)
                   GROUP BY 1, 2)
        SELECT s.proc, s.b, a.bucket FROM s JOIN e USING (proc, b)
        LEFT JOIN sample_agg a ON a.proc = s.proc AND a.bucket = s.b
        WHERE a.bucket IS NULL OR a.n != s.n OR a.rss_min != s.lo OR a.rss_max != s.hi
           OR abs(a.rss_mean - s.mean) > 1 OR a.cpu_max != s.cpu OR a.threads_max != s.thr
           OR a.rss_first != (SELECT rss FROM sample WHERE proc = s.proc AND tick = e.t0)
           OR a.rss_last != (SELECT rss FROM sample WHERE proc = s.proc AND tick = e.t1)
        UNION ALL
        SELECT a.proc, a.bucket, NULL FROM sample_agg a JOIN proc p ON p.id = a.proc
        WHERE p.run = ?1 AND NOT EXISTS (SELECT 1 FROM sample WHERE proc = a.proc
                                         AND tick / {k} = a.bucket)""", (run,))


def test_run_and_import_write_buckets_that_agree_with_the_samples(mt, db, tmp_path):
    # A parent and three children, sampled every 10 ms for about 3 s.
    rc, _, err = mt("run", "-q", "-C", "-T", "0.01", "--db", db, "--",
                    PY, prog("parent_children.py"), 20, 30, 40)
    assert rc == 0, err
    assert q1(db, "SELECT count(DISTINCT proc) FROM sample_agg") == 4
    assert q1(db, "SELECT sum(n) FROM sample_agg") == q1(db, "SELECT count(*) FROM sample")
    assert disagreements(db, 1, 100) == []
    # The same samples as an mprof file, imported: buckets of 100,000
    # ticks of 10 us.
    dat = tmp_path / "run.dat"
    rc, _, err = mt("export", "1", "--db", db, "-o", dat)
    assert rc == 0, err
    rc, _, err = mt("import", "-q", "--db", db, dat)
    assert rc == 0, err
    assert q1(db, "SELECT count(*) FROM sample_agg a JOIN proc p ON p.id = a.proc"
                  " WHERE p.run = 2") > 0
    assert disagreements(db, 2, 100000) == []


def write_dat(path, seconds, spike_at=None):
    """An mprof file of one process sampled every 10 ms: a noisy sawtooth
    over a slow leak."""
    rnd = random.Random(3)
    with open(path, "w") as f:
        f.write("CMDLINE python3 leaky.py\n")
        for i in range(int(seconds * 100)):
            mib = 40 + i / 4000 + (i % 9000) / 450 + rnd.random()
            f.write("MEM %.6f %.4f\n" % (mib, 1700000000 + i / 100))


def column_extents(png, colour=BLUE):
    """Per pixel column of the plot area, the top and bottom of the series
    line of a colour (None where it has none)."""
    w, h, rows = png_read(png)
    out = []
    for x in range(80, w - 50):
        ys = [y for y in range(70, h - 60) if near(rows[y][x], colour)]
        out.append((min(ys), max(ys)) if ys else None)
    return out


def test_long_windows_read_buckets_and_draw_the_same_chart(mt, plot, tmp_path):
    dat = tmp_path / "long.dat"
    write_dat(dat, 5000)  # 500,000 samples: 4.5 s a column at 1100 columns
    db = tmp_path / "long.db"
    rc, _, err = mt("import", "-q", "--db", db, dat)
    assert rc == 0, err
    raw = tmp_path / "raw.db"
    shutil.copy(db, raw)
    con = sqlite3.connect(raw)
    con.execute("DELETE FROM sample_agg")
    con.commit()
    con.close()
    # Drawn from the buckets or from every sample, each column's line spans
    # the same pixels, within one (a bucket across a column's edge counts
    # in one column).
    # So are runs overlaid (the run drawn twice: the second on top), where
    # a run's line is its total.
    for args, colour in ((["1"], BLUE), (["1", "1"], VERMILLION)):
        a = column_extents(draw(plot, tmp_path, "agg.png", "--db", db, *args), colour)
        b = column_extents(draw(plot, tmp_path, "raw.png", "--db", raw, *args), colour)
        assert sum(x is not None for x in a) > 0.9 * len(a)
        off = [max(abs(x[0] - y[0]), abs(x[1] - y[1])) for x, y in zip(a, b) if x and y]
        assert len(off) == len(a) and max(off) <= 1, (args, off)
    # Made to disagree, they tell which is read: a bucket claiming 1 GiB
    # lifts a whole-run chart, not one of 60 s around it (0.05 s a column).
    con = sqlite3.connect(db)
    con.execute("UPDATE sample_agg SET rss_max = 1 << 30 WHERE bucket = 2500")
    con.commit()
    con.close()
    whole = draw(plot, tmp_path, "whole.svg", "--db", db).read_text()
    assert "peak 1.00 GiB" in words(whole) or "peak 1024.0 MiB" in words(whole), words(whole)
    near_it = draw(plot, tmp_path, "near.svg", "--db", db, "--window", "2470,2530").read_text()
    assert not any("GiB" in w or "1024" in w for w in words(near_it)), words(near_it)
