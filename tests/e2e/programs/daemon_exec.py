"""daemon_exec.py PIDFILE DELAY [MARKER...]: writes its pid, stays Python
for DELAY seconds, then execs /bin/sleep 600 under the same pid."""
import os
import sys
import time

with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(os.getpid()))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
time.sleep(float(sys.argv[2]))
os.execv("/bin/sleep", ["/bin/sleep", "600"])
