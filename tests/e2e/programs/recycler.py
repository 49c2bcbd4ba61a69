"""recycler.py SEC N TAG [ARG...]: a service whose workers keep being
replaced, as gunicorn's --max-requests does.  For SEC seconds it keeps N
workers alive (python3 -m recycler_worker, from this directory), each
holding 16 MiB and living 0.4 to 1.6 s; a worker exits 0, exits 1, or is
ended early by SIGTERM, in turn.  The ARGs (and TAG) go on every worker's
command line.  Prints {"started": n, "exit": n, "signal": n} at the end:
how many workers started, exited and were killed.  With $RECYCLER_PIDS set,
keeps the pids of its live workers in that file (one a line), rewritten
whenever they change, so a watcher can read just those."""
import json
import os
import signal
import subprocess
import sys
import time

sec, n, tag, extra = float(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4:]
here = os.path.dirname(os.path.abspath(__file__))
end = time.monotonic() + sec
counts = {"started": 0, "exit": 0, "signal": 0}
workers = []  # (Popen, time to end it early or None)


def start(k):
    how = k % 3  # 0: exit 0, 1: exit 1, 2: SIGTERM from here
    life = 0.4 + (k * 7 % 13) / 10.0
    argv = [sys.executable, "-m", "recycler_worker", str(life), str(how), tag, *extra]
    p = subprocess.Popen([os.fsencode(a) if isinstance(a, str) else a for a in argv],
                         cwd=here)
    counts["started"] += 1
    return p, (time.monotonic() + life / 2 if how == 2 else None)


pidfile = os.environ.get("RECYCLER_PIDS")
shown = None


def show(pids):
    global shown
    if pidfile and pids != shown:
        with open(pidfile + ".tmp", "w") as f:
            f.write("".join(f"{p}\n" for p in pids))
        os.rename(pidfile + ".tmp", pidfile)
        shown = pids


k = 0
while time.monotonic() < end:
    alive = []
    for p, kill_at in workers:
        if p.poll() is not None:
            counts["exit" if p.returncode >= 0 else "signal"] += 1
            continue
        if kill_at and time.monotonic() >= kill_at:
            p.send_signal(signal.SIGTERM)
            kill_at = None
        alive.append((p, kill_at))
    workers = alive
    while len(workers) < n:
        workers.append(start(k))
        k += 1
    show([p.pid for p, _ in workers])
    time.sleep(0.02)
for p, _ in workers:
    p.send_signal(signal.SIGTERM)
    p.wait()
    counts["exit" if p.returncode >= 0 else "signal"] += 1
print(json.dumps(counts), flush=True)
