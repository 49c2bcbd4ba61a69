"""oom_parent.py DELAY TAG: started inside a memory cgroup with a small
limit.  After DELAY seconds it starts a child (this same program, with
--child) that allocates 200 MiB in 4 MiB steps and is killed by the OOM
killer; once the child is gone, it allocates 200 MiB itself and is killed
too.  TAG only marks the command lines.  Prints "child killed by N" (the
signal) when the child was killed; exits 3 if it survived its own
allocation (the limit did not hold)."""
import subprocess
import sys
import time


def grow(mib):
    held = []
    for _ in range(mib // 4):
        held.append(b"x" * (4 << 20))
        time.sleep(0.02)
    return held


if sys.argv[1] == "--child":
    grow(200)
    sys.exit(0)
delay, tag = float(sys.argv[1]), sys.argv[2]
time.sleep(delay)
child = subprocess.run([sys.executable, __file__, "--child", tag])
print(f"child killed by {-child.returncode}", flush=True)
time.sleep(delay)
grow(200)
sys.exit(3)
