"""sleeper.py SEC [READY]: writes READY (if given) once running, then sleeps
SEC seconds and exits 0."""
import sys
import time

if len(sys.argv) > 2:
    with open(sys.argv[2], "w") as f:
        f.write("ready")
time.sleep(float(sys.argv[1]))
