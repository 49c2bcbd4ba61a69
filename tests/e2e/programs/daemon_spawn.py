"""daemon_spawn.py OUTFILE [MARKER...]: starts /bin/sleep 600 as a child,
writes "PARENT CHILD" pids to OUTFILE, then sleeps until killed."""
import os
import subprocess
import sys
import time

child = subprocess.Popen(["/bin/sleep", "600"])
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write("%d %d" % (os.getpid(), child.pid))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
time.sleep(600)
