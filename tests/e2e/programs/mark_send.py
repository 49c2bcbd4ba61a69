"""mark_send.py SOCKET PIDFILE GOFILE MSG... [-- MARKER...]: writes its pid
to PIDFILE, waits (at most 30 s) for GOFILE to exist, then sends each MSG as
one datagram to the marker socket SOCKET ("{t}" becomes the time now; "\\n"
a newline, "\\xff" that byte), touches GOFILE.sent and sleeps until killed.
MARKERs only make its command line recognisable to a memtided rule."""
import codecs
import os
import socket
import sys
import time

path, pidfile, go = sys.argv[1:4]
rest = sys.argv[4:]
msgs = rest[:rest.index("--")] if "--" in rest else rest
with open(pidfile + ".tmp", "w") as f:
    f.write(str(os.getpid()))
os.rename(pidfile + ".tmp", pidfile)
end = time.monotonic() + 30
while not os.path.exists(go) and time.monotonic() < end:
    time.sleep(0.02)
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
for m in msgs:
    raw = codecs.escape_decode(m.replace("{t}", "%.6f" % time.time()).encode())[0]
    s.sendto(raw, path)
    time.sleep(0.05)
open(go + ".sent", "w").close()
time.sleep(600)
