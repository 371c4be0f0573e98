"""The local console server: static files with a client-side-route fallback, the API beside them."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from infra.local.console import ConsoleServer, console_url
from infra.local.processes import free_port
from tests.support import Api


@pytest.fixture
def console(tmp_path: Path, api_url: str) -> Iterator[str]:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html><title>console</title>")
    (tmp_path / "assets" / "app-1234.js").write_text("console.log(1)")
    server = ConsoleServer(tmp_path, api_url, free_port()).start()
    yield server.url
    server.stop()


def test_client_side_routes_answer_the_app_and_assets_are_immutable(console: str) -> None:
    page = requests.get(f"{console}/devices/sim-1", timeout=10)
    assert page.status_code == 200 and "<title>console</title>" in page.text
    assert page.headers["Cache-Control"] == "no-cache"
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    asset = requests.get(f"{console}/assets/app-1234.js", timeout=10)
    assert asset.status_code == 200 and "immutable" in asset.headers["Cache-Control"]
    assert requests.get(f"{console}/assets/missing.js", timeout=10).status_code == 404


def test_api_calls_pass_through_with_the_operator_token_and_the_paging_header(console: str, api: Api) -> None:
    # Given a device with three commands of a tenant
    auth = {"Authorization": f"Bearer {api.token}"}
    assert requests.post(f"{console}/customer/devices", json={"device_id": "via-console"}, headers=auth,
                         timeout=10).status_code == 201
    for _ in range(3):
        sent = requests.post(f"{console}/customer/devices/via-console/commands", headers=auth, timeout=10,
                             json={"command_type": "ping"})
        assert sent.status_code == 201
    # When the console pages the history through the server
    first = requests.get(f"{console}/customer/devices/via-console/commands?limit=2", headers=auth, timeout=10)
    # Then the API's answer and its X-Next-Token header arrive unchanged, and nothing is cached
    assert first.status_code == 200 and len(first.json()) == 2
    assert first.headers.get("X-Next-Token")
    assert first.headers["Cache-Control"] == "no-store"
    # Without the token the API's 401 comes back as it is
    assert requests.get(f"{console}/customer/devices", timeout=10).status_code == 401


def test_writes_outside_the_api_are_refused(console: str) -> None:
    assert requests.post(f"{console}/index.html", data=b"x", timeout=10).status_code == 405
    assert requests.delete(f"{console}/devices", timeout=10).status_code == 405


def test_console_url_puts_the_token_in_the_fragment_only() -> None:
    url = console_url("http://127.0.0.1:8080", "abc.def.ghi")
    assert url == "http://127.0.0.1:8080/#token=abc.def.ghi"
    assert "?" not in url  # a query string would reach the server and its logs
