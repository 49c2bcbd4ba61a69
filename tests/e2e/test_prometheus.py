"""memtided's /metrics scraped by a real Prometheus (Debian's `prometheus`),
as an operator would run it: `metrics = 127.0.0.1:PORT` in [memtided], a
Prometheus on 127.0.0.1 scraping it every second.  What Prometheus then
answers for a tracked Python process's memory matches, within 5 %, what
memtided wrote into its database for the same moment.

Everything it needs is installed by `make deps`.
"""
import json
import signal
import subprocess
import urllib.parse
import urllib.request

import pytest

from conftest import MiB, PY, free_port, installed, prog, q, wait_for


@pytest.fixture(scope="session")
def prometheus():
    return installed("prometheus")


def http_get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status, r.headers, r.read()


def try_get(url):
    try:
        return http_get(url)
    except OSError:
        return None


def query(port, expr):
    url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    status, _, body = http_get(url)
    data = json.loads(body)
    assert status == 200 and data["status"] == "success", data
    return data["data"]["result"]


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def test_prometheus_scrapes_memtided(memtided, prometheus, procs, env, tmp_path):
    # A Python process holding 64 MiB: its memory is steady once allocated,
    # so the page, Prometheus and the database all describe the same value.
    work = procs.start([PY, prog("alloc_hold.py"), "64", "600"],
                       stdout=subprocess.DEVNULL)
    wait_for(lambda: rss_kib(work.pid) * 1024 > 64 * MiB, timeout=30)

    mport, pport = free_port(), free_port()
    db = tmp_path / "daemon.db"
    conf = tmp_path / "memtided.conf"
    conf.write_text(f"[memtided]\ninterval = 200ms\nscan = 200ms\n"
                    f"metrics = 127.0.0.1:{mport}\nper_process_metrics = yes\n\n"
                    f"[track \"prom\"]\npid = {work.pid}\n")
    err = open(tmp_path / "memtided.err", "wb")
    daemon = procs.start([memtided, "-c", conf, "--db", db], env=env,
                         stdout=subprocess.DEVNULL, stderr=err)

    # memtided's own page: the process is on it, and promtool accepts it.
    page_url = f"http://127.0.0.1:{mport}/metrics"
    wait_for(lambda: (r := try_get(page_url)) and r[0] == 200
             and f'pid="{work.pid}"'.encode() in r[2], timeout=30)
    status, headers, page = http_get(page_url)
    assert headers["Content-Type"].startswith("text/plain; version=0.0.4")
    p = subprocess.run(["promtool", "check", "metrics"], input=page,
                       capture_output=True, timeout=60)
    assert p.returncode == 0 and p.stdout + p.stderr == b"", p.stdout + p.stderr
    text = page.decode()
    assert "process_resident_memory_bytes " in text
    assert "memtide_samples_written_total " in text
    # Nothing but GET /metrics.
    req = urllib.request.Request(page_url, data=b"x", method="POST")
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req, timeout=5)
    assert e.value.code == 405

    (tmp_path / "prometheus.yml").write_text(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
        "scrape_configs:\n  - job_name: memtided\n    static_configs:\n"
        f"      - targets: ['127.0.0.1:{mport}']\n")
    procs.start([prometheus, f"--config.file={tmp_path / 'prometheus.yml'}",
                 f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                 f"--web.listen-address=127.0.0.1:{pport}", "--log.level=warn"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(lambda: try_get(f"http://127.0.0.1:{pport}/-/ready"), timeout=60)

    expr = f'memtide_process_resident_memory_bytes{{pid="{work.pid}"}}'
    result = wait_for(lambda: query(pport, expr), timeout=60, step=0.5)
    assert len(result) == 1, result
    labels = result[0]["metric"]
    assert labels["job"] == "memtided" and labels["rule"] == "prom"
    assert labels.get("script", "").endswith("alloc_hold.py"), labels
    t, value = result[0]["value"]
    value = float(value)
    assert value > 64 * MiB

    # The database's sample nearest to the moment Prometheus scraped.
    rows = q(db, "SELECT t, rss FROM samples WHERE pid = ? ORDER BY abs(t - ?) LIMIT 1",
             (work.pid, float(t)))
    assert rows, "memtided wrote no sample of the process"
    db_t, db_rss = rows[0]
    assert abs(db_t - float(t)) < 5, (db_t, t)
    assert abs(value - db_rss) <= 0.05 * db_rss, (value, db_rss)

    up = query(pport, 'up{job="memtided"}')
    assert up and up[0]["value"][1] == "1"
    written = query(pport, "memtide_samples_written_total")
    assert written and float(written[0]["value"][1]) > 0

    daemon.send_signal(signal.SIGTERM)
    assert daemon.wait(timeout=10) == 0
    err.close()
