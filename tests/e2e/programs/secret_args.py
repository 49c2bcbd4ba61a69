"""secret_args.py SEC [ARG...]: starts one child running itself with the same
arguments and "--child", holds 10 MiB, sleeps SEC seconds, waits for the child.
The ARGs are whatever command line a test wants recorded (secrets)."""
import subprocess
import sys
import time

from memlib import touch

m = touch(10)
child = None
if "--child" not in sys.argv:
    child = subprocess.Popen([sys.executable, *sys.argv, "--child"])
time.sleep(float(sys.argv[1]))
if child:
    child.wait()
