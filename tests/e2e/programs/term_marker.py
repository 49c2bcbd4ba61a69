"""term_marker.py MARKER READY: writes READY once running, then sleeps until
SIGTERM; its handler writes 'TERM' to MARKER and exits 0."""
import signal
import sys
import time

marker, ready = sys.argv[1], sys.argv[2]


def on_term(sig, frame):
    with open(marker, "w") as f:
        f.write("TERM")
    sys.exit(0)


signal.signal(signal.SIGTERM, on_term)
with open(ready, "w") as f:
    f.write("ready")
time.sleep(30)
sys.exit(5)
