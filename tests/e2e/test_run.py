"""memtide run: what it records about a command, checked against what the
command itself measured (its own /proc/self/status, its own clock)."""
import json
import os
import re
import shlex
import signal
import statistics
import subprocess
import time

import pytest

from conftest import MiB, PROGRAMS, PY, QUICK, clean_env, prog, q, q1, syscalls, wait_for


def only_json(stdout):
    """The JSON lines a test program printed, parsed."""
    return [json.loads(l) for l in stdout.splitlines() if l.startswith("{")]


def test_peak_rss_of_300_mib(mt, db):
    rc, out, err = mt("run", "-q", "--db", db, "-T", "0.05", "--",
                      PY, prog("alloc_hold.py"), 300, 1.5)
    assert rc == 0, err
    truth = only_json(out)[0]
    expected = truth["base_kib"] * 1024 + 300 * MiB
    # The program's own high-water mark agrees with base + 300 MiB, so the
    # truth is sound before memtide is judged against it.
    assert abs(truth["hwm_kib"] * 1024 - expected) <= 0.03 * expected
    peak, kpeak, status = q(db, "SELECT peak_rss, kernel_peak_rss, exit_status FROM runs")[0]
    assert abs(peak - expected) <= 0.03 * expected, (peak / MiB, expected / MiB)
    assert kpeak is not None
    assert abs(kpeak - truth["hwm_kib"] * 1024) <= 0.03 * expected, (kpeak / MiB, truth)
    assert status == 0
    # The process row carries the same peak.
    ppeak = q1(db, "SELECT peak_rss FROM processes")
    assert abs(ppeak - expected) <= 0.03 * expected


def test_samples_count_and_timing(mt, db):
    """10 s at -T 0.01: ~1000 samples, evenly spaced, and each sample's t is
    the real time it was taken: the 8 MiB steps the program makes at known
    times show up in the samples at those times, even at the end (no drift)."""
    rc, out, err = mt("run", "--db", db, "-T", "0.01", "--",
                      PY, prog("staircase.py"), 9, 8, timeout=40)
    assert rc == 0, err
    truth = only_json(out)[0]
    started, ended, interval, nsamples = q(
        db, "SELECT started, ended, interval, samples FROM runs")[0]
    assert interval == 0.01
    rows = q(db, "SELECT t, rss FROM samples ORDER BY t")
    n = len(rows)
    assert n == nsamples
    # The command ran from memtide's tick 0 to its own end time; memtide
    # sampled it until it saw it exit, after the interpreter's tear-down.
    expected = (truth["end"] - started) / 0.01
    assert 990 <= expected <= 1100, expected
    assert truth["end"] <= ended
    expected = (ended - started) / 0.01
    # A tick memtide could not take in time (the VM's CPU stolen, a disk
    # stall: seen here up to 18 % in the full suite) is skipped, never taken
    # late, and reported: every sample sits on the 10 ms grid, a gap is a
    # whole number of ticks, and the holes add up to the count memtide
    # reports, so every tick is accounted for.  How many a machine skips is
    # its own business, and make bench's (skipped ticks at -T 0.01).
    m = re.search(r"memtide: (\d+) ticks skipped", err)
    skipped = int(m.group(1)) if m else 0
    assert q1(db, "SELECT skipped FROM runs") == skipped
    assert abs(n + skipped - expected) <= 0.01 * expected, (n, skipped, expected)
    ts = [r[0] for r in rows]
    diffs = [b - a for a, b in zip(ts, ts[1:])]
    assert abs(statistics.median(diffs) - 0.01) < 1e-6
    assert min(diffs) > 0
    assert all(abs(d / 0.01 - round(d / 0.01)) < 1e-3 for d in diffs)
    holes = sum(round(d / 0.01) - 1 for d in diffs)
    first = q1(db, "SELECT min(tick) FROM samples")
    # (Ticks skipped after the command's last sample, while memtide
    # reaped it, are counted too: the run's skipped may be more, within
    # the run's length checked above.)
    assert first + holes <= skipped, (first, holes, skipped)
    # Each step: the first sample that shows it was taken after the moment
    # the program started touching, and the sample before it (the last
    # without it) before the program finished, give or take jitter.  The
    # two are one interval apart, or more where ticks were skipped (a step
    # has been seen 55 ms late behind skipped ticks; they are counted above).
    tol = 0.025
    for i, (before, after) in enumerate(truth["steps"]):
        level = truth["base_kib"] * 1024 + (i + 0.75) * 8 * MiB
        k = next(j for j, (t, rss) in enumerate(rows) if rss >= level)
        first, prev = rows[k][0], rows[k - 1][0]
        assert first >= before - tol, (i, first - before, after - before)
        assert prev <= after + tol, (i, prev - before, after - before)


