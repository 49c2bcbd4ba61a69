"""kill -9 of memtide mid-run: the database stays sound and keeps what was
committed (at least once a second)."""
import os
import signal
import time

from conftest import PY, QUICK, alive, prog, q, q1, wait_for


def test_kill_9_keeps_a_sound_database(mt, mt_popen, db, procs, tmp_path):
    pidfile = tmp_path / "pid"
    m = mt_popen("run", "-q", "--db", db, "-T", "0.01", "--",
                 PY, prog("pidfile_run.py"), pidfile, 5)
    wait_for(lambda: pidfile.exists() and pidfile.read_text())
    cmd_pid = int(pidfile.read_text())
    procs.track_pid(cmd_pid)
    wait_for(lambda: db.exists() and q(db, "SELECT started FROM run"))
    started = q1(db, "SELECT started FROM run")
    time.sleep(max(0.0, started + 2.5 - time.time()))
    t_kill = time.time()
    m.send_signal(signal.SIGKILL)
    m.wait(timeout=5)
    # The command outlives memtide: stop it before judging the file.
    assert alive(cmd_pid)
    os.kill(cmd_pid, signal.SIGKILL)
    wait_for(lambda: not alive(cmd_pid), timeout=5)

    assert q(db, "PRAGMA integrity_check") == [("ok",)]
    ended, nsamples, skipped, last = q(db, "SELECT ended, samples, skipped, last_tick"
                                            " FROM run")[0]
    assert ended is None  # the run never finished
    ticks = [r[0] for r in q(db, "SELECT tick FROM samples WHERE pid = ? ORDER BY t", (cmd_pid,))]
    assert ticks[-1] == last
    # Flushes come every second (each a little after the last when the
    # machine runs late): all but about the last second is there.
    assert last >= (t_kill - started - 1.25) / 0.01, (last, t_kill - started)
    assert last <= (t_kill - started) / 0.01 + 2
    assert all(b > a for a, b in zip(ticks, ticks[1:]))
    # ...and every tick from the start on is there, or was skipped because
    # the machine was too busy (an ASan build under stolen CPU skips up to a
    # third) and counted so in the same commit: a lost write is a hole the
    # count does not explain.
    assert len(ticks) + skipped == last + 1, (len(ticks), skipped, last)
    # The run's own counters agree with the samples that made it to disk.
    assert nsamples == q1(db, "SELECT count(*) FROM samples")

    # The file stays usable: listed as unfinished, and recorded into again.
    rc, out, err = mt("list", "--db", db)
    assert rc == 0, err
    assert len(out.splitlines()) == 2 and "unfinished" in out
    rc, out, err = mt("run", "-q", "--db", db, "--", *QUICK)
    assert rc == 0, err
    assert q1(db, "SELECT count(*) FROM runs") == 2
    assert q(db, "PRAGMA integrity_check") == [("ok",)]
