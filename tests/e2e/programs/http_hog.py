"""http_hog.py PORT N SECONDS READYFILE: a hostile client of the metrics port.
Holds N connections to 127.0.0.1:PORT for SECONDS: a third stay idle, a
third trickle one byte of a never-ending request head every 0.1 s, a third
reconnect as soon as the server closes them.  Touches READYFILE once all N
are connected; prints how many connections it opened in all."""
import selectors
import socket
import sys
import time

port, n, seconds, ready = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
sel = selectors.DefaultSelector()
opened = 0


def connect(kind):
    global opened
    s = socket.socket()
    s.setblocking(False)
    s.connect_ex(("127.0.0.1", port))
    opened += 1
    sel.register(s, selectors.EVENT_READ, kind)
    return s


socks = [connect(("idle", "trickle", "reconnect")[i % 3]) for i in range(n)]
open(ready, "w").close()
end = time.monotonic() + seconds
next_drip = 0.0
while time.monotonic() < end:
    for key, _ in sel.select(timeout=0.05):
        try:
            data = key.fileobj.recv(4096)
        except OSError:
            data = b""
        if not data:  # closed by the server: take the slot again
            sel.unregister(key.fileobj)
            key.fileobj.close()
            connect(key.data)
    if time.monotonic() >= next_drip:
        next_drip = time.monotonic() + 0.1
        for key in list(sel.get_map().values()):
            if key.data == "trickle":
                try:
                    key.fileobj.send(b"a")
                except OSError:
                    pass
print(opened, flush=True)
