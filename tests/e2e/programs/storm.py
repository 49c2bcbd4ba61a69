"""storm.py SECONDS OUT [SLEEP_MS [MARKER...]]: forks short-lived children as
fast as it can for SECONDS; each child lives SLEEP_MS (default 0) and exits.
MARKERs only make its command line recognisable to a memtided rule.  Writes
{"forks": N, "seconds": S} to OUT at the end."""
import json
import os
import sys
import time

seconds = float(sys.argv[1])
life = float(sys.argv[3]) / 1000 if len(sys.argv) > 3 else 0.0
start = time.monotonic()
forks = 0
while time.monotonic() - start < seconds:
    pid = os.fork()
    if pid == 0:
        if life:
            time.sleep(life)
        os._exit(0)
    forks += 1
    # Reap whatever has ended, without waiting for the rest.
    try:
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass
    except ChildProcessError:
        pass
while True:
    try:
        os.wait()
    except ChildProcessError:
        break
elapsed = time.monotonic() - start
with open(sys.argv[2] + ".tmp", "w") as f:
    json.dump({"forks": forks, "seconds": elapsed}, f)
os.rename(sys.argv[2] + ".tmp", sys.argv[2])
