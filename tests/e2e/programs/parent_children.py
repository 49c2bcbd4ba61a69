"""parent_children.py MIB...: starts one child_alloc.py per MIB at once (each
holding its memory 1.2 s, so all overlap), waits for them, then prints one
JSON line of its own: pid and VmHWM (KiB)."""
import os
import subprocess
import sys

from memlib import report, status_kib

here = os.path.dirname(os.path.abspath(__file__))
kids = [subprocess.Popen([sys.executable, os.path.join(here, "child_alloc.py"),
                          m, "1.2"]) for m in sys.argv[1:]]
codes = [k.wait() for k in kids]
report({"pid": os.getpid(), "parent": True, "hwm_kib": status_kib("VmHWM")})
sys.exit(max(codes))
