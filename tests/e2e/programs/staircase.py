"""staircase.py STEPS STEP_MIB: for STEPS seconds, at each whole second after
its start touches STEP_MIB more MiB, noting the wall-clock time just before
and just after; exits STEPS + 1 seconds after it started.  Prints JSON:
start and end times, idle RSS (KiB) and the steps [t_before, t_after]."""
import json
import sys
import time

from memlib import status_kib, touch

t0 = time.time()
steps, step_mib = int(sys.argv[1]), int(sys.argv[2])
base = status_kib("VmRSS")
keep, marks = [], []
for i in range(1, steps + 1):
    time.sleep(max(0.0, t0 + i - time.time()))
    before = time.time()
    keep.append(touch(step_mib))
    marks.append([before, time.time()])
time.sleep(max(0.0, t0 + steps + 1 - time.time()))
print(json.dumps({"t0": t0, "base_kib": base, "steps": marks,
                  "end": time.time()}))
