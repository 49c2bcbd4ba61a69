"""pidfile_run.py PIDFILE SEC: writes its pid to PIDFILE, then keeps 20 MiB
resident and sleeps SEC seconds."""
import os
import sys
import time

from memlib import touch

m = touch(20)
with open(sys.argv[1], "w") as f:
    f.write(str(os.getpid()))
time.sleep(float(sys.argv[2]))
