"""where_early.py: allocates 8 MiB at once, on its first line of its own,
then sleeps 0.3 s.  Run through a shell that execs it late (memtide's
command is not python at tick 0), its growth is charged only when memtide
looks for the interpreter between ticks.  Prints JSON: file, line, bytes."""
import json
import os
import time

keep = bytearray(8 << 20)  # LINE early
time.sleep(0.3)
line = next(no for no, text in enumerate(open(__file__), 1)
            if text.rstrip().endswith("# LINE early"))
print(json.dumps({"file": os.path.abspath(__file__), "line": line, "bytes": 8 << 20}))
