"""alloc_hold.py MIB HOLD_SEC: reports its idle RSS, allocates MIB MiB as a
bytearray and writes every 4096th byte, holds HOLD_SEC, reports its VmHWM.
Prints one JSON object on stdout (sizes in KiB)."""
import json
import sys
import time

from memlib import MiB, status_kib

base = status_kib("VmRSS")
mib, hold = int(sys.argv[1]), float(sys.argv[2])
b = bytearray(mib * MiB)
for off in range(0, len(b), 4096):
    b[off] = 1
touched = status_kib("VmRSS")
time.sleep(hold)
print(json.dumps({"base_kib": base, "touched_kib": touched,
                  "hwm_kib": status_kib("VmHWM")}))
