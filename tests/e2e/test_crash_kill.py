"""Crash consistency: memtide run killed with SIGKILL at random moments, again
and again, into one database.  After every kill the file opens, passes
PRAGMA integrity_check, keeps every sample that had been committed before the
kill (a reader counts them just before it), and each run's samples are the
ticks from its start on, without holes; the next writer then works.

kill_storm() takes any command that writes a memtide database, so memtided
gets the same treatment with its own start function."""
import os
import random
import signal
import sqlite3
import time

from conftest import PY, prog, q, q1

ROUNDS = int(os.environ.get("MEMTIDE_CRASH_ROUNDS", "30"))
INTERVAL = 0.02  # -T of the writer
HOLE_S = 0.5  # half a flush, seconds


def committed(db):
    """Samples committed so far per run ({run: count}); {} before the schema
    exists.  Read through a separate connection, as any reader would."""
    if not os.path.exists(db):
        return {}
    try:
        return dict(q(db, "SELECT run, count(*) FROM samples GROUP BY run"))
    except sqlite3.OperationalError:
        return {}  # the file exists before its schema does


def check_sound(db, before):
    """Asserts what must hold after a crash; before: committed() just before
    it.  Returns {run: samples} as it is now."""
    assert q(db, "PRAGMA integrity_check") == [("ok",)]
    if q1(db, "SELECT count(*) FROM sqlite_schema") == 0:
        # Killed between creating the (0640) file and writing the schema:
        # an empty database, which the next writer migrates.
        assert before == {}
        return {}
    assert q(db, "PRAGMA foreign_key_check") == []
    assert q1(db, "SELECT count(*) FROM sample WHERE proc NOT IN (SELECT id FROM proc)") == 0
    # The per-second buckets went in with their samples: each run or attach
    # process's buckets count exactly its samples.
    assert q(db, "SELECT p.id, (SELECT count(*) FROM sample WHERE proc = p.id),"
                 " (SELECT coalesce(sum(n), 0) FROM sample_agg WHERE proc = p.id)"
                 " FROM proc p JOIN run r ON r.id = p.run"
                 " WHERE r.kind IN ('run', 'attach') AND r.interval <= 0.25"
                 " AND (SELECT count(*) FROM sample WHERE proc = p.id)"
                 " != (SELECT coalesce(sum(n), 0) FROM sample_agg WHERE proc = p.id)") == []
    now = committed(db)
    for run, n in before.items():
        assert now.get(run, 0) >= n, f"run {run}: {n} samples committed, {now.get(run)} left"
    for run, count, last, interval in q(db, "SELECT id, samples, last_tick, interval"
                                            " FROM run"):
        hole = round(HOLE_S / interval)
        # The run's counters were committed with its samples: they agree.
        assert count == now.get(run, 0), (run, count, now.get(run))
        for (proc,) in q(db, "SELECT id FROM proc WHERE run = ?", (run,)):
            ticks = [t for (t,) in q(db, "SELECT tick FROM sample WHERE proc = ? "
                                         "ORDER BY tick", (proc,))]
            if not ticks:
                continue
            # From the process's first tick to its last, no hole as long as
            # half a flush (0.5 s; a lost write would leave a whole one): only
            # ticks the machine was too busy to take are missing.
            first = q1(db, "SELECT first_tick FROM proc WHERE id = ?", (proc,))
            assert ticks[0] <= first + 1, (proc, first, ticks[:3])
            holes = [(a, b) for a, b in zip(ticks, ticks[1:]) if b - a > hole]
            assert holes == [], (proc, holes)
            assert ticks[-1] <= last, (proc, ticks[-1], last)
    return now


def kill_storm(start, db, rounds, seed, cleanup=lambda p: None):
    """Starts start() (a Popen writing db) rounds times and kills it with
    SIGKILL after a random delay: a third within 0.3 s (creating the file,
    the schema, the run), the rest up to 2.5 s (mid-flush, between flushes).
    cleanup(p) removes what the writer left running.  Returns the number of
    kills and the delays."""
    rng = random.Random(seed)
    delays = []
    for i in range(rounds):
        delay = rng.uniform(0, 0.3) if i % 3 == 0 else rng.uniform(0.3, 2.5)
        p = start()
        time.sleep(delay)
        before = committed(db)
        p.send_signal(signal.SIGKILL)
        p.wait(timeout=10)
        cleanup(p)
        delays.append(delay)
        if os.path.exists(db):
            check_sound(db, before)
    return delays


def test_kill_9_thirty_times_while_recording(mt, mt_popen, db, procs):
    def start():
        return mt_popen("run", "-q", "-C", "-T", INTERVAL, "--db", db, "--",
                        PY, prog("churn.py"), 30, stdout=None, stderr=None)

    def cleanup(p):
        # The command and its children outlive memtide: end them.
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    seed = int(os.environ.get("MEMTIDE_CRASH_SEED", str(time.time_ns())))
    delays = kill_storm(start, db, ROUNDS, seed, cleanup)
    assert len(delays) == ROUNDS
    runs = q1(db, "SELECT count(*) FROM runs")
    samples = q1(db, "SELECT count(*) FROM samples")
    print(f"\n{ROUNDS} kills (seed {seed}): {runs} runs left unfinished, "
          f"{samples} samples kept, every check passed")
    # The kills left their runs behind, unfinished, with what they had
    # committed.
    assert runs >= 1 and samples > 0
    assert q1(db, "SELECT count(*) FROM runs WHERE ended IS NOT NULL") == 0

    # The next run on the same file works and ends properly.
    rc, out, err = mt("run", "-q", "-T", "0.02", "--db", db, "--", PY, prog("churn.py"), 0.5)
    assert rc == 0, err
    assert q1(db, "SELECT count(*) FROM runs WHERE ended IS NOT NULL") == 1
    check_sound(db, {})
    rc, out, err = mt("list", "--db", db)
    assert rc == 0, err
    assert len(out.splitlines()) == runs + 2
