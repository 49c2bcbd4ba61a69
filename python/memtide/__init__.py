"""Markers for memtide: name the parts of a program in its memory history.

    import memtide

    with memtide.mark("load data"):      # a span: its start and end
        data = load()

    @memtide.marked                       # every call of train() is a span
    def train(data): ...

    memtide.moment("checkpoint written")  # a single moment

Under ``memtide run`` (which names its marker socket in $MEMTIDE_MARK_SOCKET)
each start and end is one datagram to the recorder, stamped with the time it
happened; memtide stores them with the run (the ``marks`` view, FUNC lines of
``memtide export --format mprof``).  Anywhere else every call is a silent
no-op, so the markers can stay in the code.  Nothing is imported or patched:
it works the same with ``python -m``, in threads and after fork.

Each start and end also carries this process's own memory, read from
/proc/self/status when it happens: the resident set (VmRSS) and the kernel's
high-water mark (VmHWM), which is then reset (``5`` to /proc/self/clear_refs)
so that the next event learns the peak of the stretch in between.  A span's
peak is the largest of those stretches while it was open, so a span shorter
than the sampling interval still gets its exact start, end and peak
(``mark.mem_start``, ``mem_end``, ``mem_peak``, in bytes, after it exits).
Resetting VmHWM lowers what getrusage(RUSAGE_SELF).ru_maxrss later reports
for this process; the recorder keeps every stretch's peak, so memtide's own
kernel peak stays the lifetime one.  Outside memtide run only a
``mark(..., measure=True)`` reads and resets it (the pytest plugin's budgets).  Where /proc/self/clear_refs cannot be
written, a span's peak is a bound: VmHWM when it rose inside the span, else
the larger of its two ends.

The module needs nothing but the standard library.  A marker never raises and
never waits more than SEND_TIMEOUT seconds (only when the recorder is too busy
to read its queue).  ``memtide run`` puts the directory of this package first
on PYTHONPATH, so ``import memtide`` works in any interpreter or virtualenv it
runs, installed or not.
"""

import functools
import itertools
import os
import socket
import struct
import threading
import time

__all__ = ["mark", "marked", "moment", "enabled", "memory", "profile"]

ENV = "MEMTIDE_MARK_SOCKET"
SEND_TIMEOUT = 0.2
_MSG_MAX = 4096

_lock = threading.Lock()
_sock = None
_sock_pid = None
_addr = None
_ids = itertools.count(1)
_depth = threading.local()


def _address():
    path = os.environ.get(ENV)
    if not path:
        return None
    # "@name" is a socket in the abstract namespace.
    return "\0" + path[1:] if path.startswith("@") else path


def enabled():
    """True when a memtide recorder listens for this process's markers."""
    return _address() is not None


def _send(kind, ident, level, label, field=None, t=None):
    global _sock, _sock_pid, _addr
    addr = _address()
    if addr is None:
        return
    if field is None:
        field = "@" if label.startswith("@") else ""
    msg = ("%s %.6f %d %d %s%s%s" % (kind, time.time() if t is None else t, ident,
                                   level, field, " " if field else "",
                                   label)).encode(
        "utf-8", "replace")[:_MSG_MAX - 1]
    try:
        with _lock:
            # A forked child gets its own socket: the kernel names the
            # sender, and the parent's may be in use.
            if _sock is None or _sock_pid != os.getpid() or _addr != addr:
                if _sock is not None:
                    _sock.close()
                _sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
                # SO_SNDTIMEO, not settimeout(): Python would poll() before
                # every send, a second system call each marker.
                _sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO,
                                 struct.pack("ll", 0, int(SEND_TIMEOUT * 1e6)))
                _sock_pid = os.getpid()
                _addr = addr
            _sock.sendto(msg, addr)
    except (OSError, ValueError):
        pass


def _level():
    return getattr(_depth, "n", 0)


# Kept open: an open/read/close of /proc/self/status costs more than the
# read itself.  /proc/self is resolved at open, so a forked child reopens.
_fds = {"pid": None, "status": -1, "clear": -1}


_fds_lock = threading.Lock()


def _proc_fds():
    if _fds["pid"] == os.getpid():
        return _fds
    with _fds_lock:
        return _reopen_fds()


def _reopen_fds():
    pid = os.getpid()
    if _fds["pid"] == pid:
        return _fds
    for k in ("status", "clear"):
        if _fds[k] >= 0:
            try:
                os.close(_fds[k])
            except OSError:
                pass
        _fds[k] = -1
    for k, path, flags in (("status", "/proc/self/status", os.O_RDONLY),
                           ("clear", "/proc/self/clear_refs", os.O_WRONLY)):
        try:
            _fds[k] = os.open(path, flags | os.O_CLOEXEC)
        except OSError:
            pass
    # Last: other threads use the fds once the pid says they are ours.
    _fds["pid"] = pid
    return _fds


def _field_kib(buf, key):
    i = buf.find(key)
    if i < 0:
        return None
    j = buf.find(b"kB", i)
    return int(buf[i + len(key):j])


def memory():
    """(VmRSS, VmHWM) of this process in bytes, or None where /proc has
    no such figures."""
    fd = _proc_fds()["status"]
    if fd < 0:
        return None
    try:
        buf = os.pread(fd, 8192, 0)
        rss = _field_kib(buf, b"VmRSS:")
        hwm = _field_kib(buf, b"VmHWM:")
    except (OSError, ValueError):
        return None
    if rss is None or hwm is None:
        return None
    return rss * 1024, hwm * 1024


