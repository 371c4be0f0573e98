"""The device-message Lambda and the IoT authorizer given malformed events as a fresh process's first calls.

Their event models load pydantic inside the handler: a fresh process (the test process has
pydantic loaded already) shows whether a malformed first event is still dropped or denied.
"""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

_RUN = """
import json, sys
import app  # noqa: F401
assert "pydantic" not in sys.modules
from chalicelib.broker_auth.iot_authorizer import iot_authorizer
from chalicelib.ingress.handler import device_message

class Context:
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:iot_authorizer"

handler = device_message if sys.argv[1] == "device_message" else iot_authorizer
print(json.dumps([handler(event, Context()) for event in json.loads(sys.argv[2])]))
"""
_DM_EVENTS: list[object] = [None, [], "x", {}, {"topic": 5, "payload_b64": "eA=="}, {"topic": "a", "payload_b64": "!!"},
              {"topic": "tenant/t/device/d/x", "payload_b64": 7}, {"correlation_id": 5}]
_IA_EVENTS: list[object] = [None, [], {}, {"protocolData": 5}, {"protocolData": {"mqtt": {"username": 5}}},
              {"protocolData": {"mqtt": []}}, {"protocolData": {"mqtt": {"username": "t.d", "password": "!!"}}}]


def _first_calls(function: str, events: list[object]) -> list[object]:
    env = {"FLEET_DDB_ENDPOINT": "http://127.0.0.1:9", "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x",
           "AWS_DEFAULT_REGION": "us-east-1", "PATH": ""}
    done = subprocess.run([sys.executable, "-c", _RUN, function, json.dumps(events)],
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return list(json.loads(done.stdout.splitlines()[-1]))


@pytest.mark.slow
def test_malformed_bridge_events_are_dropped_on_a_cold_start() -> None:
    answers = _first_calls("device_message", _DM_EVENTS)
    assert answers == [{"accepted": False, "reason": "malformed bridge event"}] * len(_DM_EVENTS)


@pytest.mark.slow
def test_malformed_authorizer_events_are_denied_on_a_cold_start() -> None:
    assert _first_calls("iot_authorizer", _IA_EVENTS) == [{"isAuthenticated": False}] * len(_IA_EVENTS)
