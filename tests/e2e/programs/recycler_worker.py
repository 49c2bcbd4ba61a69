"""recycler_worker LIFE HOW TAG [ARG...] (run with -m, see recycler.py):
holds 16 MiB, touched, for LIFE seconds, then exits with status HOW (0 or
1; 2 waits to be killed)."""
import signal
import sys
import time

signal.signal(signal.SIGTERM, signal.SIG_DFL)
held = bytearray(16 << 20)
for off in range(0, len(held), 4096):
    held[off] = 1
life, how = float(sys.argv[1]), int(sys.argv[2])
time.sleep(life if how != 2 else 600)
sys.exit(how)
