"""memtided keeps secrets out of everything it writes: the database (and its
WAL), its log and its metrics page show command lines with passwords and
tokens hidden, by the default rules and by a `redact =` line of the config,
while the rest of the command line stays readable."""
import urllib.request
import uuid

from conftest import free_port, wait_for
from test_daemon import Daemon, start_idle

SECRETS = ["hunter2", "abc123tok", "s3cr3tpw", "corp-pin-4242"]


def test_secrets_never_reach_database_log_or_metrics(memtided, tmp_path, procs, env):
    tag = uuid.uuid4().hex[:8]
    port = free_port()
    pid = start_idle(procs, tmp_path, "secret", f"secret-{tag}",
                     "--password=hunter2", "token=abc123tok",
                     "https://deploy:s3cr3tpw@git.example.net/x.git",
                     "--corp-pin", "corp-pin-4242")
    d = Daemon(memtided, tmp_path, procs, env, f"""\
[memtided]
metrics = 127.0.0.1:{port}
per_process_metrics = yes
redact = ^--corp-pin()$
[track "t"]
cmdline = secret-{tag}
interval = 100ms
""").start("-v")
    wait_for(lambda: d.rows("SELECT count(*) FROM samples WHERE pid = ?", (pid,))[0][0] >= 5)
    page = b""

    def scraped():
        nonlocal page
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
                page = r.read()
        except OSError:
            return False
        return f'pid="{pid}"'.encode() in page
    wait_for(scraped, timeout=20)

    # What is stored says what the process is, with the values hidden.
    command, name = d.rows("SELECT command, name FROM processes WHERE pid = ?", (pid,))[0]
    for s in ("--password=***", "token=***", "https://deploy:***@git.example.net/x.git",
              "--corp-pin ***", f"secret-{tag}"):
        assert s in command, (s, command)
    assert "daemon_idle.py" in name
    # Nowhere a byte of any secret: database, WAL, log, metrics page.
    files = [d.db, d.db.with_name(d.db.name + "-wal")]
    blobs = {str(f): f.read_bytes() for f in files if f.exists()}
    blobs["log"] = d.errfile.read_bytes()
    blobs["metrics"] = page
    assert d.stop() == 0
    blobs["database after stop"] = d.db.read_bytes()
    for where, data in blobs.items():
        for s in SECRETS:
            assert s.encode() not in data, (s, where)
    assert b"daemon_idle.py" in blobs["metrics"]
