"""child_alloc.py MIB HOLD_SEC: touches MIB MiB, holds, then prints one JSON
line (pid, idle RSS and VmHWM in KiB)."""
import os
import sys
import time

from memlib import report, status_kib, touch

base = status_kib("VmRSS")
m = touch(int(sys.argv[1]))
time.sleep(float(sys.argv[2]))
report({"pid": os.getpid(), "mib": int(sys.argv[1]),
        "base_kib": base, "hwm_kib": status_kib("VmHWM")})
