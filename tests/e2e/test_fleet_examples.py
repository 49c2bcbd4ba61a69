"""The fleet examples of the README work: Prometheus accepts the scrape
config and the alert rules, the rules fire on a growing service, near a
memory limit and on OOM kills, and stay quiet on a garbage collector's
sawtooth (promtool's rule tests),
and every metric the Grafana dashboard and the alerts query is one a real
memtided serves."""
import json
import re
import subprocess
import urllib.request
import uuid
from pathlib import Path

import pytest

from conftest import free_port, installed, wait_for
from test_daemon import Daemon, start_idle

ROOT = Path(__file__).resolve().parents[2]
PROM = ROOT / "examples" / "prometheus"
DASHBOARD = ROOT / "examples" / "grafana" / "memtide-dashboard.json"
# Served only where they apply: the limit where a cgroup memory limit is
# set (none over this test's processes), PSS where a rule has pss = yes.
CONDITIONAL = {"memtide_group_memory_limit_bytes", "memtide_group_pss_bytes"}


@pytest.fixture(scope="module")
def promtool():
    return installed("promtool")


def test_scrape_config_and_rules_are_valid(promtool):
    r = subprocess.run([promtool, "check", "config", PROM / "prometheus.yml"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "SUCCESS: 6 rules found" in r.stdout


def test_alert_rules_fire_on_a_leak_and_not_on_a_sawtooth(promtool):
    r = subprocess.run([promtool, "test", "rules", "alerts_test.yml"],
                       cwd=ROOT / "tests" / "prometheus", capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def queried_metrics():
    """Every metric name in the dashboard's and the alert rules' queries."""
    exprs = []
    dash = json.loads(DASHBOARD.read_text())
    for p in dash["panels"]:
        exprs += [t["expr"] for t in p["targets"]]
    exprs += re.findall(r"expr:\s*(.+)", (PROM / "memtide-alerts.yml").read_text())
    names = set()
    for e in exprs:
        # Not the recording rule's own name (memtide:...).
        names |= set(re.findall(r"(?<![:\w])((?:memtide|process)_[a-z_]+)\b", e))
    return names


def test_dashboard_and_alerts_query_what_memtided_serves(memtided, tmp_path, procs, env):
    port = free_port()
    tag = uuid.uuid4().hex[:8]
    start_idle(procs, tmp_path, "fleet", f"fleet-{tag}")
    d = Daemon(memtided, tmp_path, procs, env, f"""\
[memtided]
metrics = 127.0.0.1:{port}
[track "t"]
cmdline = fleet-{tag}
interval = 100ms
""").start()
    page = ""

    def scraped():
        nonlocal page
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
                page = r.read().decode()
        except OSError:
            return False
        return 'memtide_group_resident_memory_bytes{group="t"}' in page
    wait_for(scraped, timeout=20)
    assert d.stop() == 0
    served = set(re.findall(r"^# TYPE (\S+) ", page, re.M))
    wanted = queried_metrics()
    assert {"memtide_group_resident_memory_bytes", "memtide_group_cpu_seconds_total",
            "memtide_group_oom_kills_total", "memtide_group_exits_total",
            "memtide_samples_dropped_total"} <= wanted
    missing = wanted - served - CONDITIONAL
    assert not missing, missing
