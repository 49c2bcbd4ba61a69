"""Crash consistency of memtided: killed with SIGKILL at random moments,
again and again, into one database, while it records a workload that starts
and ends processes all the time.  After every kill the checks of
test_crash_kill.check_sound() hold (the file opens, passes integrity_check,
keeps every committed sample, no hole inside a series), and the next
memtided on the file works and ends its run properly."""
import os
import subprocess
import time
import uuid

from conftest import PY, prog, q1
from test_crash_kill import ROUNDS, check_sound, kill_storm


def test_kill_9_memtided_again_and_again(memtided, tmp_path, procs, env):
    tag = uuid.uuid4().hex[:8]
    conf = tmp_path / "memtided.conf"
    conf.write_text(f'[track "churn"]\ncmdline = churn-{tag}|import time\n'
                    'children = yes\ninterval = 20ms\n')
    db = tmp_path / "daemon.db"
    rounds = max(6, ROUNDS // 2)
    work = procs.start([PY, prog("churn.py"), 3 * rounds + 30, f"churn-{tag}"],
                       stdout=subprocess.DEVNULL)

    def start():
        return procs.start([memtided, "-c", conf, "--db", db], env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    seed = int(os.environ.get("MEMTIDE_CRASH_SEED", str(time.time_ns())))
    delays = kill_storm(start, str(db), rounds, seed)
    assert len(delays) == rounds
    runs = q1(db, "SELECT count(*) FROM runs WHERE kind = 'daemon'")
    samples = q1(db, "SELECT count(*) FROM samples")
    print(f"\n{rounds} kills of memtided (seed {seed}): {runs} runs, {samples} samples kept")
    assert runs >= rounds // 2 and samples > 0
    # The next memtided works, and a SIGTERM ends its run.
    p = start()
    time.sleep(1.5)
    p.terminate()
    assert p.wait(timeout=10) == 0
    assert q1(db, "SELECT count(*) FROM runs WHERE ended IS NOT NULL") == 1
    check_sound(str(db), {})
    assert work.poll() is None  # memtided only watched it
