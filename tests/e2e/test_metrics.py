"""The /metrics server (lib/httpd.c) and page (lib/metrics.c), driven through
build/metrics-serve: a small program that publishes a page of made-up
processes every 10 ms, as memtided's sampler does.

Checks what a Prometheus operator would notice: promtool accepts the page,
hostile labels come out escaped, anything but GET /metrics is refused with
the right status, and neither a huge request nor a client that stalls (while
sending or while reading) hangs the server, holds up another scrape, or stops
the publisher.  Socket timeouts below are guards against a hang, not timed
assertions.
"""
import re
import socket
import subprocess

import pytest

from conftest import built, installed, wait_for


@pytest.fixture
def serve(build, procs):
    """serve(*args) starts metrics-serve on 127.0.0.1, any free port;
    returns its port.  It stops when the test ends (stdin closes)."""
    exe = built(build, "metrics-serve")

    def start(*args):
        p = procs.start([exe, *args, "127.0.0.1:0"], stdin=subprocess.PIPE,
                        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        line = p.stdout.readline().decode()
        m = re.fullmatch(r"port (\d+)\n", line)
        assert m, (line, p.stderr.read() if p.poll() is not None else "")
        return int(m.group(1))
    return start


def request(port, data, timeout=20):
    """Sends data, reads until the server closes; returns (status line,
    headers dict, body bytes)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        chunks = []
        while True:
            b = s.recv(65536)
            if not b:
                break
            chunks.append(b)
    raw = b"".join(chunks)
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(l.split(": ", 1) for l in lines[1:] if ": " in l)
    return lines[0], headers, body


def get(port, path="/metrics"):
    return request(port, f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())


def read_to_end(sock):
    """What sock receives until the server closes or resets it."""
    got = b""
    try:
        while True:
            b = sock.recv(65536)
            if not b:
                break
            got += b
    except ConnectionResetError:
        pass
    return got


def sample(body, name):
    """The value of an unlabelled sample on the page."""
    m = re.search(rf"^{name} (\S+)$", body.decode(), re.M)
    assert m, name
    return float(m.group(1))


def test_promtool_accepts_the_page(serve):
    port = serve("--procs", "50")
    status, headers, body = get(port)
    assert status == "HTTP/1.0 200 OK"
    assert headers["Content-Type"].startswith("text/plain; version=0.0.4")
    assert int(headers["Content-Length"]) == len(body)
    p = subprocess.run([installed("promtool"), "check", "metrics"], input=body,
                       capture_output=True, timeout=60)
    assert p.returncode == 0 and p.stdout + p.stderr == b"", p.stdout + p.stderr
    assert body.count(b"\nmemtide_process_resident_memory_bytes{") == 50


def test_hostile_labels_are_escaped(serve):
    _, _, body = get(serve())
    # Quote and backslash escaped; a newline made a space (labels stay
    # printable); invalid UTF-8 replaced.
    want = ('memtide_process_resident_memory_bytes{rule="web \\"edge\\"",'
            'pid="4242",name="gunicorn app:wsgi --name \\"a\\\\b\\" next '
            '\ufffd\ufffd end",script="/srv/app/venv/bin/gunicorn",'
            'unit="app.service"} 123456789\n')
    assert want in body.decode("utf-8")
    assert sum(1 for l in body.split(b"\n") if l.startswith(b"memtide_process_pss_bytes{")) == 1
    assert sample(body, "process_resident_memory_bytes") > 0
    assert sample(body, "process_open_fds") >= 3


@pytest.mark.parametrize("req,status", [
    (b"POST /metrics HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello", "405 Method Not Allowed"),
    (b"HEAD /metrics HTTP/1.0\r\n\r\n", "405 Method Not Allowed"),
    (b"GET / HTTP/1.0\r\n\r\n", "404 Not Found"),
    (b"GET /metricsx HTTP/1.0\r\n\r\n", "404 Not Found"),
    (b"GET /metrics\r\n\r\n", "400 Bad Request"),
    (b"\r\n\r\n", "400 Bad Request"),
])
def test_bad_requests_are_refused(serve, req, status):
    line, headers, _ = request(serve(), req)
    assert line == "HTTP/1.0 " + status
    if status.startswith("405"):
        assert headers["Allow"] == "GET"


def test_query_string_is_ignored(serve):
    line, _, body = get(serve(), "/metrics?format=text")
    assert line == "HTTP/1.0 200 OK" and b"memtide_samples_taken_total" in body


def test_huge_request_is_refused(serve):
    port = serve()
    req = b"GET /metrics HTTP/1.1\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=20) as s:
        try:
            s.sendall(req)
        except (BrokenPipeError, ConnectionResetError):
            pass
        data = s.recv(4096)
    assert data.startswith(b"HTTP/1.0 431 ")
    # And the server still serves.
    assert get(port)[0] == "HTTP/1.0 200 OK"


def test_stalled_clients_neither_hang_nor_block(serve):
    """A client that sends half a request and one that never reads a large
    answer: other scrapes are served meanwhile, the page keeps being
    republished, and both stalled clients are cut off at the timeout."""
    port = serve("--timeout", "1000", "--procs", "20000", "--every", "200")
    slow_sender = socket.create_connection(("127.0.0.1", port), timeout=20)
    slow_sender.sendall(b"GET /metr")
    slow_reader = socket.create_connection(("127.0.0.1", port), timeout=20)
    slow_reader.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    slow_reader.sendall(b"GET /metrics HTTP/1.0\r\n\r\n")

    _, _, first = get(port)
    taken1 = sample(first, "memtide_samples_taken_total")
    assert len(first) > 4 << 20  # bigger than any socket buffer

    def republished():
        return sample(get(port)[2], "memtide_samples_taken_total") > taken1
    wait_for(republished, timeout=20)

    # Cut off (reset, so the kernel does not go on trickling the page):
    # the sender without an answer, the reader with a truncated page.
    assert read_to_end(slow_sender) == b""
    got = read_to_end(slow_reader)
    head, _, body = got.partition(b"\r\n\r\n")
    length = int(re.search(rb"Content-Length: (\d+)", head).group(1))
    assert len(body) < length
    slow_sender.close()
    slow_reader.close()


def test_many_connections_do_not_lock_it_out(serve):
    """More idle connections than the server's slots: they wait or time
    out, and a scrape after them is served."""
    port = serve("--timeout", "500")
    idle = [socket.create_connection(("127.0.0.1", port), timeout=20)
            for _ in range(12)]
    try:
        assert get(port)[0] == "HTTP/1.0 200 OK"
    finally:
        for s in idle:
            s.close()
