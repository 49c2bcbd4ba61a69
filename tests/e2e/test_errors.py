"""Usage errors, unusable databases, --help and --version: exit codes and
one-line messages, and that nothing runs or changes when memtide refuses."""
import random
import re
import sqlite3

import pytest

from conftest import QUICK, q, q1


def assert_one_line_error(rc, out, err, code):
    """rc is code, stdout is empty, stderr is one 'memtide: ...' line,
    optionally followed by a "Try 'memtide ... --help'." hint."""
    assert rc == code, (rc, err)
    assert out == ""
    lines = err.splitlines()
    assert 1 <= len(lines) <= 2, err
    assert lines[0].startswith("memtide: ") and len(lines[0]) > len("memtide: ") + 5
    if len(lines) == 2:
        assert lines[1].startswith("Try "), err
    return lines[0]


@pytest.mark.parametrize("args, says", [
    (["run", "-T", "0", "DB", "CMD"], "'0'"),
    (["run", "-T", "abc", "DB", "CMD"], "'abc'"),
    (["run", "-T", "-1", "DB", "CMD"], "'-1'"),
    (["run", "-t", "soon", "DB", "CMD"], "'soon'"),
    (["run", "--backend", "bogus", "DB", "CMD"], "'bogus'"),
    (["run", "--no-such-option", "DB", "CMD"], "--no-such-option"),
    (["run", "-x", "DB", "CMD"], "-x"),
    (["run", "DB", "-T"], "-T"),
    (["attach", "-T", "0", "1", "DB"], "'0'"),
    (["attach", "1", "extra", "DB"], "extra"),
], ids=lambda v: "_".join(v) if isinstance(v, list) else "")
def test_bad_options_record_nothing(mt, db, tmp_path, args, says):
    """A usage error: exit 2, one line naming the culprit, the command not
    run, no database created."""
    marker = tmp_path / "ran"
    expand = {"DB": ["--db", str(db)], "CMD": ["--", "/bin/sh", "-c", f"touch {marker}"]}
    rc, out, err = mt(*[x for a in args for x in expand.get(a, [a])])
    line = assert_one_line_error(rc, out, err, 2)
    assert says in line, line
    assert not marker.exists()
    assert not db.exists()


@pytest.mark.parametrize("args", [["run"], ["run", "-q", "--db", "x.db"], ["run", "--"],
                                  ["attach"], ["attach", "abc"], ["attach", "-5"],
                                  ["attach", "--db", "x.db"], ["rm"],
                                  ["list", "extra"], ["clean", "extra"],
                                  ["list", "--no-such-option"], ["ps", "1", "2"],
                                  ["ps", "--since", "soon"], ["list", "--until"]],
                         ids=lambda v: "_".join(v))
def test_usage_errors(mt, tmp_path, args, home):
    rc, out, err = mt(*args, cwd=tmp_path)
    assert_one_line_error(rc, out, err, 2)
    assert not list(tmp_path.rglob("*.db")), "a usage error created a database"


def test_unknown_command(mt):
    rc, out, err = mt("frobnicate")
    line = assert_one_line_error(rc, out, err, 2)
    assert "frobnicate" in line


def test_no_command_prints_usage(mt):
    rc, out, err = mt()
    assert rc == 2 and out == "" and err.startswith("Usage: memtide")


@pytest.mark.parametrize("cmd", ["run", "attach", "list", "peak", "rm", "clean", "plot", "ps"])
def test_help_of_every_command(mt, build, cmd):
    if cmd == "plot" and not (build / "memtide-plot").exists():
        pytest.skip("memtide-plot is not built")
    rc, out, err = mt(cmd, "--help")
    assert rc == 0 and err == "", err
    assert out.startswith(f"Usage: memtide {cmd}") or (
        cmd == "plot" and out.startswith("Usage: memtide")), out[:80]
    rc, out2, err = mt(cmd, "-h")
    assert rc == 0 and out2 == out


