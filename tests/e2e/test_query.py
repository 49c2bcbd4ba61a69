"""memtide query: read-only SQL, as a table, CSV or JSON; and every worked
query of memtide-sql(7), run against a real database."""
import csv
import hashlib
import io
import json
import re

import pytest

from conftest import HERE, MiB, PY, q1

MAN = HERE.parent.parent / "man" / "memtide-sql.7.scd"
T0 = 1713268800  # 2024-04-16 12:00:00 UTC


def man_queries():
    """{heading: SQL} of the WORKED QUERIES section of memtide-sql(7)."""
    text = MAN.read_text()
    section = text[text.index("# WORKED QUERIES"):text.index("# OUTPUT OF MEMTIDE QUERY")]
    return {m.group(1): m.group(2) for m in
            re.finditer(r"^## (.+?)\n.*?^```\n(.*?)^```", section, re.M | re.S)}


def hours_file(path):
    """An mprof file of three hours: MEM grows 1 MiB every 36 s from 100 MiB
    (100 MiB an hour); child 77 holds 150 MiB for the first hour."""
    lines = ["CMDLINE python3 leak.py"]
    for k in range(301):
        t = T0 + 36 * k
        lines.append("MEM %.6f %.4f" % (100 + k, t))
        if k <= 100:
            lines.append("CHLD 77 150.000000 %.4f" % t)
    path.write_text("\n".join(lines) + "\n")


MARKED = """
import time, memtide
b = bytearray(4 << 20)
time.sleep(0.3)
with memtide.mark("load"):
    a = bytearray(40 << 20)
    for i in range(0, len(a), 4096):
        a[i] = 1
    time.sleep(0.3)
time.sleep(0.3)
"""


@pytest.fixture
def history(mt, db, tmp_path, env, build):
    """Run 1: the three-hour import; run 2: a recorded program with a span."""
    f = tmp_path / "leak.dat"
    hours_file(f)
    rc, _, err = mt("import", "--db", db, f)
    assert rc == 0, err
    script = tmp_path / "marked.py"
    script.write_text(MARKED)
    env = dict(env, PYTHONPATH=str(HERE.parent.parent / "python"))
    rc, _, err = mt("run", "--db", db, "-T", "0.02", "-q", PY, script, env=env)
    assert rc == 0, err
    return db


def query_json(mt, db, sql):
    rc, out, err = mt("query", "--db", db, "--json", sql)
    assert rc == 0, err
    return json.loads(out)


def test_man_page_has_the_worked_queries():
    assert set(man_queries()) == {
        "Peak per process", "Memory at a given moment", "Growth per hour",
        "Processes above a threshold", "Top runs", "What each marker cost",
        "Which lines grew the memory", "The stack at the peak"}


def test_peak_per_process(mt, history):
    rows = query_json(mt, history, man_queries()["Peak per process"])
    pid = q1(history, "SELECT pid FROM processes WHERE run = 2")
    assert [r["pid"] for r in rows] == [pid]
    peak = q1(history, "SELECT max(rss) FROM samples WHERE run = 2")
    assert q1(history, "SELECT peak_rss FROM processes WHERE run = 2") == peak
    # The MiB figure is SQLite's round(), which takes a half away from zero
    # (54.25 -> 54.3); Python's round() would take it to the even digit.
    assert rows[0]["peak_mib"] == q1(history, "SELECT round(?, 1)", (peak / MiB,))
    assert abs(rows[0]["peak_mib"] - peak / MiB) <= 0.05
    assert rows[0]["peak_mib"] > 40


def test_memory_at_a_given_moment(mt, history):
    rows = query_json(mt, history, man_queries()["Memory at a given moment"])
    assert rows == [{"pid": 0, "time": "2024-04-16 13:00:00", "mib": 200.0},
                    {"pid": 77, "time": "2024-04-16 13:00:00", "mib": 150.0}]


def test_growth_per_hour(mt, history):
    rows = query_json(mt, history, man_queries()["Growth per hour"])
    assert [(r["pid"], r["hour"], r["peak_mib"], r["growth_mib"]) for r in rows] == [
        (0, "2024-04-16 12:00", 199.0, None), (0, "2024-04-16 13:00", 299.0, 100.0),
        (0, "2024-04-16 14:00", 399.0, 100.0), (0, "2024-04-16 15:00", 400.0, 1.0),
        (77, "2024-04-16 12:00", 150.0, None), (77, "2024-04-16 13:00", 150.0, 0.0)]


