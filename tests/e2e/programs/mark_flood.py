"""mark_flood.py SOCKET SECONDS SIZE PIDFILE [MARKER...]: a hostile sender.
Writes its pid to PIDFILE, then sends SIZE-byte 'B' markers with fresh ids
(never ended) to SOCKET as fast as the socket takes them for SECONDS, and
prints how many it sent.  MARKERs only make its command line recognisable
to a memtided cmdline rule."""
import os
import socket
import sys
import time

path, seconds, size, pidfile = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
with open(pidfile + ".tmp", "w") as f:
    f.write(str(os.getpid()))
os.rename(pidfile + ".tmp", pidfile)
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.settimeout(0.2)
end = time.monotonic() + seconds
sent = 0
while time.monotonic() < end:
    head = "B %.6f %d 0 " % (time.time(), sent + 1)
    try:
        s.sendto((head + "x" * (size - len(head))).encode(), path)
        sent += 1
    except OSError:
        pass
print(sent, flush=True)
