"""The CPython stack reader (lib/pystack.c) on real interpreters, through
build/pystack-dump (tests/helpers/pystack_dump.c): Debian's /usr/bin/python3
(libpython linked into the executable) and every ~/.pyenv/versions/3.8-3.13
present (a shared libpython3.X.so); a missing version is skipped with the
reason.  The programs are in tests/fixtures/pystack/; each marks the line
where a frame sits with '# at NAME'."""
import glob
import os
import shutil
import struct
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from conftest import built

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "pystack"
PYENV = Path(os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))) / "versions"


def interpreters():
    """(id, python, minor) for Debian's python3 and pyenv's 3.8 to 3.13;
    absent ones as skipped params carrying the reason."""
    out = [pytest.param("/usr/bin/python3", 11, id="debian-3.11")]
    for minor in range(8, 14):
        found = sorted(glob.glob(str(PYENV / f"3.{minor}.*" / "bin" / f"python3.{minor}")))
        if found:
            out.append(pytest.param(found[-1], minor, id=f"pyenv-3.{minor}"))
        else:
            out.append(pytest.param(None, minor, id=f"pyenv-3.{minor}", marks=pytest.mark.skip(
                reason=f"CPython 3.{minor} is not installed under {PYENV}")))
    return out


def lines_of(program, name):
    """The line numbers marked '# at NAME' in a fixture program."""
    text = (FIXTURES / program).read_text().splitlines()
    return [i + 1 for i, line in enumerate(text) if line.rstrip().endswith(f"# at {name}")]


def line_of(program, name):
    (n,) = lines_of(program, name)
    return n


@pytest.fixture(scope="module")
def dump(build):
    return built(build, "pystack-dump")


def start(procs, python, program, *args):
    """Starts a fixture program and waits for its first line of output;
    returns (process, that line)."""
    p = procs.start([python, FIXTURES / program, *args], stdout=subprocess.PIPE)
    first = p.stdout.readline().decode().strip()
    assert first, f"{program} under {python} printed nothing"
    return p, first


def run_dump(dump, *args, timeout=60, **kw):
    p = subprocess.run([str(dump), *map(str, args)], capture_output=True, timeout=timeout, **kw)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


def start_with_stdin(procs, python, program, *args):
    """start(), with the program's stdin a pipe the test writes to."""
    p = procs.start([python, FIXTURES / program, *args], stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE)
    first = p.stdout.readline().decode().strip()
    assert first, f"{program} under {python} printed nothing"
    return p, first


def settle(dump, pid, innermost, timeout=10.0):
    """Waits until a sample's innermost frame is the function innermost: a
    program prints that it is ready a moment before it gets there."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        rc, out, err = run_dump(dump, pid)
        got = samples(out) if rc == 0 else []
        if got and got[0][0] and got[0][0][0][0] == innermost:
            return
        time.sleep(0.02)
    pytest.fail(f"{innermost}() never ran in process {pid}: {out}{err}")


def samples(out):
    """The samples of pystack-dump's output: lists of (function, file, line),
    innermost first, each with the '-- ...' line that ends it."""
    got, cur = [], []
    for line in out.splitlines():
        if line.startswith("version "):
            continue
        if line.startswith("-- "):
            got.append((cur, line))
            cur = []
        else:
            f, file, n = line.split("\t")
            cur.append((f, file, int(n)))
    return got


@pytest.mark.parametrize("python,minor", interpreters())
def test_nested_stack_innermost_first(dump, procs, python, minor):
    """A program asleep in leaf() called from Holder.middle(), outer() and
    the module: every sample shows exactly those four frames, innermost
    first, with the program's file and the lines marked in it.  3.11+ name
    the method by its qualified name."""
    p, _ = start(procs, python, "nested.py")
    settle(dump, p.pid, "leaf")
    rc, out, err = run_dump(dump, p.pid, 5, 20)
    assert rc == 0, out + err
    assert out.startswith(f"version CPython 3.{minor}"), out
    file = str(FIXTURES / "nested.py")
    want = [("leaf", file, line_of("nested.py", "leaf")),
            ("Holder.middle" if minor >= 11 else "middle", file, line_of("nested.py", "middle")),
            ("outer", file, line_of("nested.py", "outer")),
            ("<module>", file, line_of("nested.py", "module"))]
    got = samples(out)
    assert len(got) == 5, out
    for frames, end in got:
        assert frames == want, out
        assert end.startswith("-- tid ") and end.endswith(" frames 4"), end
        # The main thread's native id is the pid.
        assert end.split()[2] == str(p.pid), end


@pytest.mark.parametrize("python,minor", interpreters())
def test_main_interpreter_behind_a_subinterpreter(dump, procs, python, minor):
    """A subinterpreter made at start goes to the head of CPython's list of
    interpreters: the stack read is still the main interpreter's."""
    p, _ = start(procs, python, "subinterp.py")
    settle(dump, p.pid, "leaf")
    rc, out, err = run_dump(dump, p.pid)
    assert rc == 0, out + err
    file = str(FIXTURES / "subinterp.py")
    assert samples(out)[0][0] == [("leaf", file, line_of("subinterp.py", "leaf")),
                                  ("<module>", file, line_of("subinterp.py", "module"))], out


