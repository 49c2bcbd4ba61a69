"""threads.py N SEC: starts N extra threads that sleep, so the process has
N + 1 threads for about SEC seconds."""
import sys
import threading
import time

n, sec = int(sys.argv[1]), float(sys.argv[2])
stop = threading.Event()
ts = [threading.Thread(target=stop.wait) for _ in range(n)]
for t in ts:
    t.start()
time.sleep(sec)
stop.set()
for t in ts:
    t.join()