def assert_ticks_accounted(db, at_least):
    """The run lasted at least at_least ticks, and each of them up to its
    last sample was taken or counted as skipped (a starved CPU makes memtide
    skip some; make bench reports how many). Returns the samples."""
    n, skipped, last = q(db, "SELECT samples, skipped, last_tick FROM run")[0]
    assert last + 1 >= at_least and n + skipped >= last + 1, (n, skipped, last)
    assert q1(db, "SELECT count(*) FROM samples") == n
    return n


def test_cpu_of_busy_loop(mt, db):
    """A busy loop reads the share of a core it got (+-15 %: about 100 on an
    idle machine), from the first interval on; and
    the CPU time the samples add up to is the CPU time the program used (on
    a loaded machine the loop may get less than a core: the program's own
    account is the truth)."""
    rc, out, err = mt("run", "-q", "--db", db, "-T", "0.05", "--",
                      PY, prog("busy.py"), 1.5)
    assert rc == 0, err
    truth = only_json(out)[0]
    rows = q(db, "SELECT t, cpu FROM samples ORDER BY t")
    cpu = [c for _, c in rows]
    assert_ticks_accounted(db, 28)  # 1.5 s at 50 ms
    # Summed over the run, the samples account for the program's CPU time:
    # each is a rate over the time since the one before (more than 0.05 s
    # after a tick skipped on a busy machine).
    used = sum(c / 100 * (t - t0) for (t0, _), (t, c) in zip(rows, rows[1:]))
    assert used == pytest.approx(truth["cpu_s"], rel=0.1)
    # The intervals inside the loop read what the loop got (a core, or
    # less when the machine is busy; start-up on a starved machine has
    # been seen to crawl along at 0-40 % for 0.3 s, so the whole run's
    # share is no yardstick for them).
    loop = 100 * truth["loop_cpu_s"] / (truth["loop_t1"] - truth["loop_t0"])
    assert loop >= 25, f"the machine is too busy to judge: the loop got {loop:.0f} %"
    body = [c for (t0, _), (t, c) in zip(rows, rows[1:])
            if t0 >= truth["loop_t0"] and t <= truth["loop_t1"]]
    assert len(body) >= 10, (len(body), truth)
    assert abs(statistics.median(body) - loop) <= 15, (loop, body)
    assert abs(statistics.mean(body) - loop) <= 15, (loop, body)
    # Tick 0 is the moment the command started; the first interval after it
    # (interpreter start-up) reads the CPU it used, not psrecord's 0 %
    # first reading.  (How much start-up gets in those 50 ms is the
    # scheduler's call: 20-35 % seen with the CPU stolen, 60-100 % else,
    # and 0 once with a CI run alongside, the next interval reading 2.8 %.)
    assert max(cpu[1:4]) > 0, cpu[:4]


def test_threads_counted(mt, db):
    rc, out, err = mt("run", "-q", "--db", db, "-T", "0.05", "--",
                      PY, prog("threads.py"), 4, 1.0)
    assert rc == 0, err
    rows = q(db, "SELECT t, threads FROM samples ORDER BY t")
    assert max(n for _, n in rows) == 5
    # The 4 threads lived for a second, in one stretch: the samples that see
    # all 5 span it (less a tick at either end), with nothing else between.
    five = [t for t, n in rows if n == 5]
    assert five[-1] - five[0] >= 0.85, rows
    assert all(n == 5 for t, n in rows if five[0] <= t <= five[-1]), rows


