"""memtided's systemd files and `make install`, checked offline by systemd's
own tools: the unit verifies without a word, its exposure score stays at or
under 1.5, sysusers.d creates the user and tmpfiles.d the state directory,
and `make install DESTDIR=...` lays out every file where Debian's systemd
looks.

Nothing here needs systemd running.  `systemd-analyze verify` checks that
ExecStart= exists and that the Documentation= man pages open, both on the
real file system, so the unit under test is installed with PREFIX in a
scratch directory (ExecStart= then names a file that exists) and MANPATH
pointing at the man pages installed with it.  Where build/memtided is not
built yet, a stand-in executable takes its place: verify checks the unit,
not the daemon.
"""
import os
import re
import shutil
import subprocess

import pytest

from conftest import HERE

REPO = (HERE / ".." / "..").resolve()


def make(build, *args):
    """Runs make in the repository on the build directory under test."""
    p = subprocess.run(["make", "-s", "-C", str(REPO), f"B={build}", *args],
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stdout + p.stderr
    return p


def tool(*argv, env=None):
    p = subprocess.run([str(a) for a in argv], capture_output=True, text=True,
                       timeout=120, env=env)
    return p.returncode, p.stdout + p.stderr


@pytest.fixture(scope="module")
def prefixed(build, tmp_path_factory):
    """memtide installed with every directory under one scratch prefix, as
    `make install` would lay it out for PREFIX=/usr.  Returns that root."""
    root = tmp_path_factory.mktemp("prefixed")
    make(build, "install", f"PREFIX={root}/usr", f"SYSCONFDIR={root}/etc",
         f"UNITDIR={root}/usr/lib/systemd/system",
         f"SYSUSERSDIR={root}/usr/lib/sysusers.d",
         f"TMPFILESDIR={root}/usr/lib/tmpfiles.d")
    daemon = root / "usr/sbin/memtided"
    if not daemon.exists():
        shutil.copy("/bin/true", daemon)
    return root


@pytest.fixture(scope="module")
def destdir(build, tmp_path_factory):
    """`make install DESTDIR=... PREFIX=/usr`, as a package build does it."""
    root = tmp_path_factory.mktemp("destdir")
    make(build, "install", f"DESTDIR={root}", "PREFIX=/usr")
    return root


def verify(unit, root):
    return tool("systemd-analyze", "verify", unit,
                env={**os.environ, "MANPATH": f"{root}/usr/share/man"})


def exposure(unit):
    rc, out = tool("systemd-analyze", "security", "--offline=yes", unit)
    m = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", out)
    assert m, out
    return float(m.group(1)), out


def test_unit_verifies_silently(prefixed):
    unit = prefixed / "usr/lib/systemd/system/memtided.service"
    assert f"ExecStart={prefixed}/usr/sbin/memtided\n" in unit.read_text()
    rc, out = verify(unit, prefixed)
    assert rc == 0 and out == "", out


def test_verify_would_catch_a_broken_unit(prefixed, tmp_path):
    """The silence above means something: a missing binary, a misspelt
    directive and a man page that does not exist are all reported."""
    bad = tmp_path / "memtided.service"
    bad.write_text((prefixed / "usr/lib/systemd/system/memtided.service")
                   .read_text()
                   .replace("memtided\n", "memtided-missing\n", 1)
                   .replace("ProtectHome=", "ProtectHom=")
                   .replace("man:memtided(8)", "man:memtided-nope(8)"))
    rc, out = verify(bad, prefixed)
    assert "memtided-missing" in out
    assert "ProtectHom" in out
    assert "memtided-nope" in out


def test_exposure_at_most_1_5(prefixed):
    score, out = exposure(prefixed / "usr/lib/systemd/system/memtided.service")
    assert score <= 1.5, out
    # What the score rests on: every capability but the two it needs is
    # gone, no IP sockets, and /proc shows other users' processes only
    # through ptrace access.
    unit = (prefixed / "usr/lib/systemd/system/memtided.service").read_text()
    assert "\nCapabilityBoundingSet=CAP_SYS_PTRACE CAP_NET_ADMIN\n" in unit
    assert "\nRestrictAddressFamilies=AF_UNIX AF_NETLINK\n" in unit
    assert "\nProtectProc=invisible\n" in unit
    assert "\nUser=memtide\n" in unit and "\nType=notify\n" in unit


def test_metrics_dropin_keeps_the_unit_valid(prefixed, tmp_path):
    """The unit with examples/memtided-metrics.conf applied (what an
    operator does to serve /metrics) still verifies, allows IP sockets to
    loopback only, and its exposure is reported by the same tool."""
    dropin = (prefixed / "usr/share/doc/memtide/examples/memtided-metrics.conf")
    merged = tmp_path / "memtided.service"
    merged.write_text(
        (prefixed / "usr/lib/systemd/system/memtided.service").read_text()
        .replace("[Install]", dropin.read_text().replace("[Service]", "")
                 + "\n[Install]"))
    rc, out = verify(merged, prefixed)
    assert rc == 0 and out == "", out
    text = merged.read_text()
    assert "IPAddressDeny=any" in text and "IPAddressAllow=localhost" in text
    score, out = exposure(merged)
    assert score <= 2.0, out


def test_sysusers_creates_the_user(destdir):
    rc, out = tool("systemd-sysusers", f"--root={destdir}")
    assert rc == 0, out
    passwd = (destdir / "etc/passwd").read_text().splitlines()
    user = [l.split(":") for l in passwd if l.startswith("memtide:")]
    assert len(user) == 1, passwd
    _, _, uid, gid, _, home, shell = user[0]
    assert 0 < int(uid) < 1000 and home == "/var/lib/memtide"
    assert shell == "/usr/sbin/nologin"
    group = [l for l in (destdir / "etc/group").read_text().splitlines()
             if l.startswith("memtide:")]
    assert len(group) == 1 and group[0].split(":")[2] == gid


def test_tmpfiles_creates_the_state_directory(destdir):
    rc, out = tool("systemd-sysusers", f"--root={destdir}")
    assert rc == 0, out
    rc, out = tool("systemd-tmpfiles", f"--root={destdir}", "--create")
    assert rc == 0, out
    uid = next(l.split(":")[2] for l in
               (destdir / "etc/passwd").read_text().splitlines()
               if l.startswith("memtide:"))
    st = (destdir / "var/lib/memtide").stat()
    assert oct(st.st_mode & 0o7777) == "0o750"
    assert st.st_uid == int(uid) and st.st_gid == int(uid)
    assert (destdir / "etc/memtide").is_dir()


def test_make_install_lays_out_every_file(destdir, build):
    want = {
        "usr/bin/memtide": 0o755, "usr/bin/memtide-plot": 0o755,
        "usr/lib/systemd/system/memtided.service": 0o644,
        "usr/lib/sysusers.d/memtide.conf": 0o644,
        "usr/lib/tmpfiles.d/memtide.conf": 0o644,
        "etc/memtide/memtided.conf": 0o644,
        "usr/share/doc/memtide/examples/memtided.conf": 0o644,
        "usr/share/doc/memtide/examples/memtided-metrics.conf": 0o644,
        "usr/share/man/man1/memtide.1": 0o644,
        "usr/share/man/man1/memtide-plot.1": 0o644,
        "usr/share/man/man5/memtided.conf.5": 0o644,
        "usr/share/man/man8/memtided.8": 0o644,
    }
    if (build / "memtided").exists():
        want["usr/sbin/memtided"] = 0o755
    for rel, mode in want.items():
        p = destdir / rel
        assert p.is_file(), rel
        assert p.stat().st_mode & 0o777 == mode, rel
    unit = (destdir / "usr/lib/systemd/system/memtided.service").read_text()
    assert "ExecStart=/usr/sbin/memtided\n" in unit
    assert not re.search(r"@[A-Z]+@", unit), unit
    assert "/usr/share/doc/memtide/examples/memtided-metrics.conf" in unit


def test_install_keeps_an_existing_config(build, tmp_path):
    conf = tmp_path / "etc/memtide/memtided.conf"
    conf.parent.mkdir(parents=True)
    conf.write_text("[memtided]\ninterval = 5s\n")
    make(build, "install", f"DESTDIR={tmp_path}", "PREFIX=/usr")
    assert conf.read_text() == "[memtided]\ninterval = 5s\n"
    make(build, "uninstall", f"DESTDIR={tmp_path}", "PREFIX=/usr")
    left = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*")
                  if p.is_file())
    assert left == ["etc/memtide/memtided.conf"]


def test_example_config_names_every_key():
    """examples/memtided.conf shows every key memtided.conf(5) documents."""
    page = (REPO / "man/memtided.conf.5.scd").read_text()
    keys = set(re.findall(r"^\*([a-z\\_]+) =\*", page, re.M))
    keys = {k.replace("\\_", "_") for k in keys}
    assert {"database", "interval", "scan", "retention", "rollup_retention",
            "metrics", "redact", "python", "cmdline", "user", "unit", "pid",
            "children", "pss", "log_level"} <= keys
    example = (REPO / "examples/memtided.conf").read_text()
    shown = set(re.findall(r"^;([a-z_]+) =", example, re.M))
    assert keys <= shown, keys - shown
