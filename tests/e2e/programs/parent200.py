"""parent200.py [TAG...]: a small parent (about 10 MiB) whose one child
touches 200 MiB and holds it 1.5 s; then the parent exits.  The tags only
mark the command line.  tests/fixtures/mprof/parent_child_M.dat and
parent_child_CM.dat are `mprof run -M` and `mprof run -C -M` of it."""
import subprocess
import sys

code = ("import time; x = bytearray(200 << 20); x[::4096] = b'1' * len(x[::4096]);"
        " time.sleep(1.5)")
subprocess.run([sys.executable, "-c", code], check=True)
