"""memtide run's start-up shim for the Python programs it records.

``memtide run`` puts this file's directory first on PYTHONPATH, so that
``import memtide`` works in any interpreter or virtualenv it runs, and
Python imports this module at start-up (site.py imports "sitecustomize").
With $MEMTIDE_PROFILE_BUILTIN set (memtide run script.py, or --python) it
makes ``profile`` a builtin that marks each call of a decorated function, as
``mprof run --python`` does, so scripts written for mprof run unchanged.

Then it hands over to the sitecustomize this one hides (Debian's, a
virtualenv's), so a program starts as it would without memtide.  Nothing
here may fail a program: every error is swallowed.
"""


def _profile_builtin():
    import builtins
    import os

    if not os.environ.get("MEMTIDE_PROFILE_BUILTIN"):
        return
    if "profile" in builtins.__dict__:
        return
    from memtide import profile
    builtins.profile = profile


def _chain():
    """Imports the next sitecustomize on sys.path, as if this one were not
    there."""
    import importlib.machinery
    import importlib.util
    import os
    import sys

    here = os.path.dirname(os.path.abspath(__file__))
    rest = [p for p in sys.path if os.path.abspath(p or ".") != here]
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", rest)
    if spec is None or spec.loader is None:
        return
    module = importlib.util.module_from_spec(spec)
    sys.modules["sitecustomize"] = module
    spec.loader.exec_module(module)


for _step in (_profile_builtin, _chain):
    try:
        _step()
    except Exception:
        pass
del _step