def test_children_each_recorded_with_their_peaks(mt, db):
    rc, out, err = mt("run", "-q", "-C", "--db", db, "-T", "0.02", "--",
                      PY, prog("parent_children.py"), 50, 100, 150, timeout=30)
    assert rc == 0, err
    reports = only_json(out)
    parent = next(r for r in reports if r.get("parent"))
    kids = [r for r in reports if not r.get("parent")]
    assert sorted(k["mib"] for k in kids) == [50, 100, 150]
    procs = {r[0]: r for r in q(db, "SELECT pid, ppid, command, peak_rss, kernel_peak_rss"
                                    " FROM processes WHERE run = 1")}
    assert parent["pid"] in procs
    assert len(procs) == 4, procs
    assert q1(db, "SELECT count(*) FROM processes WHERE ended IS NULL") == 0
    for k in kids:
        assert k["pid"] in procs, (k, procs)
        pid, ppid, command, peak, kpeak = procs[k["pid"]]
        assert ppid == parent["pid"]
        assert f"child_alloc.py {k['mib']}" in command, command
        true_peak = k["hwm_kib"] * 1024
        assert abs(peak - true_peak) <= 0.05 * true_peak, (k, peak / MiB)
        # Its own allocation, net of the interpreter, is what it asked for.
        net = peak - k["base_kib"] * 1024
        assert abs(net - k["mib"] * MiB) <= 0.05 * k["mib"] * MiB, (k, net / MiB)
        # A kernel high-water mark, when recorded, can never be below what
        # was sampled.
        assert kpeak is None or kpeak >= 0.97 * peak, (k, kpeak, peak)
    # The run's peak is the highest per-tick total, and as the children
    # overlap it holds all of them at once.
    totals = [r[0] for r in q(db, "SELECT sum(rss) FROM samples WHERE run = 1 GROUP BY t")]
    peak = q1(db, "SELECT peak_rss FROM runs WHERE run = 1")
    assert peak == max(totals)
    together = sum(k["hwm_kib"] for k in kids) * 1024 + q1(
        db, "SELECT peak_rss FROM processes WHERE pid = ?", (parent["pid"],))
    assert abs(peak - together) <= 0.05 * together, (peak / MiB, together / MiB)


def test_exit_status_passes_through(mt, db, tmp_path):
    rc, out, err = mt("run", "-q", "--db", db, "--", PY, "-c", "import sys; sys.exit(3)")
    assert rc == 3
    rc, out, err = mt("run", "-q", "--db", db, "--",
                      "/bin/sh", "-c", "ulimit -c 0; sleep 0.05; kill -SEGV $$")
    assert rc == 139
    assert [r[0] for r in q(db, "SELECT exit_status FROM runs ORDER BY run")] == [3, 139]


def test_exit_status_of_a_command_that_exits_at_once(memtide, env, tmp_path):
    """A command that is gone before memtide first looks at it is still a
    run like any other: its status, no error.  Eight recordings at a time
    (as under make -j) make that the common case on a small machine."""
    results = []
    for round_ in range(4):
        ps = [subprocess.Popen([str(memtide), "run", "-q", "--db", str(tmp_path / f"{i}.db"),
                                "--", "/bin/sh", "-c", "exit 7"], env=env,
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE) for i in range(8)]
        results += [(p.wait(timeout=30), p.stderr.read().decode()) for p in ps]
    wrong = [r for r in results if r != (7, "")]
    assert not wrong, f"{len(wrong)} of {len(results)}: {wrong[:2]}"
    for i in range(8):
        assert {r[0] for r in q(tmp_path / f"{i}.db", "SELECT exit_status FROM runs")} == {7}


def test_sigint_goes_to_the_command(mt_popen, db, tmp_path):
    ready = tmp_path / "ready"
    p = mt_popen("run", "-q", "--db", db, "-T", "0.02", "--",
                 PY, prog("sleeper.py"), 30, ready)
    wait_for(ready.exists)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=10)
    # python dies of the SIGINT it got (KeyboardInterrupt, then re-raised).
    assert p.returncode == 130, err
    assert b"KeyboardInterrupt" in err
    ended, status = q(db, "SELECT ended, exit_status FROM runs")[0]
    assert ended is not None and status == 130


def test_timeout_stops_the_command(mt, db, tmp_path):
    t0 = time.monotonic()
    rc, out, err = mt("run", "-q", "--db", db, "-T", "0.02", "-t", "0.5", "--",
                      PY, prog("sleeper.py"), 30)
    took = time.monotonic() - t0
    assert rc == 128 + signal.SIGTERM
    assert 0.45 <= took <= 2, took
    started, ended, status = q(db, "SELECT started, ended, exit_status FROM runs")[0]
    assert status == 128 + signal.SIGTERM
    assert 0.45 <= ended - started <= 1.5


