"""whoami.py ARG...: prints its interpreter and argv as JSON."""
import json
import sys

print(json.dumps({"executable": sys.executable, "argv": sys.argv}))
