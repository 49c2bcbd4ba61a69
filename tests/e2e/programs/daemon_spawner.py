"""daemon_spawner.py OUT N TAG: a service that runs a helper program N
times the two ways Python does -- os.fork() then os.execv(), and
subprocess.run() -- each /bin/true, then writes the helpers' pids (one a
line) to OUT and sleeps.  TAG goes on its own command line only: the
helpers it runs do not carry it."""
import os
import subprocess
import sys
import time

out, n = sys.argv[1], int(sys.argv[2])
pids = []
for _ in range(n):
    pid = os.fork()
    if pid == 0:
        os.execv("/bin/true", ["/bin/true"])
    os.waitpid(pid, 0)
    pids.append(pid)
    p = subprocess.Popen(["/bin/true"])
    p.wait()
    pids.append(p.pid)
with open(out + ".tmp", "w") as f:
    f.write("\n".join(map(str, pids)))
os.rename(out + ".tmp", out)
time.sleep(600)