def test_pss_backend(mt, db):
    rc, out, err = mt("run", "-q", "--db", db, "-T", "0.05", "--backend", "psutil_pss",
                      "--", PY, prog("alloc_hold.py"), 60, 0.5)
    assert rc == 0, err
    truth = only_json(out)[0]
    rows = q(db, "SELECT s.rss, m.pss, m.uss FROM samples s JOIN samples_mem m"
                 " USING (proc, tick) ORDER BY s.tick")
    # The run's ticks span the hold, each taken or counted as skipped; PSS
    # is read with some of the samples (as often as keeps the read under
    # 5 % of a core: the slower the machine, the fewer).
    n = assert_ticks_accounted(db, 10)
    assert 2 <= len(rows) <= n, (n, rows)
    for rss, pss, uss in rows:
        assert uss <= pss <= rss, (rss, pss, uss)
    # 60 MiB of private memory: USS and PSS both grow by it.
    top_pss = max(r[1] for r in rows)
    top_uss = max(r[2] for r in rows)
    assert top_pss >= 60 * MiB and top_uss >= 60 * MiB
    assert top_pss <= truth["hwm_kib"] * 1024


def test_command_that_cannot_start(mt, db):
    rc, out, err = mt("run", "--db", db, "--", "/nonexistent/memtide-e2e-cmd", "x")
    assert rc == 127
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("memtide: ") and "/nonexistent/memtide-e2e-cmd" in lines[0]
    rc, out, err = mt("run", "--db", db, "--", "memtide-e2e-no-such-command")
    assert rc == 127
    assert len(err.splitlines()) == 1 and "memtide-e2e-no-such-command" in err


def test_sigterm_goes_to_the_command(mt_popen, db, tmp_path):
    marker, ready = tmp_path / "marker", tmp_path / "ready"
    p = mt_popen("run", "-q", "--db", db, "-T", "0.01", "--",
                 PY, prog("term_marker.py"), marker, ready)
    wait_for(ready.exists)
    time.sleep(0.5)
    t_kill = time.time()
    p.send_signal(signal.SIGTERM)
    out, err = p.communicate(timeout=10)
    assert p.returncode == 0, err
    assert marker.read_text() == "TERM"
    started, ended, status, nsamples = q(
        db, "SELECT started, ended, exit_status, samples FROM runs")[0]
    assert ended is not None and ended >= t_kill - 0.05
    assert status == 0
    assert q1(db, "SELECT count(*) FROM samples") == nsamples
    # Everything up to the signal was kept: samples run until the signal
    # (the last flush came after it), one per 10 ms tick before it but the
    # ticks the run counts as skipped (a slow commit on a busy disk; ticks
    # skipped after the command's last sample, while it exited, count too).
    last_t, last = q(db, "SELECT max(t), max(tick) FROM samples")[0]
    assert last_t >= t_kill - 0.05, (last_t, t_kill)
    skipped = q1(db, "SELECT skipped FROM runs")
    assert last + 1 <= nsamples + skipped <= (ended - started) / 0.01 + 1, (
        nsamples, skipped, last, ended - started)


def hostile_script(tmp_path):
    """renamed.py copied to 'dir with space/a) b.py'."""
    d = tmp_path / "dir with space"
    d.mkdir()
    script = d / "a) b.py"
    script.write_text((PROGRAMS / "renamed.py").read_text())
    (d / "memlib.py").write_text((PROGRAMS / "memlib.py").read_text())
    return str(script)


def test_comm_with_paren_and_newline(mt, db, tmp_path):
    """The command renames itself 'a) b\\nc' (prctl): /proc/PID/stat then
    holds ')' and a newline inside the comm field, and the numbers read after
    it (RSS, threads, ppid) must still be right."""
    script = hostile_script(tmp_path)
    rc, out, err = mt("run", "-q", "--db", db, "-T", "0.02", "--",
                      PY, script, "a) b\nc", 64, 0.6)
    assert rc == 0, err
    truth = json.loads(out)
    assert truth["comm"] == "a) b\nc\n"  # the kernel took the name as given
    pid, ppid, peak, command = q(db, "SELECT pid, ppid, peak_rss, command FROM processes")[0]
    assert pid == truth["pid"]
    true_peak = truth["hwm_kib"] * 1024
    assert abs(peak - true_peak) <= 0.05 * true_peak, (peak / MiB, true_peak / MiB)
    # While it held its memory, every sample read it.
    rss = [r[0] for r in q(db, "SELECT rss FROM samples WHERE t BETWEEN ? AND ? ORDER BY t",
                           (truth["hold_t0"] + 0.02, truth["hold_t1"] - 0.02))]
    assert len(rss) >= 5 and all(abs(r - true_peak) <= 0.05 * true_peak for r in rss), rss
    assert {r[0] for r in q(db, "SELECT threads FROM samples")} == {1}
    assert ppid > 1
    assert "dir with space/a) b.py" in command


