"""pid_reuse.py OUT: runs a child holding 24 MiB for 0.8 s, then forces the
kernel to hand its pid to a second child (holding 64 MiB for 0.8 s) by
writing pid-1 to /proc/sys/kernel/ns_last_pid before each spawn until it
comes back.  Writes JSON {"pid", "tries"} to OUT ("tries": 0 when the pid
never came back)."""
import json
import subprocess
import sys

HOLD = ("import mmap, sys, time; m = mmap.mmap(-1, {mib} << 20); "
        "[m.__setitem__(i, 1) for i in range(0, {mib} << 20, 4096)]; time.sleep(0.8)")


def spawn(mib):
    return subprocess.Popen([sys.executable, "-c", HOLD.format(mib=mib)])


a = spawn(24)
pid = a.pid
a.wait()
tries = 0
for n in range(1, 200):
    with open("/proc/sys/kernel/ns_last_pid", "w") as f:
        f.write(str(pid - 1))
    b = subprocess.Popen([sys.executable, "-c", HOLD.format(mib=64)])
    if b.pid == pid:
        tries = n
        b.wait()
        break
    b.kill()
    b.wait()
with open(sys.argv[1], "w") as f:
    json.dump({"pid": pid, "tries": tries}, f)
