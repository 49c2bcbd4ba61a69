"""Services, not pids: memtided's group metrics under worker churn, scraped
by a real Prometheus on loopback.

programs/recycler.py keeps 6 workers of 16 MiB alive for 20 s, replacing
each after 0.4 to 1.6 s (an exit, an error exit or a SIGTERM, in turn).
While it runs, the test reads the truth from /proc every ~5 ms (the statm
of the workers the recycler lists).  Then:
- every value Prometheus scraped of the workers' group (and of the sum over
  the rule's groups) lies within what /proc held over the 3 s before the
  scrape, 2 % given either way (memtided publishes a page every second,
  right after the samples due then, and the total moves by a worker at
  each birth and death): one dead worker summed would be 25 MiB over the
  top;
- the number of samples of every scrape stays the same however many
  workers came and went, and the group's CPU counter never goes down;
- the exits are counted by how, as the recycler counted them;
- group templates name the groups ({{.Script}}{{.Module}}: the master by
  its script, the workers by their module);
then, with per_process_metrics turned on (SIGHUP), a worker with a hostile
command line gets a per-pid series whose labels are at most 128 printable
bytes, promtool accepts the page, and the worker's series is gone from the
first page after it ends."""
import json
import os
import re
import signal
import subprocess
import time
import urllib.parse
import urllib.request
import uuid

import pytest

from conftest import MiB, PY, PROGRAMS, free_port, installed, prog, wait_for
from test_daemon import Daemon

WORKERS = 6
CHURN_S = 20
PAGE = os.sysconf("SC_PAGE_SIZE")


def http_json(url):
    with urllib.request.urlopen(url, timeout=10) as r:
        data = json.loads(r.read())
    assert data["status"] == "success", data
    return data["data"]["result"]


def prom(port, expr, t=None):
    args = {"query": expr}
    if t:
        args["time"] = t
    return http_json(f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode(args))


def page_of(port):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
            return r.read().decode()
    except OSError:
        return ""


def value(page, sample):
    m = re.search("^" + re.escape(sample) + r" (\S+)$", page, re.M)
    return float(m.group(1)) if m else None


def rss_of(pids):
    """The summed RSS (statm) of the pids still there, bytes."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/statm") as f:
                total += int(f.read().split()[1]) * PAGE
        except (OSError, IndexError):
            pass
    return total


def near_truth(v, t, truth, window=3.0):
    """Whether v is within 2 % of what /proc held in the window before t:
    between its lowest and highest there, 2 % given either way (the page
    is up to 2 s old, and workers come and go between two reads)."""
    seen = [x for (tt, x) in truth if t - window <= tt <= t + 0.1]
    return bool(seen) and 0.98 * min(seen) <= v <= 1.02 * max(seen), seen


@pytest.fixture
def prometheus_for(procs, tmp_path):
    """prometheus_for(target_port) starts Prometheus scraping 127.0.0.1:port
    every second; returns its own port once it is ready."""
    def start(target):
        port = free_port()
        (tmp_path / "prometheus.yml").write_text(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
            "scrape_configs:\n  - job_name: memtided\n    static_configs:\n"
            f"      - targets: ['127.0.0.1:{target}']\n")
        procs.start([installed("prometheus"), f"--config.file={tmp_path / 'prometheus.yml'}",
                     f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                     f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: page_of_ready(port), timeout=60)
        return port
    return start


def page_of_ready(port):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/-/ready", timeout=5) as r:
            return r.status == 200
    except OSError:
        return False


def test_group_sums_stay_true_under_churn(memtided, prometheus_for, procs, env, tmp_path):
    tag = f"svc-{uuid.uuid4().hex[:8]}"
    mport = free_port()
    conf = f"""\
