"""daemon_marks.py PIDFILE MARKER: under memtided with $MEMTIDE_MARK_SOCKET
set, marks a span "load data" with a nested "parse" span around an
allocation of 40 MiB, and a moment "ready"; then writes its pid to PIDFILE
and sleeps until killed."""
import os
import sys
import time

import memtide

with memtide.mark("load data"):
    time.sleep(0.3)
    with memtide.mark("parse"):
        data = bytearray(40 << 20)
        time.sleep(0.3)
memtide.moment("ready")
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(os.getpid()))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
time.sleep(600)
