"""busy.py SEC: spins on one core for SEC seconds of wall time, then prints
JSON: the CPU seconds it used from its own start (cpu_s), and the loop's
start and end (Unix seconds, loop_t0/loop_t1) with the CPU seconds the loop
alone used (loop_cpu_s), so a test can tell a busy machine (a slow
start-up, a loop getting less than a core) from a wrong measurement."""
import json
import sys
import time

c0, t0 = time.process_time(), time.time()
end = time.monotonic() + float(sys.argv[1])
n = 0
while time.monotonic() < end:
    n += 1
print(json.dumps({"cpu_s": time.process_time(), "loop_t0": t0, "loop_t1": time.time(),
                  "loop_cpu_s": time.process_time() - c0}))
