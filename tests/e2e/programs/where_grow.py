"""where_grow.py [ROUNDS [DELAY_SEC]]: alternates two functions that
allocate known amounts (grow_a 4 MiB, grow_b 8 MiB, each on its own line:
long enough, 10-30 ms, to be seen by several 2 ms stack samples)
with stretches of CPU-only work, then frees it all in release().  Sleeps
DELAY_SEC first (time to attach).  Prints one JSON object on stdout: each
function's file, line and bytes, and the process's own CPU seconds."""
import json
import os
import sys
import time

MiB = 1 << 20
keep = []
# WHERE_FIXED=1: cpu() does a fixed amount of work instead of spinning for a
# time, so that the program's CPU time measures what it costs.
FIXED = os.environ.get("WHERE_FIXED") == "1"


def cpu(sec):
    x = 0
    if FIXED:
        for i in range(int(sec * 4e6)):
            x += i
        return x
    end = time.perf_counter() + sec
    while time.perf_counter() < end:
        x += 1
    return x


def grow_a():
    keep.append(bytearray(4 * MiB))  # LINE grow_a


def grow_b():
    keep.append(bytearray(8 * MiB))  # LINE grow_b


def release():
    keep.clear()  # LINE release


def lines():
    """The line of each '# LINE name' marker of this file."""
    out = {}
    with open(__file__) as f:
        for no, text in enumerate(f, 1):
            if "# LINE " in text and "out[" not in text:
                out[text.split("# LINE ")[1].strip()] = no
    return out


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 4
    delay = float(sys.argv[2]) if len(sys.argv) > 2 else 0
    time.sleep(delay)
    cpu(0.05)
    for _ in range(rounds):
        grow_a()
        cpu(0.04)
        grow_b()
        cpu(0.04)
    release()
    cpu(0.05)
    t = os.times()
    at = lines()
    path = os.path.abspath(__file__)
    print(json.dumps({
        "grow_a": {"file": path, "line": at["grow_a"], "bytes": rounds * 4 * MiB},
        "grow_b": {"file": path, "line": at["grow_b"], "bytes": rounds * 8 * MiB},
        "release": {"file": path, "line": at["release"], "bytes": rounds * 12 * MiB},
        "cpu_sec": t.user + t.system,
    }))


if __name__ == "__main__":
    main()
