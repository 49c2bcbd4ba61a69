"""daemon_idle.py PIDFILE [MARKER...]: writes its pid to PIDFILE, then
sleeps until killed.  MARKERs only make its command line recognisable to a
memtided cmdline rule."""
import os
import sys
import time

with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(os.getpid()))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
time.sleep(600)