@pytest.mark.parametrize("arg", ["--help", "-h", "help"])
def test_top_level_help(mt, arg):
    rc, out, err = mt(arg)
    assert rc == 0 and err == ""
    assert out.startswith("Usage: memtide")
    for cmd in ("run", "attach", "list", "peak", "rm", "clean", "plot", "ps"):
        assert re.search(rf"^  {cmd}\b", out, re.M), cmd


def test_version(mt):
    rc, out, err = mt("--version")
    assert rc == 0 and err == ""
    assert re.fullmatch(r"memtide \d+\.\d+\.\d+\n", out), out


@pytest.mark.parametrize("where", ["under_a_file", "a_directory"])
def test_unwritable_database_runs_nothing(mt, tmp_path, where):
    path = {"under_a_file": "/etc/passwd/memtide-e2e.db", "a_directory": str(tmp_path)}[where]
    marker = tmp_path / "ran"
    rc, out, err = mt("run", "--db", path, "--", "/bin/sh", "-c", f"touch {marker}")
    line = assert_one_line_error(rc, out, err, 1)
    assert path in line
    assert not marker.exists(), "the command ran although nothing could be recorded"


def test_unwritable_database_says_why(mt, tmp_path):
    """The same refusal names the cause, as 'list' does ('Not a directory'),
    not just SQLite's generic 'unable to open database file'."""
    path = "/etc/passwd/memtide-e2e.db"
    rc, out, lerr = mt("list", "--db", path)
    assert rc == 1 and "Not a directory" in lerr
    rc, out, err = mt("run", "--db", path, "--", *QUICK)
    assert rc == 1
    assert "Not a directory" in err, err


def snapshot(path):
    """The bytes of a database file and of its rollback journal or WAL."""
    side = [path.with_name(path.name + s) for s in ("-journal", "-wal")]
    return [path.read_bytes()] + [p.read_bytes() for p in side if p.exists() and p.stat().st_size]


def garbage_db(tmp_path):
    p = tmp_path / "garbage.db"
    p.write_bytes(random.Random(1).randbytes(4096))
    return p


def foreign_db(tmp_path):
    p = tmp_path / "notes.db"
    con = sqlite3.connect(p)
    con.execute("CREATE TABLE notes(id INTEGER PRIMARY KEY, text TEXT)")
    con.execute("INSERT INTO notes(text) VALUES ('keep me')")
    con.commit()
    con.close()
    return p


def newer_db(mt, tmp_path):
    p = tmp_path / "newer.db"
    rc, out, err = mt("run", "-q", "--db", p, "--", *QUICK)
    assert rc == 0
    con = sqlite3.connect(p)
    con.execute("PRAGMA user_version = 99")
    con.commit()
    con.close()
    return p


@pytest.mark.parametrize("kind", ["garbage", "foreign", "newer"])
@pytest.mark.parametrize("args", [["list"], ["peak"], ["rm", "1"], ["clean"], ["run"]],
                         ids=["list", "peak", "rm", "clean", "run"])
def test_unusable_database_refused_and_unchanged(mt, tmp_path, kind, args):
    path = {"garbage": lambda: garbage_db(tmp_path), "foreign": lambda: foreign_db(tmp_path),
            "newer": lambda: newer_db(mt, tmp_path)}[kind]()
    before = snapshot(path)
    marker = tmp_path / "ran"
    cmd = ["--", "/bin/sh", "-c", f"touch {marker}"] if args == ["run"] else []
    rc, out, err = mt(*args, "--db", path, *cmd)
    line = assert_one_line_error(rc, out, err, 1)
    assert str(path) in line
    if kind == "newer":
        assert "newer" in line
    else:
        assert "not a memtide database" in line
    assert not marker.exists()
    assert snapshot(path) == before
    if kind == "foreign":
        assert q(path, "SELECT text FROM notes") == [("keep me",)]
        assert q1(path, "SELECT count(*) FROM sqlite_schema") == 1