[memtided]
metrics = 127.0.0.1:{mport}
interval = 100ms
scan = 1s
@PER_PROCESS@
[track "svc"]
python = yes
cmdline = {tag}
interval = 100ms
group = "{{{{.Script}}}}{{{{.Module}}}}"
"""
    # -v: its debug lines for a hundred processes come and gone are checked
    # too (under ASan one read a name the writer thread had freed).
    d = Daemon(memtided, tmp_path, procs, env, conf.replace("@PER_PROCESS@", "")).start("-v")
    pport = prometheus_for(mport)
    pidfile = tmp_path / "workers.pids"
    master = procs.start([PY, prog("recycler.py"), str(CHURN_S), str(WORKERS), tag],
                         stdout=subprocess.PIPE, env=dict(env, RECYCLER_PIDS=str(pidfile)))
    workers_group, master_group = "recycler_worker", prog("recycler.py")
    truth_all, truth_workers, worker_pids = [], [], set()
    t_start = time.time()
    # The workers' pids from the recycler's file, their RSS every ~5 ms.
    pids = []
    while master.poll() is None:
        try:
            pids = [int(p) for p in pidfile.read_text().split()]
        except OSError:
            pass
        now = time.time()
        w = rss_of(pids)
        truth_workers.append((now, w))
        truth_all.append((now, w + rss_of([master.pid])))
        worker_pids |= set(pids)
        time.sleep(0.005)
    t_end = time.time()
    counts = json.loads(master.stdout.read())
    # Churn it was: dozens of workers came and went.
    assert counts["started"] >= 40 and len(worker_pids) >= 40, (counts, len(worker_pids))

    # Every scrape of the churn (from the first with all 6 workers up, to
    # the last whose 3 s window is inside what was watched).
    def scraped(expr):
        res = prom(pport, f"{expr}[{int(t_end - t_start) + 30}s]", t=t_end)
        assert len(res) == 1, (expr, res)
        return [(float(t), float(v)) for t, v in res[0]["values"]]
    wait_for(lambda: prom(pport, f'memtide_group_resident_memory_bytes{{group="{workers_group}"}}',
                          t=t_end), timeout=30)
    workers = [s for s in scraped(f'memtide_group_resident_memory_bytes{{group="{workers_group}"}}')
               if t_start + 4 <= s[0] <= t_end]
    assert len(workers) >= CHURN_S - 8, workers
    for t, v in workers:
        ok, seen = near_truth(v, t, truth_workers)
        assert ok, (t, v / MiB, [x / MiB for x in seen])
        # Never the dead on top: at most the 6 workers and one being born.
        assert v <= (WORKERS + 1) * 30 * MiB
    master_rss = scraped(f'memtide_group_resident_memory_bytes{{group="{master_group}"}}')
    for (t, v), (t2, v2) in zip(workers, [s for s in master_rss if t_start + 4 <= s[0] <= t_end]):
        assert t == t2
        ok, seen = near_truth(v + v2, t, truth_all)
        assert ok, (t, (v + v2) / MiB, [x / MiB for x in seen])

    # Flat: every scrape of the churn had as many samples as the first.
    n = {v for t, v in scraped('scrape_samples_scraped{job="memtided"}')
         if t_start + 4 <= t <= t_end + 3}
    assert len(n) == 1, n
    assert not prom(pport, f'resets(memtide_group_cpu_seconds_total{{group="{workers_group}"}}[5m]) > 0',
                    t=t_end + 3)
    cpu = scraped(f'memtide_group_cpu_seconds_total{{group="{workers_group}"}}')
    assert cpu[-1][1] > cpu[0][1]

    # Exits by how, as the recycler saw them, and the recycler's own (it
    # ends last: a page can hold its workers' exits and not yet its own).
    def exits_counted():
        page = page_of(mport)
        got = {h: value(page, f'memtide_group_exits_total{{group="{workers_group}",how="{h}"}}')
               for h in ("exit", "signal", "oom")}
        ended = value(page, f'memtide_group_exits_total{{group="{master_group}",how="exit"}}')
        return page if got == {"exit": counts["exit"], "signal": counts["signal"], "oom": 0} \
            and ended == 1 else None
    page = wait_for(exits_counted, timeout=20)
    assert value(page, f'memtide_group_processes{{group="{workers_group}"}}') == 0
    assert value(page, f'memtide_group_resident_memory_bytes{{group="{workers_group}"}}') == 0
    assert value(page, f'memtide_group_processes{{group="{master_group}"}}') == 0
    assert "pid=" not in page
    said = {int(p) for p in re.findall(r"tracking process (\d+) \(", d.stderr())}
    assert worker_pids <= said, sorted(worker_pids - said)

    # Per-process series on: a hostile command line stays one short
    # printable label, and the series leaves with the process.
    hostile = [os.fsdecode(b) for b in (b'--name="a\\b"\nimport os; os.system("x")\t\x1b[31m',
                                        b"\xff\xfe" * 8, ("\u00e9" * 200).encode())]
    d.conf.write_text(conf.replace("@PER_PROCESS@", "per_process_metrics = yes"))
    d.p.send_signal(signal.SIGHUP)
    w = procs.start([PY, "-m", "recycler_worker", "600", "2", tag, *hostile], cwd=PROGRAMS)
    page = wait_for(lambda: (p := page_of(mport)) and f'pid="{w.pid}"' in p and p, timeout=20)
    line = next(l for l in page.splitlines()
                if l.startswith("memtide_process_resident_memory_bytes{") and f'pid="{w.pid}"' in l)
    labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', line))
    name = labels["name"].replace('\\"', '"').replace("\\\\", "\\")
    assert len(name.encode()) <= 128 and name.endswith("\u2026"), name
    assert name.isprintable() and "\x1b" not in name and "\n" not in name, name
    assert labels["rule"] == "svc"
    p = subprocess.run([installed("promtool"), "check", "metrics"], input=page.encode(),
                       capture_output=True, timeout=60)
    assert p.returncode == 0, p.stdout + p.stderr
    w.kill()
    w.wait()
    wait_for(lambda: (p := page_of(mport)) and f'pid="{w.pid}"' not in p
             and value(p, f'memtide_group_processes{{group="{workers_group}"}}') == 0, timeout=20)
    assert d.stop() == 0


def test_a_reload_regroups_running_processes(memtided, procs, env, tmp_path):
    """A new group = template (SIGHUP) moves the processes already running:
    their memory leaves the old group and is counted in the new one, on the
    page and in the processes view."""
    tag = f"regroup-{uuid.uuid4().hex[:8]}"
    mport = free_port()
    conf = f"""\
