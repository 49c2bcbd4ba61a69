"""busy.py SEC: spins on one core for SEC seconds of wall time, then prints
JSON: the CPU seconds it used and the wall seconds it ran (both from its own
start), so a test can tell a busy machine from a wrong measurement."""
import json
import sys
import time

end = time.monotonic() + float(sys.argv[1])
n = 0
while time.monotonic() < end:
    n += 1
print(json.dumps({"cpu_s": time.process_time()}))
