"""The local API and console servers answer malformed HTTP in the one error shape, and never hang on it.

Each request is written raw to a socket: no client library would send these.
"""
from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from infra.local.api_server import AnyMethodHandler
from infra.local.console import ConsoleHandler, ConsoleServer
from infra.local.http_edge import MAX_BODY_BYTES, JsonErrors
from infra.local.processes import free_port

# Long enough for any answer on loopback; a server that waits for more bytes would hit it.
READ_TIMEOUT_S = 10


@pytest.fixture(scope="module")
def console_url(tmp_path_factory: pytest.TempPathFactory, api_url: str) -> Iterator[str]:
    dist = tmp_path_factory.mktemp("dist")
    (dist / "index.html").write_text("<!doctype html><title>console</title>")
    server = ConsoleServer(Path(dist), api_url, free_port()).start()
    yield server.url
    server.stop()


def _exchange(url: str, raw: bytes) -> tuple[int, dict[str, str], Any]:
    """Send raw bytes, read the answer until the server closes the connection."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=READ_TIMEOUT_S) as conn:
        conn.sendall(raw)
        data = b""
        while chunk := conn.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return status, headers, json.loads(body)


POST = b"POST /customer/devices HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
MALFORMED: list[tuple[str, bytes, int, str | None]] = [
    ("negative length", POST + b"Content-Length: -1\r\n\r\n{}", 400, "Content-Length"),
    ("signed length", POST + b"Content-Length: +2\r\n\r\n{}", 400, "Content-Length"),
    ("non-numeric length", POST + b"Content-Length: 2x\r\n\r\n{}", 400, "Content-Length"),
    ("conflicting lengths", POST + b"Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}", 400, "Content-Length"),
    ("chunked body", POST + b"Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n", 411, "Content-Length"),
    ("body over the cap", POST + f"Content-Length: {MAX_BODY_BYTES + 1}\r\n\r\n".encode(), 413, "Content-Length"),
    ("request line too long", b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414, None),
    ("header line too long", b"GET /health HTTP/1.1\r\nX-Big: " + b"a" * 70_000 + b"\r\n\r\n", 431, None),
    ("too many headers", b"GET /health HTTP/1.1\r\n" + b"X-A: b\r\n" * 200 + b"\r\n", 431, None),
    ("not HTTP", b"HELLO THERE\r\n\r\n", 400, None),
]


@pytest.mark.parametrize("server", ["api", "console"])
@pytest.mark.parametrize(("case", "raw", "status", "field"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_http_gets_the_error_shape_and_the_connection_closes(
        server: str, case: str, raw: bytes, status: int, field: str | None, api_url: str, console_url: str) -> None:
    # When a malformed request is written to the server
    answered, headers, body = _exchange(api_url if server == "api" else console_url, raw)
    # Then it is answered at once, in JSON, in the API's one error shape, naming the header at fault
    assert answered == status, (case, body)
    assert headers["content-type"] == "application/json"
    assert set(body) <= {"error", "message", "field"} and body["error"] and body["message"]
    assert body.get("field") == field


def test_a_request_that_stops_halfway_does_not_hold_its_connection(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, api_url: str) -> None:
    # Given a console server whose handlers give up on a silent client quickly (both servers share the setting)
    monkeypatch.setattr(JsonErrors, "timeout", 0.2)
    assert AnyMethodHandler.timeout == ConsoleHandler.timeout == 0.2
    (tmp_path / "index.html").write_text("<!doctype html><title>console</title>")
    server = ConsoleServer(tmp_path, api_url, free_port()).start()
    try:
        host, port = server.url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=READ_TIMEOUT_S) as conn:
            # When a client sends half of its headers and goes quiet (slowloris)
            conn.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            # Then the server closes the connection rather than keep a thread waiting forever
            assert conn.recv(65536) == b""
    finally:
        server.stop()


def test_the_local_servers_time_out_silent_clients() -> None:
    # The deployed default: a bound on every read of a request, for the API and the console alike.
    assert JsonErrors.timeout is not None and 0 < JsonErrors.timeout <= 60
    assert AnyMethodHandler.timeout == ConsoleHandler.timeout == JsonErrors.timeout
