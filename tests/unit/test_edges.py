"""The HTTP edge's last resort and the AWS IoT publisher adapter."""
from __future__ import annotations

import json
import logging

import boto3
import pytest
from botocore.stub import Stubber

from chalicelib.core.http.views import answer
from chalicelib.core.messaging.base import Message, RecordingPublisher
from chalicelib.core.messaging.iot_data import IotDataPublisher


def test_unhandled_error_is_a_bare_500_and_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    def view() -> None:
        raise RuntimeError("secret table name fleet-prod-devices")

    with caplog.at_level(logging.ERROR):
        resp = answer(view, "view", lambda: "req-1")
    assert resp.status_code == 500
    body = json.loads(resp.body)
    assert body["error"] == "internal" and "secret" not in resp.body and body["request_id"] == "req-1"
    assert any("unhandled error" in r.message for r in caplog.records)


def _iot_client() -> object:
    return boto3.client("iot-data", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")


def test_iot_data_publisher_sends_qos_retain_and_json() -> None:
    client = _iot_client()
    with Stubber(client) as stub:
        stub.add_response("publish", {}, {"topic": "tenant/a/device/d/shadow/desired", "qos": 1, "retain": True,
                                          "payload": b'{"desired":{"x":1},"version":2}'})
        ok = IotDataPublisher(client=client).publish(
            Message("tenant/a/device/d/shadow/desired", {"desired": {"x": 1}, "version": 2}, retain=True))
        stub.assert_no_pending_responses()
    assert ok is True


def test_iot_data_publisher_reports_failure_as_false() -> None:
    client = _iot_client()
    with Stubber(client) as stub:
        stub.add_client_error("publish", service_error_code="ThrottlingException", http_status_code=429)
        assert IotDataPublisher(client=client).publish(Message("t", {})) is False


def test_recording_publisher_models_an_unreachable_broker() -> None:
    down = RecordingPublisher(reachable=False)
    assert down.publish_many([Message("a", {}), Message("b", {})]) == [False, False]
    assert down.sent == []
