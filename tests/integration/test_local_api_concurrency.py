"""The local API server runs requests in threads: each must see its own request and caller."""
from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import requests

from infra.local.api_server import make_server
from infra.local.processes import free_port
from tests.support import Api


@pytest.fixture
def local_url(stack: object) -> Iterator[str]:
    port = free_port()
    server = make_server("127.0.0.1", port)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()


def test_concurrent_requests_never_read_each_others_body(api: Api, other_api: Api, local_url: str) -> None:
    # Given two devices of two tenants; one always sends an invalid ACK body, the other a valid
    # ACK for a command that does not exist. The device routes read the body after a database
    # call, which is where another thread's request could slip in.
    _, bad_token = api.create_device()
    _, good_token = other_api.create_device()
    cases = [(bad_token, {"status": "not valid!"}, 400), (good_token, {"status": "ok"}, 404)]
    wrong: list[str] = []

    def hammer(token: str, body: dict[str, str], expected: int) -> None:
        session = requests.Session()
        session.headers["X-Provision-Token"] = token
        for _ in range(60):
            resp = session.post(f"{local_url}/device/v1/commands/01jzzzzzzzzzzzzzzzzzzzzzzz/ack", json=body,
                                timeout=10)
            if resp.status_code != expected:
                wrong.append(f"expected {expected}, got {resp.status_code}: {resp.text[:100]}")

    # When both devices call at the same time, from several threads each
    threads = [threading.Thread(target=hammer, args=case) for case in cases for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    # Then every answer is the one for the caller's own body
    assert wrong == []