@pytest.mark.parametrize("python,minor", interpreters())
def test_generators_and_unicode(dump, procs, python, minor, tmp_path):
    """Through a coroutine and a generator, into functions named in Latin-1
    and Greek, in a file under a directory named with an emoji: names and
    file come out as UTF-8, the frames innermost first."""
    d = tmp_path / "dir-ünï-😀"
    d.mkdir()
    shutil.copy(FIXTURES / "generators.py", d / "prog.py")
    p = procs.start([python, d / "prog.py"], stdout=subprocess.PIPE)
    assert p.stdout.readline() == b"ready\n"
    settle(dump, p.pid, "λάμβδα")
    rc, out, err = run_dump(dump, p.pid)
    assert rc == 0, out + err
    file = str(d / "prog.py")
    frames = samples(out)[0][0]
    assert frames[:4] == [("λάμβδα", file, line_of("generators.py", "lambda")),
                          ("café", file, line_of("generators.py", "cafe")),
                          ("gen", file, line_of("generators.py", "gen")),
                          ("coro", file, line_of("generators.py", "coro"))], out
    assert frames[-1] == ("<module>", file, line_of("generators.py", "module")), out


def test_undecodable_file_name(dump, procs, tmp_path):
    """A program under a directory whose name is not UTF-8 (byte 0xff):
    CPython holds its file name with a lone surrogate (surrogateescape);
    the reader gives U+FFFD in its place, so the name stays valid UTF-8."""
    d = os.fsencode(tmp_path) + b"/dir-\xff"
    os.mkdir(d)
    shutil.copy(FIXTURES / "nested.py", d + b"/prog.py")
    # As str with the surrogate: subprocess encodes it back to 0xff.
    p = procs.start(["/usr/bin/python3", os.fsdecode(d + b"/prog.py")], stdout=subprocess.PIPE)
    assert p.stdout.readline() == b"ready\n"
    settle(dump, p.pid, "leaf")
    rc, out, err = run_dump(dump, p.pid)
    assert rc == 0, out + err
    assert samples(out)[0][0][0] == ("leaf", f"{tmp_path}/dir-\ufffd/prog.py",
                                     line_of("nested.py", "leaf")), out


@pytest.mark.parametrize("python,minor", interpreters())
def test_threads_reads_the_gil_holder(dump, procs, python, minor):
    """A worker thread spins in pure Python while the main thread waits in
    join(): the stack read is the worker's (spin <- work <- threading's
    bootstrap), never the main thread's, in every sample, with the worker's
    native thread id (3.8 to 3.10 through its struct pthread)."""
    p, first = start(procs, python, "threads.py", "30", "spin")
    worker_tid = first.split()[1]
    settle(dump, p.pid, "spin")
    rc, out, err = run_dump(dump, p.pid, 5, 20)
    assert rc == 0, out + err
    got = samples(out)
    assert len(got) == 5, out
    file = str(FIXTURES / "threads.py")
    for frames, end in got:
        assert frames[0][:2] == ("spin", file) and frames[0][2] in lines_of("threads.py", "spin"), out
        assert frames[1] == ("work", file, line_of("threads.py", "work")), out
        assert all(f[1].endswith("threading.py") for f in frames[2:]), out
        assert end.split()[2] == worker_tid, end


