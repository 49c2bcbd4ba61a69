"""renamed.py NAME MIB HOLD ...: sets its own comm (prctl PR_SET_NAME) to NAME,
which may hold ')' and a newline, touches MIB MiB, holds HOLD seconds and
prints JSON: its comm as the kernel shows it, argv, VmHWM (KiB) and when
the hold began and ended (Unix time)."""
import ctypes
import json
import os
import sys
import time

from memlib import status_kib, touch

PR_SET_NAME = 15
name = sys.argv[1].encode()
ctypes.CDLL(None, use_errno=True).prctl(PR_SET_NAME, ctypes.c_char_p(name), 0, 0, 0)
m = touch(int(sys.argv[2]))
with open("/proc/self/comm", "rb") as f:
    comm = f.read()
hold_t0 = time.time()
time.sleep(float(sys.argv[3]))
hold_t1 = time.time()
print(json.dumps({"pid": os.getpid(), "comm": comm.decode(), "argv": sys.argv,
                  "hwm_kib": status_kib("VmHWM"), "hold_t0": hold_t0, "hold_t1": hold_t1}))
