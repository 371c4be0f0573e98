"""The first request of a fresh process is a malformed one: the same 4xx naming the field as a warm one.

Request models, pydantic and the settings load on a function's first call, so the first
request is the one that would show a lazy import gone wrong (a ValidationError not
recognised, a model imported half-way by two threads). The test process has all of them
loaded already: each case runs the local API server as a new process.
"""
from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from infra.local.processes import Child, free_port, python_module, wait_for_port
from tests.support import Api

BIG = b'{"name": "' + b"x" * 300_000 + b'"}'
# (method, path, raw body, field named, status): none of them reaches the tables' writes.
CASES: dict[str, tuple[str, str, bytes | None, str, int]] = {
    "bad JSON": ("POST", "/customer/devices", b'{"device_id": ', "body", 400),
    "wrong type": ("POST", "/customer/devices", b'{"device_id": 5}', "device_id", 400),
    "unknown field": ("POST", "/customer/devices", b'{"device_idd": "a"}', "device_idd", 400),
    "group, wrong type": ("POST", "/customer/groups", b'{"group_id": "g", "name": 5}', "name", 400),
    "site, unknown field": ("POST", "/customer/sites", b'{"name": "S", "wake_schedule_cron": "0 6 * * *", '
                            b'"timezone": "UTC", "nope": 1}', "nope", 400),
    "job, huge body": ("POST", "/customer/jobs", BIG, "body", 413),
    "job, bool for int": ("POST", "/customer/jobs",
                          b'{"document_type": "reboot", "target_all": true, "expires_in_hours": true}',
                          "expires_in_hours", 400),
    "limit=0": ("GET", "/customer/devices?limit=0", None, "limit", 400),
    "limit=abc": ("GET", "/customer/jobs?limit=abc", None, "limit", 400),
    "bad status": ("GET", "/customer/jobs?status=NOPE", None, "status", 400),
    "bad cursor": ("GET", "/customer/groups?next_token=%25%25", None, "next_token", 400),
    "twin, NaN": ("PATCH", "/customer/devices/d1/twin/desired", b'{"desired": {"a": NaN}}', "body", 400),
}


@pytest.fixture
def fresh_server(stack: object, tmp_path: Path) -> Iterator[str]:
    """The local API server in a process of its own that has served nothing yet."""
    port = free_port()
    child = Child("api", python_module("infra.local.api_server", "--port", str(port)), tmp_path / "api.log").start()
    try:
        wait_for_port("127.0.0.1", port, timeout=60, proc=child.proc)
        yield f"http://127.0.0.1:{port}"
    finally:
        child.stop()


def _send(url: str, api: Api, case: tuple[str, str, bytes | None, str, int]) -> tuple[int, Any]:
    method, path, raw, _, _ = case
    resp = requests.request(method, url + path, data=raw, timeout=60,
                            headers={"Authorization": f"Bearer {api.token}", "Content-Type": "application/json"})
    try:
        return resp.status_code, resp.json()
    except ValueError:
        return resp.status_code, resp.text


@pytest.mark.slow
@pytest.mark.parametrize("label", list(CASES))
def test_a_malformed_first_request_is_the_4xx_a_warm_one_gets(label: str, api: Api, fresh_server: str) -> None:
    case = CASES[label]
    method, path, raw, field, status = case
    # When the first request a fresh process serves is malformed
    first_status, first = _send(fresh_server, api, case)
    # Then it is the 4xx naming the field, as the same request answered by a warm process
    warm = api.call(method, path, raw=raw if raw is not None else b"")
    assert (warm.status, warm.body.get("field")) == (status, field), warm.body
    assert first_status == status and isinstance(first, dict) and first.get("field") == field, (first_status, first)
    assert first["error"] == warm.body["error"]


@pytest.mark.slow
def test_simultaneous_first_requests_each_import_their_models_once(api: Api, fresh_server: str) -> None:
    # Given requests of every kind, valid and malformed, that each import models on first use
    api.create_device("d1")
    cases = [("GET", "/customer/devices?limit=2", None, "", 200),
             ("GET", "/customer/jobs", None, "", 200),
             ("GET", "/customer/groups", None, "", 200),
             ("GET", "/customer/sites", None, "", 200),
             ("GET", "/customer/devices/d1/twin", None, "", 200),
             *(c for c in CASES.values() if c[4] == 400)]
    barrier = threading.Barrier(len(cases) * 2)
    wrong: list[str] = []

    def call(case: tuple[str, str, bytes | None, str, int]) -> None:
        barrier.wait(30)
        status, body = _send(fresh_server, api, case)
        if status != case[4] or (case[3] and body.get("field") != case[3]):
            wrong.append(f"{case[0]} {case[1]}: {status} {str(body)[:200]}")

    # When they all arrive at once, twice each, as the process's first requests
    threads = [threading.Thread(target=call, args=(case,)) for case in cases * 2]
    for t in threads:
        t.start()
    for t in threads:
        t.join(90)
    # Then each gets the answer it gets alone
    assert wrong == []


@pytest.mark.slow
def test_a_malformed_first_device_request_is_400_naming_the_field(api: Api, fresh_server: str) -> None:
    # Given a device, and an API process that has served nothing yet
    _, token = api.create_device()
    # When its first request is a device's ACK with a status of the wrong type
    resp = requests.post(f"{fresh_server}/device/v1/commands/01jzzzzzzzzzzzzzzzzzzzzzzz/ack", data=b'{"status": 5}',
                         headers={"X-Provision-Token": token, "Content-Type": "application/json"}, timeout=60)
    # Then it is the 400 naming the field a warm process answers
    warm = api.device_call("POST", "/device/v1/commands/01jzzzzzzzzzzzzzzzzzzzzzzz/ack", token, {"status": 5})
    assert (resp.status_code, resp.json()["field"]) == (warm.status, warm.body["field"]) == (400, "status")


@pytest.fixture
def broker_secret(monkeypatch: pytest.MonkeyPatch) -> str:
    """The broker hook's shared secret, set before the fresh server starts (it reads it from the environment)."""
    monkeypatch.setenv("FLEET_BROKER_AUTH_SECRET", "broker-hook-secret-for-cold-tests")
    return "broker-hook-secret-for-cold-tests"


@pytest.mark.slow
def test_a_malformed_first_broker_call_is_400_naming_the_field(broker_secret: str, fresh_server: str) -> None:
    resp = requests.post(f"{fresh_server}/broker/authn", data=b'{"username": 5, "password": "x"}', timeout=60,
                         headers={"x-broker-secret": broker_secret, "Content-Type": "application/json"})
    assert resp.status_code == 400 and resp.json()["field"] == "username", resp.text
