"""Logs and metrics of real flows: a command's life across the API, the broker, the bridge and
the ACK shares one correlation id; a job's failures name their devices; schedules report each run;
a refused operator token is logged with its reason and never with the token."""
from __future__ import annotations

import json
import queue
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from chalice.test import Client

from chalicelib.commands.models import CommandRef
from chalicelib.commands.schedule import expire_commands, retry_commands
from chalicelib.commands.schemas import CommandStatus
from chalicelib.container import container
from chalicelib.core.auth.operator import issue_local_token
from chalicelib.core.identity import mqtt_username
from chalicelib.jobs.schedule import jobs_sweep
from chalicelib.sites.schedule import site_fanout
from infra.local.scheduler import scheduled_event
from mqtt_bridge.config import BridgeSettings
from mqtt_bridge.invokers import InProcessInvoker
from mqtt_bridge.telemetry import metrics as bridge_metrics
from tests.commands_support import minutes_from_now, wait_until
from tests.conftest import Stack
from tests.integration.bridge_support import bridge_settings, start_bridge
from tests.integration.jobs_support import create_job, fleet, update
from tests.observability_support import capture
from tests.support import Api

__all__ = ["bridge_settings"]  # the fixture, used by name


class Mqtt5Device:
    """A device speaking MQTT 5: it sees a command's correlation data and can echo it."""

    def __init__(self, stack: Stack, tenant_id: str, device_id: str, token: str) -> None:
        stack.sync.sync_once()
        username = mqtt_username(tenant_id, device_id)
        self.prefix = f"tenant/{tenant_id}/device/{device_id}"
        self.received: queue.Queue[tuple[dict[str, Any], bytes | None]] = queue.Queue()
        self.client = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2, client_id=username,
                                  protocol=mqtt.MQTTv5)
        self.client.username_pw_set(username, token)
        self.client.on_message = lambda c, u, m: self.received.put(
            (json.loads(m.payload), getattr(m.properties, "CorrelationData", None)))
        self.client.connect(stack.broker.host, stack.broker.port_for(username))
        self.client.loop_start()
        self.client.subscribe(f"{self.prefix}/commands", qos=1)[1]
        assert wait_until(lambda: self.client.is_connected(), 5)

    def ack(self, payload: dict[str, Any]) -> None:
        self.client.publish(f"{self.prefix}/commands/ack", json.dumps(payload), qos=1).wait_for_publish(5)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def device5(stack: Stack, api: Api) -> Iterator[Callable[[], tuple[str, Mqtt5Device]]]:
    made: list[Mqtt5Device] = []

    def make() -> tuple[str, Mqtt5Device]:
        device_id, token = api.create_device()
        made.append(Mqtt5Device(stack, api.tenant_id, device_id, token))
        return device_id, made[-1]

    yield make
    for device in made:
        device.close()


def _status(api: Api, device_id: str, command_id: str) -> CommandStatus | None:
    found = container().command_repository.get(CommandRef(api.tenant_id, device_id, command_id))
    return found.status if found else None


@pytest.mark.slow
def test_a_commands_creation_publish_forward_and_ack_share_one_correlation_id(
        api: Api, capsys: pytest.CaptureFixture[str], device5: Callable[[], tuple[str, Mqtt5Device]],
        bridge_settings: Callable[..., BridgeSettings]) -> None:
    # Given the real bridge, and a device on MQTT 5 subscribed to its commands
    bridge = start_bridge(bridge_settings(), InProcessInvoker())
    device_id, device = device5()
    try:
        with capture(capsys) as out:
            # When an operator sends a command with their own correlation id
            resp = api.post(f"/customer/devices/{device_id}/commands", {"command_type": "ping"},
                            headers={"X-Correlation-Id": "op-trace-17"})
            assert resp.status == 201 and resp.headers["X-Correlation-Id"] == "op-trace-17"
            command_id = resp.body["command_id"]
            # Then the device gets the specified payload, and the id as MQTT 5 correlation data
            payload, correlation = device.received.get(timeout=5)
            assert set(payload) == {"command_id", "command_type", "command_params", "expires_at"}
            assert correlation == b"op-trace-17"
            # When the device echoes it in its ACK, which the bridge forwards
            device.ack({"command_id": command_id, "status": "ok", "details": {}, "correlation_id": "op-trace-17"})
            assert wait_until(lambda: _status(api, device_id, command_id) is CommandStatus.DELIVERED, 15)
            assert wait_until(lambda: bridge.pending() == 0, 5)
            bridge_metrics.flush()
            # Then creation, publish, forward and ACK are four JSON lines with that id and the command's keys
            trace = [r for r in out.read().logs if r.get("correlation_id") == "op-trace-17"
                     and r.get("command_id") == command_id]
            # (the bridge logs its forward once the function has taken the ACK, so that line comes last)
            lines = {r["message"]: r for r in trace}
            assert len(trace) == 4 and [r["message"] for r in trace[:2]] == ["command created", "command published"]
            assert {m: r["outcome"] for m, r in lines.items()} == {
                "command created": "queued", "command published": "published", "message forwarded": "forwarded",
                "command acked": "delivered"}
            assert all(r["tenant"] == api.tenant_id and r["device"] == device_id for r in trace)
            assert lines["message forwarded"]["service"] == "mqtt-bridge"
            assert lines["command acked"]["service"] == "fleet-functions"
            # And the counters are EMF metrics of each component, none labelled by tenant
            for name in ("CommandsCreated", "CommandsPublished", "CommandsDelivered"):
                assert out.metric(name, service="fleet-functions") >= 1, name
            assert out.metric("CommandAckLatency", service="fleet-functions") >= 0
            assert out.metric("BridgeForwards", service="mqtt-bridge") >= 1
            assert not any("tenant" in blob for blob in out.emf)
    finally:
        assert bridge.shutdown()