# The peak of every span this process has open, by span id: VmHWM is one per
# process, so each event's stretch counts for all of them.
_open = {}
_open_lock = threading.Lock()
_can_reset = [True]


def _reset_hwm():
    if not _can_reset[0]:
        return False
    fd = _proc_fds()["clear"]
    try:
        if fd < 0:
            raise OSError
        os.write(fd, b"5")
        return True
    except OSError:
        _can_reset[0] = False
        return False


def _stretch():
    """Reads this process's memory at an event and folds the peak of the
    stretch since the last event into every open span.  Returns (rss, hwm)
    or None."""
    m = memory()
    if m is None:
        return None
    with _open_lock:
        for k, peak in _open.items():
            if m[1] > peak:
                _open[k] = m[1]
        _reset_hwm()
    return m


def _forget_open():
    # A forked child has its own memory: its parent's spans are not its own.
    # Its locks are new: another thread of the parent may have held one.
    global _lock, _open_lock, _fds_lock
    _lock = threading.Lock()
    _open_lock = threading.Lock()
    _fds_lock = threading.Lock()
    _open.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_open)


def _mem_field(rss=None, peak=None, hwm=None, outcome=None):
    """The datagram's memory field: "@rss=N,peak=N,hwm=N,outcome=word"."""
    parts = []
    for k, v in (("rss", rss), ("peak", peak), ("hwm", hwm)):
        if v is not None:
            parts.append("%s=%d" % (k, v))
    if outcome:
        parts.append("outcome=" + "".join(
            c if c.isalnum() or c in "_-." else "_" for c in str(outcome))[:64])
    return "@" + ",".join(parts)


class mark:
    """A span of the program: ``with memtide.mark("label"): ...``.

    Spans nest; each records its depth (0 outermost, as mprof's stack
    level).  The same object may be entered again after it exits.

    Set ``outcome`` (a word such as "passed") before the span ends to keep
    it with the marker.  After the span ends, ``mem_start``, ``mem_end`` and
    ``mem_peak`` are this process's memory at its start, at its end and the
    highest in between (bytes; None when unknown).

    Memory is read only under ``memtide run``, or with ``measure=True``.
    A mark whose label is None sends nothing: it only measures.
    """

    __slots__ = ("label", "outcome", "mem_start", "mem_end", "mem_peak",
                 "_id", "_level", "_hwm0", "_measure", "_measured")

    def __init__(self, label, measure=False):
        self.label = None if label is None else str(label)
        self.outcome = None
        self._measure = measure
        self._measured = False
        self.mem_start = self.mem_end = self.mem_peak = None
        self._id = 0
        self._level = 0
        self._hwm0 = None

    def __enter__(self):
        self._id = next(_ids)
        self._level = _level()
        if self.label is not None:
            _depth.n = self._level + 1
        t = time.time()
        self._measured = self._measure or enabled()
        m = _stretch() if self._measured else None
        self.mem_start = self.mem_end = self.mem_peak = None
        field = None
        if m is not None:
            self.mem_start = m[0]
            self._hwm0 = m[1]
            with _open_lock:
                _open[(self._id, threading.get_ident())] = m[0]
            field = _mem_field(rss=m[0], hwm=m[1])
        if self.label is not None:
            _send("B", self._id, self._level, self.label, field, t)
        return self

    def __exit__(self, *exc):
        if self.label is not None:
            _depth.n = self._level
        t = time.time()
        m = _stretch() if self._measured else None
        field = None
        if m is not None:
            with _open_lock:
                peak = _open.pop((self._id, threading.get_ident()), None)
            if peak is None or not _can_reset[0]:
                # No reset: VmHWM bounds the peak; exact when it rose here.
                peak = m[1] if self._hwm0 is None or m[1] > self._hwm0 else 0
            self.mem_end = m[0]
            self.mem_peak = max(peak, m[0], self.mem_start or 0)
            field = _mem_field(rss=m[0], peak=self.mem_peak, hwm=m[1],
                               outcome=self.outcome)
        elif self.outcome:
            field = _mem_field(outcome=self.outcome)
        if self.label is not None:
            _send("E", self._id, self._level, self.label, field, t)
        return False

    def __call__(self, func):
        """``@memtide.mark("label")`` marks each call of func."""
        return marked(self.label)(func)


def marked(func=None):
    """Marks every call of a function as a span labelled module.qualname:
    ``@memtide.marked``, or ``@memtide.marked("label")`` for another label."""
    if isinstance(func, str) or func is None:
        label = func

        def deco(f):
            return _wrap(f, label)
        return deco
    return _wrap(func, None)


def _wrap(func, label):
    if label is None:
        label = "%s.%s" % (getattr(func, "__module__", "?"),
                           getattr(func, "__qualname__", func.__name__))

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with mark(label):
            return func(*args, **kwargs)
    return wrapper


def moment(label):
    """Marks a single moment."""
    label = str(label)
    t = time.time()
    m = memory() if enabled() else None
    _send("M", 0, _level(), label,
          _mem_field(rss=m[0]) if m is not None else None, t)


def profile(func=None, precision=None, **_ignored):
    """memory_profiler's ``@profile`` as ``mprof run --python`` gives it:
    each call is a span labelled module.name (mprof's FUNC name).
    ``memtide run`` makes it a builtin for the scripts it runs, so that
    decorated scripts run unchanged."""
    if func is None:
        return lambda f: profile(f, precision)
    if not callable(func):
        raise ValueError("Value must be callable")
    return marked("%s.%s" % (getattr(func, "__module__", "?"),
                             getattr(func, "__name__", "?")))(func)
