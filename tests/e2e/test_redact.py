"""Secrets on command lines never reach the database: the argv BLOB and the
cmdline text are redacted before they are written (include/memtide/redact.h).
The raw database file and its WAL are searched byte for byte."""
import os
import signal
import stat

from conftest import PY, alive, prog, q, q1, wait_for

SECRETS = ["--password=hunter2", "token=abc7f3e9", "--api-key", "k3y-0f-d00m",
           "postgres://alice:s3cretpw@db/x", "Authorization: Bearer eyJ0b2tlbiJ9"]
LEAKS = [b"hunter2", b"abc7f3e9", b"k3y-0f-d00m", b"s3cretpw", b"eyJ0b2tlbiJ9"]
SHOWN = ("--password=*** token=*** --api-key *** postgres://alice:***@db/x "
         "Authorization: Bearer ***")


def raw(db):
    """The bytes of the database and of its WAL and shared memory, if any."""
    out = b""
    for suffix in ("", "-wal", "-shm"):
        try:
            out += open(f"{db}{suffix}", "rb").read()
        except FileNotFoundError:
            pass
    return out


def leaked(db):
    data = raw(db)
    return [s for s in LEAKS if s in data]


def test_secrets_never_reach_the_file(mt_popen, db, procs):
    m = mt_popen("run", "-q", "-C", "-T", "0.02", "--db", db, "--",
                 PY, prog("secret_args.py"), 3, *SECRETS)
    # While it records: the WAL holds the newest pages.
    wait_for(lambda: q(db, "SELECT count(*) FROM processes HAVING count(*) >= 2"))
    wait_for(lambda: q1(db, "SELECT count(*) FROM samples") > 20)
    assert leaked(db) == []
    assert os.path.exists(f"{db}-wal")
    _, err = m.communicate(timeout=30)
    assert m.returncode == 0, err
    assert leaked(db) == []

    # What a user sees: the key names, the values hidden, the argument
    # structure kept (the child's argv is the parent's plus --child).
    assert q1(db, "SELECT command FROM runs") == \
        f"{PY} {prog('secret_args.py')} 3 '--password=***' 'token=***' --api-key '***' " \
        f"'postgres://alice:***@db/x' 'Authorization: Bearer ***'"
    rows = q(db, "SELECT p.cmdline, p.argv FROM proc p ORDER BY p.id")
    assert len(rows) == 2
    for cmdline, argv in rows:
        assert SHOWN in cmdline
        args = argv.rstrip(b"\0").split(b"\0")
        assert args[-7 if args[-1] == b"--child" else -6:][:6] == [
            b"--password=***", b"token=***", b"--api-key", b"***",
            b"postgres://alice:***@db/x", b"Authorization: Bearer ***"]
    assert rows[1][0].endswith("--child")


def test_secrets_hidden_after_kill_9(mt_popen, db, procs, tmp_path):
    """Killed mid-run, the file (and the WAL left behind) holds no secret."""
    m = mt_popen("run", "-q", "-T", "0.02", "--db", db, "--",
                 PY, prog("secret_args.py"), 30, *SECRETS)
    wait_for(lambda: q1(db, "SELECT count(*) FROM samples") > 60)
    kids = [int(r[0]) for r in q(db, "SELECT pid FROM processes")]
    m.send_signal(signal.SIGKILL)
    m.wait(timeout=5)
    for pid in kids:
        procs.track_pid(pid)
    os.killpg(m.pid, signal.SIGKILL)
    wait_for(lambda: not any(alive(p) for p in kids))
    assert os.path.getsize(f"{db}-wal") > 0
    assert leaked(db) == []


def test_attach_hides_the_secrets_of_the_process(mt, db, procs, tmp_path):
    ready = tmp_path / "ready"
    p = procs.start([PY, prog("sleeper.py"), 30, ready, "--password", "hunter2",
                     "token=abc7f3e9"])
    wait_for(ready.exists)
    rc, out, err = mt("attach", p.pid, "-t", 0.5, "-T", 0.05, "-q", "--db", db)
    assert rc == 0, err
    assert leaked(db) == []
    assert q1(db, "SELECT command FROM runs").endswith(f"{ready} --password '***' 'token=***'")


def test_own_rules_and_no_redact(mt, db):
    # --redact adds a rule (POSIX ERE; the last group is the value).
    rc, out, err = mt("run", "-q", "--db", db, "--redact", "(--vault-key)=(.*)",
                      "--", "/bin/echo", "--vault-key=zzTOPzz", "token=abc7f3e9")
    assert rc == 0, err
    assert q1(db, "SELECT command FROM runs") == "/bin/echo '--vault-key=***' 'token=***'"
    assert b"zzTOPzz" not in raw(db)
    # --no-redact keeps the command line as it was typed (own rules still
    # apply): the secret is then in the file, as the user asked.
    rc, out, err = mt("run", "-q", "--db", db, "--no-redact", "--",
                      "/bin/echo", "--password=hunter2")
    assert rc == 0, err
    assert q1(db, "SELECT command FROM runs WHERE run = 2") == "/bin/echo --password=hunter2"


def test_bad_rule_is_a_usage_error(mt, db):
    rc, out, err = mt("run", "--db", db, "--redact", "(unclosed", "--", "/bin/true")
    assert rc == 2
    assert err.startswith("memtide: bad --redact regex '(unclosed': ")
    assert not db.exists()


def test_new_database_is_not_world_readable(memtide, env, db, procs):
    """0640 whatever the umask, and its WAL and shared memory the same."""
    m = procs.start(["sh", "-c", f"umask 000; exec {memtide} run -q -T 0.02 --db {db} "
                     f"-- {PY} {prog('sleeper.py')} 2"], env=env)
    wait_for(lambda: os.path.exists(f"{db}-wal") and os.path.exists(f"{db}-shm"))
    modes = {s: stat.S_IMODE(os.stat(f"{db}{s}").st_mode) for s in ("", "-wal", "-shm")}
    assert modes == {"": 0o640, "-wal": 0o640, "-shm": 0o640}, modes
    assert m.wait(timeout=30) == 0
    assert stat.S_IMODE(os.stat(db).st_mode) == 0o640