def test_which_devices_failed_a_job_is_in_its_lines(api: Api, capsys: pytest.CaptureFixture[str]) -> None:
    # Given a job on a group of three devices
    devices = list(fleet(api, "obs", 3, group_id="g1").items())
    with capture(capsys) as out:
        job = create_job(api, target_group_id="g1")
        # When one device succeeds and two fail
        (_, ok_token), *failing = devices
        assert update(api, ok_token, job["job_id"], "SUCCEEDED").status == 200
        for _, token in failing:
            assert update(api, token, job["job_id"], "FAILED", status_details={"error": "disk full"}).status == 200
        # Then the job's creation is one line, and its FAILED executions name exactly the failing devices
        [created] = [r for r in out.lines("job created") if r["job_id"] == job["job_id"]]
        assert created["tenant"] == api.tenant_id and created["executions"] == 3
        updates = [r for r in out.lines("job execution updated") if r["job_id"] == job["job_id"]]
        assert sorted(r["device"] for r in updates if r["outcome"] == "FAILED") == sorted(d for d, _ in failing)
        assert [r["job_completed"] for r in updates] == [False, False, True]
        # And final executions are counted by status
        assert out.metric("JobExecutionsFinished", status="FAILED") == 2
        assert out.metric("JobExecutionsFinished", status="SUCCEEDED") == 1
        assert out.metric("JobsCreated") == 1


def test_each_schedule_logs_one_report_per_run(api: Api, capsys: pytest.CaptureFixture[str]) -> None:
    # Given a command nobody will ACK, for a device that was never online
    device_id, _ = api.create_device()
    api.post(f"/customer/devices/{device_id}/commands", {"command_type": "ping", "expires_in_minutes": 1})
    with capture(capsys) as out:
        # When every schedule runs once, two minutes later
        now = minutes_from_now(2)
        for fn in (retry_commands, expire_commands, jobs_sweep, site_fanout):
            fn(scheduled_event(now), None)
        # Then each wrote one report line with due, done and left (the jobs function one for its
        # timeouts too), and the backlog metric
        reports = {r["schedule"]: r for r in out.lines("schedule report")}
        assert set(reports) == {"commands_retry", "commands_expiry", "jobs_sweep", "job_timeouts", "site_fanout"}
        assert all({"due", "done", "left", "outcome", "correlation_id"} <= set(r) for r in reports.values())
        assert reports["commands_expiry"]["done"] >= 1 and reports["commands_expiry"]["left"] == 0
        assert out.metric("CommandsMissed") + out.metric("CommandsExpired") >= 1
        for name in reports:
            assert any(b.get("schedule") == name and "ScheduleBacklog" in b for b in out.emf), name


def test_a_refused_operator_token_is_logged_with_its_reason_never_the_token(
        chalice_client: Client, capsys: pytest.CaptureFixture[str]) -> None:
    expired = issue_local_token(container().settings, "t-refused", ttl=timedelta(seconds=-60))
    with capture(capsys) as out:
        # When a request comes with an expired token
        resp = chalice_client.http.get("/customer/devices", headers={"Authorization": f"Bearer {expired}"})
        assert resp.status_code == 401
        # Then the refusal is a line with its reason, and a metric labelled by reason
        [line] = out.lines("operator token refused")
        assert line["reason"] == "expired" and line["outcome"] == "unauthenticated" and line["level"] == "WARNING"
        assert out.metric("AuthFailures", reason="expired") == 1
    # And the token appears nowhere in what was printed (nor any of its three parts)
    printed = json.dumps(out.logs) + json.dumps(out.emf)
    assert all(part not in printed for part in expired.split("."))