@pytest.mark.parametrize("python,minor", interpreters())
def test_threads_none_holds_the_gil(dump, procs, python, minor):
    """The worker sleeps and the main thread waits in join(): no thread
    holds the GIL, so the stack read is the main thread's, from join()
    down to the module, with the main thread's id."""
    p, first = start(procs, python, "threads.py", "30", "nap")
    rc, out, err = run_dump(dump, p.pid, 3, 20)
    assert rc == 0, out + err
    file = str(FIXTURES / "threads.py")
    for frames, end in samples(out):
        assert frames[-1] == ("<module>", file, line_of("threads.py", "join")), out
        assert all(f[1].endswith("threading.py") for f in frames[:-1]), out
        assert end.split()[2] == str(p.pid), end


@pytest.mark.parametrize("python,minor", interpreters())
def test_recompiled_code_at_a_reused_address(dump, procs, python, minor):
    """Each round compiles a new function f<round> in a file '<round N>',
    frees the previous one (so the new code object mostly takes its
    address) and waits in it for a line on stdin: one reader, sampling in
    each round, names that round's function and file every time, never the
    one it cached."""
    p = procs.start([python, FIXTURES / "recompile.py", "5"], stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE)
    # Once the program runs: before its exec, the process is another one.
    line = p.stdout.readline()
    d = procs.start([dump, "--stdin", p.pid], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    first = d.stdout.readline()
    assert first.startswith(b"version "), first
    addrs = set()
    for _ in range(5):
        i, addr = (line or p.stdout.readline()).split()
        line = None
        addrs.add(addr)
        settle(dump, p.pid, f"f{int(i)}")
        d.stdin.write(b"\n")
        d.stdin.flush()
        lines = []
        while not lines or not lines[-1].startswith("-- "):
            lines.append(d.stdout.readline().decode())
        innermost = lines[0].split("\t")
        assert innermost[:2] == [f"f{int(i)}", f"<round {int(i)}>"], lines
        p.stdin.write(b"\n")  # on to the next round
        p.stdin.flush()
    # The case is there: code objects came back at an address seen before.
    assert len(addrs) < 5, addrs
    d.stdin.close()
    assert d.wait(timeout=10) == 0
    assert p.wait(timeout=10) == 0


@pytest.mark.parametrize("python,minor", interpreters())
def test_target_exits_while_read(dump, procs, python, minor):
    """A program whose stack and code objects change all the time is read
    back to back, and told to exit meanwhile: the reader never crashes or
    hangs, every sample is a stack, a torn read (-EAGAIN) or the end
    (-ESRCH), and the last one says the process is gone."""
    p, _ = start_with_stdin(procs, python, "churn.py")
    d = procs.start([dump, "--until-gone", p.pid], stdout=subprocess.PIPE)
    assert d.stdout.readline().startswith(b"version "), "the reader did not open"
    time.sleep(0.3)
    p.stdin.write(b"\n")  # exit now, while being read
    p.stdin.flush()
    out = d.stdout.read().decode()
    assert d.wait(timeout=30) == 0, out
    assert p.wait(timeout=10) == 0
    words = out.split()
    assert words[0] == "samples" and words[-1] == "ESRCH", out
    n, frames, eagain = int(words[1]), int(words[3]), int(words[5])
    assert frames > 0 and eagain < n, out  # frames: summed over the samples


def test_bench_30_frames(dump, procs):
    """A steady 30-deep recursion (31 frames with the module) read 2000
    times: every sample reads all 31 frames, and the caches do not grow
    with the samples.  Prints the CPU time per sample and the memory (the
    figures for make bench; nothing timed is asserted)."""
    p, _ = start(procs, "/usr/bin/python3", "deep.py", "30")
    settle(dump, p.pid, "down")
    rc, few, err = run_dump(dump, "--bench", p.pid, 10)
    assert rc == 0, few + err
    rc, many, err = run_dump(dump, "--bench", p.pid, 2000)
    assert rc == 0, many + err
    print("\npystack-dump --bench (Debian python3.11, 31 frames):", many.strip())
    w_few, w_many = few.split(), many.split()
    assert w_many[3] == "31" and w_many[5] == "2000" and w_many[7] == "2000", many
    assert w_few[9] == w_many[9], (few, many)  # pystack_memory


@pytest.mark.parametrize("python,minor", interpreters())
def test_steady_stack_one_read_per_sample(dump, procs, python, minor):
    """A program sitting 31 frames deep is read with about one
    process_vm_readv a sample: the pages one sample read are copied again
    in one call when the next starts (lib/pystack_sample.c).  Read page by
    page, as before, it took 7 calls a sample on 3.11+ and 12 to 15 on 3.8
    to 3.10, whose frames are scattered objects."""
    p, _ = start(procs, python, "deep.py", "30")
    settle(dump, p.pid, "down")
    rc, out, err = run_dump(dump, "--bench", p.pid, 500)
    assert rc == 0, out + err
    got = dict(zip(out.split()[::2], out.split()[1::2]))
    assert got["frames"] == "31" and got["ok"] == "500", out
    assert float(got["reads_per_sample"]) <= 1.5, out


@pytest.mark.parametrize("mode", ["threads", "frames", "torn", "torn 3.10", "random"])
def test_made_up_interpreter(build, dump, procs, mode):
    """build/pystack-fake (tests/helpers/pystack_fake.c) exports a
    _PyRuntime whose thread list loops, whose frames loop, whose words are
    torn one at a time (also as 3.10 lays them out, whose f_lasti the
    reader doubles: a torn one overflowed an int, which check-asan's UBSan
    stops on), or rewritten at random all the time.  5000 samples each: no
    crash, no hang, every sample a stack, an empty one or -EAGAIN; the
    loops always -EAGAIN; the torn ones mostly their two frames."""
    p = procs.start([built(build, "pystack-fake"), *mode.split()], stdout=subprocess.PIPE)
    assert p.stdout.readline() == b"ready\n"
    rc, out, err = run_dump(dump, "--stats", p.pid, 5000, timeout=120)
    assert rc == 0, out + err
    words = out.split()
    n, frames, eagain, other = (int(words[i]) for i in (1, 3, 5, 7))
    assert n == 5000 and other == 0, out
    if mode in ("threads", "frames"):
        assert eagain == n, out
    elif mode.startswith("torn"):
        assert frames > n // 2, out
    assert frames + eagain <= n, out


def test_non_python_target(dump, procs):
    """/bin/sleep is no Python: ENOTSUP and one line saying why."""
    p = procs.start(["/bin/sleep", "30"])
    rc, out, err = run_dump(dump, p.pid)
    assert rc == 1
    assert out == ("pystack_dump: ENOTSUP: no _PyRuntime in /usr/bin/sleep nor a libpython "
                   "mapped: not CPython 3.8 to 3.13, or its symbols are stripped\n"), out


def test_pypy_named(dump, procs, tmp_path):
    """A program called pypy3 without a CPython runtime (PyPy is not
    installed here: a copy of sleep stands in) is refused as PyPy."""
    exe = tmp_path / "pypy3"
    shutil.copy("/bin/sleep", exe)
    p = procs.start([exe, "30"])  # Popen returns once the exec is done
    rc, out, err = run_dump(dump, p.pid)
    assert rc == 1
    assert out == "pystack_dump: ENOTSUP: PyPy is not supported (CPython 3.8 to 3.13 are)\n", out


@pytest.mark.parametrize("version", ["3.7", "2.7"])
def test_unsupported_pyenv_version(dump, procs, version):
    """pyenv's CPython 3.7 has a _PyRuntime but another layout; 2.7 has
    none: each is refused with its reason on one line."""
    found = sorted(glob.glob(str(PYENV / f"{version}.*" / "bin" / f"python{version}")))
    if not found:
        pytest.skip(f"CPython {version} is not installed under {PYENV}")
    p = procs.start([found[-1], "-c", "import sys, time; sys.stdout.write('ready\\n'); "
                     "sys.stdout.flush(); time.sleep(30)"], stdout=subprocess.PIPE)
    assert p.stdout.readline() == b"ready\n"
    rc, out, err = run_dump(dump, p.pid)
    assert rc == 1
    if version == "3.7":
        assert out == "pystack_dump: ENOTSUP: CPython 3.7 is not supported (3.8 to 3.13 are)\n"
    else:
        lib = glob.glob(str(PYENV / f"{version}.*" / "lib" / "libpython2.7.so.1.0"))[-1]
        assert out == (f"pystack_dump: ENOTSUP: no _PyRuntime in {lib}: not CPython 3.8 to 3.13, "
                       "or its symbols are stripped\n"), out


def test_stripped_symbol(dump, procs, tmp_path):
    """A copy of Debian's python3.11 whose .dynsym no longer names
    _PyRuntime (the name patched in .dynstr) still runs, and is refused
    with the reason, naming the file."""
    data = Path("/usr/bin/python3.11").read_bytes()
    assert data.count(b"\0_PyRuntime\0") == 1
    copy = tmp_path / "python3.11"
    copy.write_bytes(data.replace(b"\0_PyRuntime\0", b"\0_PyRuntimX\0"))
    copy.chmod(0o755)
    p = procs.start([copy, "-c", "import time; print('ready', flush=True); time.sleep(30)"],
                    stdout=subprocess.PIPE)
    assert p.stdout.readline() == b"ready\n"
    rc, out, err = run_dump(dump, p.pid)
    assert rc == 1
    assert out == (f"pystack_dump: ENOTSUP: no _PyRuntime in {copy} nor a libpython mapped: "
                   "not CPython 3.8 to 3.13, or its symbols are stripped\n"), out


def without_section_headers(src, dst):
    """A copy of the ELF file src with no section headers, as sstrip leaves
    it: the dynamic loader does not need them, a reader looking for
    .dynsym by section finds nothing."""
    b = bytearray(Path(src).read_bytes())
    struct.pack_into("<Q", b, 0x28, 0)     # e_shoff
    struct.pack_into("<HH", b, 0x3c, 0, 0)  # e_shnum, e_shstrndx
    Path(dst).write_bytes(b)
    Path(dst).chmod(0o755)


@pytest.mark.parametrize("kind", ["debian-executable", "pyenv-libpython"])
def test_no_section_headers(dump, procs, tmp_path, kind):
    """Debian's python3.11, or pyenv's newest libpython3.1X.so (3.11+), with its
    section headers removed: _PyRuntime is found through PT_DYNAMIC's GNU
    hash table and the stack is read as usual."""
    if kind == "debian-executable":
        python = tmp_path / "python3.11"
        without_section_headers("/usr/bin/python3.11", python)
        env = None
    else:
        libs = sorted(glob.glob(str(PYENV / "3.1[1-9].*" / "lib" / "libpython3.*.so.1.0")))
        if not libs:
            pytest.skip(f"no shared libpython 3.11+ under {PYENV}")
        lib = Path(libs[-1])
        without_section_headers(lib, tmp_path / lib.name)
        minor = lib.name.split(".")[1]
        python = lib.parent.parent / "bin" / f"python3.{minor}"
        env = dict(os.environ, LD_LIBRARY_PATH=str(tmp_path))  # before its RUNPATH
    p = procs.start([python, FIXTURES / "nested.py"], stdout=subprocess.PIPE, env=env)
    assert p.stdout.readline() == b"ready\n"
    if env:
        assert str(tmp_path) in Path(f"/proc/{p.pid}/maps").read_text()
    settle(dump, p.pid, "leaf")
    rc, out, err = run_dump(dump, p.pid)
    assert rc == 0, out + err
    assert [f[0] for f in samples(out)[0][0]] == ["leaf", "Holder.middle", "outer", "<module>"], out


def test_deleted_libpython(dump, procs, tmp_path):
    """pyenv's newest libpython3.1X.so (3.11+), copied, run, then deleted
    under the running program (as an upgrade does): maps says
    '(deleted)', the file is read through /proc/PID/map_files."""
    libs = sorted(glob.glob(str(PYENV / "3.1[1-9].*" / "lib" / "libpython3.*.so.1.0")))
    if not libs:
        pytest.skip(f"no shared libpython 3.11+ under {PYENV}")
    lib = Path(libs[-1])
    shutil.copy(lib, tmp_path / lib.name)
    python = lib.parent.parent / "bin" / f"python3.{lib.name.split('.')[1]}"
    env = dict(os.environ, LD_LIBRARY_PATH=str(tmp_path))
    p = procs.start([python, FIXTURES / "nested.py"], stdout=subprocess.PIPE, env=env)
    assert p.stdout.readline() == b"ready\n"
    (tmp_path / lib.name).unlink()
    assert f"{tmp_path / lib.name} (deleted)" in Path(f"/proc/{p.pid}/maps").read_text()
    settle(dump, p.pid, "leaf")
    rc, out, err = run_dump(dump, p.pid)
    assert rc == 0, out + err
    assert [f[0] for f in samples(out)[0][0]] == ["leaf", "Holder.middle", "outer", "<module>"], out


def test_embedded_libpython(build, dump, procs):
    """build/pystack-embed embeds Debian's shared libpython3.11 (as uwsgi
    does): its executable has no _PyRuntime, the mapped library has."""
    p = procs.start([built(build, "pystack-embed"), FIXTURES / "nested.py"],
                    stdout=subprocess.PIPE)
    assert p.stdout.readline() == b"ready\n"
    assert "/libpython3.11.so" in Path(f"/proc/{p.pid}/maps").read_text()
    settle(dump, p.pid, "leaf")
    rc, out, err = run_dump(dump, p.pid)
    assert rc == 0, out + err
    assert out.startswith("version CPython 3.11."), out
    assert [f[0] for f in samples(out)[0][0]] == ["leaf", "Holder.middle", "outer", "<module>"], out


def test_deleted_libpython_read_from_memory(build, dump, procs):
    """An unprivileged user's embedded interpreter whose libpython is
    deleted under it: /proc/PID/map_files needs CAP_SYS_ADMIN, so the
    reader, run as that same user, finds _PyRuntime in the library as the
    process has it loaded (PT_DYNAMIC and its GNU hash table in memory)."""
    if os.geteuid() != 0:
        pytest.skip("needs root to run both sides as another user")
    d = Path(tempfile.mkdtemp(prefix="pystack-deleted-"))
    try:
        d.chmod(0o755)
        for src in ("/usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0",
                    built(build, "pystack-embed"), dump, FIXTURES / "nested.py"):
            shutil.copy(src, d)
        lib = d / "libpython3.11.so.1.0"
        nobody = dict(user=65534, group=65534, extra_groups=[])
        p = procs.start([d / "pystack-embed", d / "nested.py"], stdout=subprocess.PIPE,
                        env=dict(os.environ, LD_LIBRARY_PATH=str(d)), cwd=d, **nobody)
        assert p.stdout.readline() == b"ready\n"
        lib.unlink()
        assert f"{lib} (deleted)" in Path(f"/proc/{p.pid}/maps").read_text()
        settle(dump, p.pid, "leaf")  # as root, through map_files
        rc, out, err = run_dump(d / "pystack-dump", p.pid, **nobody)
    finally:
        shutil.rmtree(d)
    assert rc == 0, out + err
    assert [f[:2] for f in samples(out)[0][0]] == [
        ("leaf", f"{d}/nested.py"), ("Holder.middle", f"{d}/nested.py"),
        ("outer", f"{d}/nested.py"), ("<module>", f"{d}/nested.py")], out


def test_no_ptrace_access(dump, procs):
    """Another user without CAP_SYS_PTRACE cannot read a root process:
    EPERM and one line saying what to do."""
    if os.geteuid() != 0:
        pytest.skip("needs root to run the reader as another user")
    # pytest's own temporary directories are root's alone.
    d = Path(tempfile.mkdtemp(prefix="pystack-eperm-"))
    try:
        d.chmod(0o755)
        exe = d / "pystack-dump"
        shutil.copy(dump, exe)
        exe.chmod(0o755)
        p, _ = start(procs, "/usr/bin/python3", "nested.py")
        rc, out, err = run_dump(exe, p.pid, user=65534, group=65534, extra_groups=[])
    finally:
        shutil.rmtree(d)
    assert rc == 1, out + err
    assert out == (f"pystack_dump: EPERM: no ptrace read access to process {p.pid}: run as its "
                   "user with kernel.yama.ptrace_scope <= 1, or as root (CAP_SYS_PTRACE)\n"), out