HOSTILE_ARGS = ["a) b\nc", "16", "0.3", "x\ny z"]


def test_process_argv_with_newlines_kept(mt, db, tmp_path):
    """Arguments with spaces, ')' and newlines: the process's raw argv is
    kept byte for byte (store.h: proc.argv), and processes.command shows each
    newline escaped, on one line, not turned into an argument break or a
    space."""
    argv = [PY, hostile_script(tmp_path), *HOSTILE_ARGS]
    rc, out, err = mt("run", "-q", "--db", db, "-T", "0.02", "--", *argv)
    assert rc == 0, err
    pcommand = q1(db, "SELECT command FROM processes")
    assert "\n" not in pcommand, repr(pcommand)
    assert "dir with space/a) b.py a) b\\nc 16 0.3 x\\ny z" in pcommand, repr(pcommand)
    raw = q1(db, "SELECT argv FROM proc")
    assert raw.rstrip(b"\0").split(b"\0") == [a.encode() for a in argv], raw


def test_run_command_with_newlines_is_one_line(mt, db, tmp_path):
    """The same arguments: runs.command names the script, and neither it nor
    'memtide list' / 'memtide peak' break the run over several lines."""
    argv = [PY, hostile_script(tmp_path), *HOSTILE_ARGS]
    rc, out, err = mt("run", "-q", "--db", db, "-T", "0.02", "--", *argv)
    assert rc == 0, err
    command = q1(db, "SELECT command FROM runs")
    assert "dir with space/a) b.py" in command
    rc, listing, err = mt("list", "--db", db)
    assert rc == 0
    rc, peak, err = mt("peak", "--db", db)
    assert rc == 0
    assert len(listing.splitlines()) == 2, listing
    assert len(peak.splitlines()) == 1, peak
    assert "\n" not in command, repr(command)


def test_label_stored_and_listed(mt, db):
    rc, out, err = mt("run", "-q", "--db", db, "--label", "nightly #3", "--", *QUICK)
    assert rc == 0, err
    assert q1(db, "SELECT label FROM runs") == "nightly #3"
    rc, out, err = mt("list", "--db", db)
    assert rc == 0 and "nightly #3" in out


def test_summary_line_unless_quiet(mt, db):
    rc, out, err = mt("run", "--db", db, "-T", "0.02", "--",
                      PY, prog("alloc_hold.py"), 40, 0.3)
    assert rc == 0
    # One line; a second only when ticks had to be skipped (it says so).
    lines = err.splitlines()
    assert len(lines) == 1 or (len(lines) == 2 and "ticks skipped" in lines[1]), err
    peak = q1(db, "SELECT peak_rss FROM runs")
    assert lines[0].startswith("memtide: run 1")
    assert f"{peak / MiB:.1f} MiB" in lines[0], (lines[0], peak / MiB)
    rc, out, err = mt("run", "-q", "--db", db, "--", *QUICK)
    assert rc == 0 and err == ""


def test_bare_script_runs_under_python3(mt, db, tmp_path, home):
    (tmp_path / "whoami.py").write_text((PROGRAMS / "whoami.py").read_text())
    env = clean_env(home, PATH="/usr/bin:" + os.environ.get("PATH", "/bin"))
    rc, out, err = mt("run", "-q", "--db", db, "whoami.py", "arg one", env=env, cwd=tmp_path)
    assert rc == 0, err
    truth = json.loads(out)
    assert truth["argv"] == ["whoami.py", "arg one"]
    assert os.path.realpath(truth["executable"]) == os.path.realpath(PY)
    command = q1(db, "SELECT command FROM runs")
    assert shlex.split(command) == ["python3", "whoami.py", "arg one"]
    exe = q1(db, "SELECT exe FROM processes")
    assert os.path.realpath(exe) == os.path.realpath(PY)


def test_run_reaps_on_sigchld_not_every_tick(memtide, env, db, tmp_path):
    rc, calls = syscalls([memtide, "run", "-q", "-T", 0.01, "--db", db, "--",
                          PY, prog("sleeper.py"), 2], tmp_path, env=env)
    assert rc == 0, calls
    samples, status = q(db, "SELECT samples, exit_status FROM runs")[0]
    assert samples >= 50 and status == 0, (samples, status)
    # The command is reaped once it ends (wait4) after its zombie was read
    # for its own peak (waitid): not one of each at every tick.  Python's
    # own start-up and memtide's wait for the command's argv add a few.
    assert calls.get("wait4", 0) + calls.get("waitid", 0) <= 10, (samples, calls)
