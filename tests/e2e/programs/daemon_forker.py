"""daemon_forker.py OUTFILE N LIFE [MARKER...]: forks N children one after
another, each living LIFE seconds (then os._exit), waits for each, writes
their pids (one a line) to OUTFILE, then sleeps until killed."""
import os
import sys
import time

out, n, life = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
time.sleep(0.3)
pids = []
for _ in range(n):
    pid = os.fork()
    if pid == 0:
        time.sleep(life)
        os._exit(0)
    pids.append(pid)
    os.waitpid(pid, 0)
    time.sleep(0.05)
with open(out + ".tmp", "w") as f:
    f.write("".join("%d\n" % p for p in pids))
os.rename(out + ".tmp", out)
time.sleep(600)