def test_processes_above_a_threshold(mt, history):
    rows = query_json(mt, history, man_queries()["Processes above a threshold"])
    assert [(r["run"], r["pid"], r["peak_mib"], r["seconds_above"]) for r in rows] == [
        (1, 0, 400.0, 10764.0), (1, 77, 150.0, 3600.0)]


def test_top_runs(mt, history):
    rows = query_json(mt, history, man_queries()["Top runs"])
    assert [r["run"] for r in rows] == [1, 2]
    assert rows[0]["peak_mib"] == 400.0 and rows[0]["seconds"] == 10800.0
    assert rows[0]["command"] == "python3 leak.py"


def test_what_each_marker_cost(mt, history):
    rows = query_json(mt, history, man_queries()["What each marker cost"])
    assert len(rows) == 1 and rows[0]["label"] == "load" and rows[0]["level"] == 0
    assert 0.25 < rows[0]["seconds"] < 1.5
    assert rows[0]["mib_at_end"] - rows[0]["mib_at_start"] > 35


def test_table_is_aligned_with_numbers_right(mt, history):
    rc, out, err = mt("query", "--db", history,
                      "SELECT pid, label AS name, 1.5 AS x, NULL AS nothing_here "
                      "FROM processes JOIN (SELECT 'a' AS label UNION SELECT 'longer') "
                      "WHERE run = 1 ORDER BY pid, name")
    assert rc == 0, err
    lines = out.splitlines()
    assert lines[0] == "pid  name      x  nothing_here"
    assert lines[1] == "  0  a       1.5"
    assert lines[3] == " 77  a       1.5"
    assert len(lines) == 5


def test_csv_is_rfc4180(mt, db, history):
    rc, out, err = mt("query", "--db", history, "--csv",
                      "SELECT 1 AS n, 'a,b' AS comma, 'say \"hi\"' AS quote, "
                      "'two' || char(10) || 'lines' AS nl, NULL AS nul, x'00ff' AS blob")
    assert rc == 0, err
    assert out.endswith("\r\n")
    rows = list(csv.reader(io.StringIO(out, newline="")))
    assert rows == [["n", "comma", "quote", "nl", "nul", "blob"],
                    ["1", "a,b", 'say "hi"', "two\nlines", "", "X'00ff'"]]


def test_json_is_an_array_of_objects(mt, history):
    rows = query_json(mt, history, "SELECT run, kind, label, exit_status, 0.25 AS f "
                                   "FROM runs ORDER BY run")
    assert rows[0] == {"run": 1, "kind": "import", "label": "leak.dat",
                       "exit_status": None, "f": 0.25}
    assert rows[1]["kind"] == "run" and rows[1]["exit_status"] == 0
    assert query_json(mt, history, "SELECT * FROM runs WHERE run = 99") == []


@pytest.mark.parametrize("sql", [
    "DELETE FROM run",
    "UPDATE run SET label = 'x'",
    "INSERT INTO mark(run, label, start) VALUES (1, 'x', 0)",
    "DROP VIEW samples",
    "CREATE TABLE t(x)",
    "SELECT 1; DELETE FROM sample",
    "PRAGMA user_version = 7",
])
def test_writes_are_refused(mt, history, sql):
    before = hashlib.sha256(history.read_bytes()).hexdigest()
    rc, out, err = mt("query", "--db", history, sql)
    assert rc == 1
    assert "memtide: query: the database is opened read-only" in err
    assert err.count("\n") == 1
    assert hashlib.sha256(history.read_bytes()).hexdigest() == before
    assert q1(history, "SELECT count(*) FROM run") == 2


def test_errors(mt, history, db, tmp_path):
    rc, _, err = mt("query", "--db", history, "SELECT * FROM nope")
    assert rc == 1 and err == "memtide: query: no such table: nope\n"
    rc, _, err = mt("query", "--db", history)
    assert rc == 2 and "query needs SQL" in err
    rc, _, err = mt("query", "--db", history, "  -- only a comment")
    assert rc == 2 and "no SQL statement" in err
    rc, _, err = mt("query", "--db", tmp_path / "none.db", "SELECT 1")
    assert rc == 1 and "does not exist yet" in err
