"""memtide's pytest plugin: memory per test, and memory budgets.

    python3 -m pytest -p memtide.pytest        (or installed: automatically)
    memtide run -- python3 -m pytest -p memtide.pytest
    memtide tests                              # one row per test

Under ``memtide run`` each test is a span labelled with its node id, from
the start of its setup to the end of its teardown, with its outcome
("passed", "failed", "skipped", "error"); its setup, call and teardown are
spans inside it labelled "<node id> [setup]" and so on, each with its own
outcome.  Each span carries the worker's memory at its start and end and its
peak (see memtide.mark), so a test shorter than the sampling interval still
shows its peak.  pytest-xdist workers mark their own tests (record with -C).
Elsewhere the plugin marks nothing.

Budgets, anywhere (under memtide run or not):

    @pytest.mark.memtide(max_peak="200 MiB", max_growth="10 MiB")
    def test_load(): ...

fail the test when its call (the test function) peaks above max_peak, or
ends holding more than max_growth more than it started with; the message
gives the figures.  Sizes: a number of bytes, or a number with B, KiB, MiB,
GiB (also KB, MB, GB: decimal; K, M, G: binary).
"""

import pytest

import memtide

PHASES = ("setup", "call", "teardown")

_UNITS = {
    "": 1, "B": 1,
    "K": 1 << 10, "KIB": 1 << 10, "KB": 1000,
    "M": 1 << 20, "MIB": 1 << 20, "MB": 1000 ** 2,
    "G": 1 << 30, "GIB": 1 << 30, "GB": 1000 ** 3,
    "T": 1 << 40, "TIB": 1 << 40, "TB": 1000 ** 4,
}


def parse_size(text):
    """Bytes from "200 MiB", "1.5GB", "4096" or an int."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        if text < 0:
            raise ValueError("negative size %r" % (text,))
        return int(text)
    s = str(text).strip()
    i = 0
    while i < len(s) and (s[i].isdigit() or s[i] == "."):
        i += 1
    num, unit = s[:i], s[i:].strip().upper()
    if not num or unit not in _UNITS:
        raise ValueError("bad size %r: give bytes or a number with B, KiB, "
                         "MiB or GiB" % (text,))
    return int(float(num) * _UNITS[unit])


def format_size(n):
    for unit, k in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if abs(n) >= k:
            return "%.1f %s" % (n / k, unit)
    return "%d B" % n


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "memtide(max_peak=SIZE, max_growth=SIZE): fail the test when its "
        "memory peaks above max_peak or grows more than max_growth")


def _outcome(reports):
    """A test's outcome from its phase reports, as pytest's summary says."""
    for r in reports:
        if r.when != "call" and r.failed:
            return "error"
    for r in reports:
        if r.failed:
            return "failed"
        if r.skipped:
            return "skipped"
    return "passed"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    if not memtide.enabled():
        yield
        return
    item._memtide_reports = []
    span = memtide.mark(item.nodeid)
    span.__enter__()
    try:
        yield
    finally:
        span.outcome = _outcome(item._memtide_reports)
        span.__exit__(None, None, None)


def _phase(item, when):
    if not memtide.enabled():
        return
    span = memtide.mark("%s [%s]" % (item.nodeid, when))
    span.__enter__()
    item._memtide_phase = span


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item):
    _phase(item, "setup")
    yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item, nextitem):
    _phase(item, "teardown")
    yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    _phase(item, "call")
    budget = item.get_closest_marker("memtide")
    if budget is None:
        yield
        return
    limits = {}
    for key in ("max_peak", "max_growth"):
        if key in budget.kwargs:
            limits[key] = parse_size(budget.kwargs[key])
    span = memtide.mark(None, measure=True)
    with span:
        outcome = yield
    if outcome.excinfo is not None or span.mem_peak is None:
        return
    grown = span.mem_end - span.mem_start
    over = []
    if "max_peak" in limits and span.mem_peak > limits["max_peak"]:
        over.append("peak %s > max_peak %s" % (format_size(span.mem_peak),
                                                format_size(limits["max_peak"])))
    if "max_growth" in limits and grown > limits["max_growth"]:
        over.append("grew %s > max_growth %s" % (format_size(grown),
                                                  format_size(limits["max_growth"])))
    if over:
        # Failed in the report, not by raising from this wrapper: an
        # exception here would skip the teardown of the wrappers around it
        # (output capture among them).
        item._memtide_over = (
            "memtide budget exceeded: %s (RSS %s at start, %s at end, peak %s)"
            % ("; ".join(over), format_size(span.mem_start),
               format_size(span.mem_end), format_size(span.mem_peak)))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    over = getattr(item, "_memtide_over", None)
    if over and call.when == "call" and report.passed:
        item._memtide_over = None
        report.outcome = "failed"
        report.longrepr = over
    reports = getattr(item, "_memtide_reports", None)
    if reports is not None:
        reports.append(report)
    span = getattr(item, "_memtide_phase", None)
    if span is not None and call.when in PHASES:
        item._memtide_phase = None
        span.outcome = report.outcome
        span.__exit__(None, None, None)