[memtided]
metrics = 127.0.0.1:{mport}
interval = 100ms
[track "svc"]
cmdline = {tag}
interval = 100ms
group = "@PREFIX@{{{{.Module}}}}"
"""
    d = Daemon(memtided, tmp_path, procs, env, conf.replace("@PREFIX@", "")).start()
    w = procs.start([PY, "-m", "recycler_worker", "600", "2", tag], cwd=PROGRAMS)
    old, new = "recycler_worker", "shop-recycler_worker"
    wait_for(lambda: (value(page_of(mport), f'memtide_group_resident_memory_bytes{{group="{old}"}}')
                      or 0) > 16 * MiB, timeout=20)
    d.conf.write_text(conf.replace("@PREFIX@", "shop-"))
    d.p.send_signal(signal.SIGHUP)

    def moved():
        page = page_of(mport)
        held = value(page, f'memtide_group_resident_memory_bytes{{group="{new}"}}')
        return page if held and held > 16 * MiB else None
    page = wait_for(moved, timeout=20)
    assert value(page, f'memtide_group_processes{{group="{new}"}}') == 1
    assert value(page, f'memtide_group_processes{{group="{old}"}}') in (0, None)
    assert value(page, f'memtide_group_resident_memory_bytes{{group="{old}"}}') in (0, None)
    w.kill()
    w.wait()
    assert d.stop() == 0
    assert d.rows("SELECT group_name FROM processes WHERE pid = ?", (w.pid,)) == [(new,)]
