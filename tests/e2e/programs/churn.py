"""churn.py SEC: for SEC seconds, grows and shrinks its memory (1 to 16 MiB)
and starts a short-lived child python every 0.3 s, so a recorder has new
processes, ended processes and changing samples to write at any moment."""
import subprocess
import sys
import time

from memlib import touch

end = time.monotonic() + float(sys.argv[1])
held, kids, n = [], [], 0
while time.monotonic() < end:
    n += 1
    held.append(touch(1))
    if len(held) > 16:
        held.clear()
    if n % 3 == 0:
        kids.append(subprocess.Popen([sys.executable, "-c",
                                      "import time; time.sleep(0.2)"]))
    kids = [k for k in kids if k.poll() is None]
    time.sleep(0.1)
for k in kids:
    k.wait()
