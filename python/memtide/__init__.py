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

The module needs nothing but the standard library.  A marker never raises and
never waits more than SEND_TIMEOUT seconds (only when the recorder is too busy
to read its queue).
"""

import functools
import itertools
import os
import socket
import threading
import time

__all__ = ["mark", "marked", "moment", "enabled"]

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


def _send(kind, ident, level, label):
    global _sock, _sock_pid, _addr
    addr = _address()
    if addr is None:
        return
    msg = ("%s %.6f %d %d %s" % (kind, time.time(), ident, level, label)).encode(
        "utf-8", "replace")[:_MSG_MAX - 1]
    try:
        with _lock:
            # A forked child gets its own socket: the kernel names the
            # sender, and the parent's may be in use.
            if _sock is None or _sock_pid != os.getpid() or _addr != addr:
                if _sock is not None:
                    _sock.close()
                _sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
                _sock.settimeout(SEND_TIMEOUT)
                _sock_pid = os.getpid()
                _addr = addr
            _sock.sendto(msg, addr)
    except (OSError, ValueError):
        pass


def _level():
    return getattr(_depth, "n", 0)


class mark:
    """A span of the program: ``with memtide.mark("label"): ...``.

    Spans nest; each records its depth (0 outermost, as mprof's stack
    level).  The same object may be entered again after it exits."""

    __slots__ = ("label", "_id", "_level")

    def __init__(self, label):
        self.label = str(label)
        self._id = 0
        self._level = 0

    def __enter__(self):
        self._id = next(_ids)
        self._level = _level()
        _depth.n = self._level + 1
        _send("B", self._id, self._level, self.label)
        return self

    def __exit__(self, *exc):
        _depth.n = self._level
        _send("E", self._id, self._level, self.label)
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
    _send("M", 0, _level(), str(label))
