"""Correlation ids, schedule report lines, auth refusal reasons, the bridge's message keys, make logs."""
from __future__ import annotations

import json
from datetime import timedelta

import jwt
import pytest

from chalicelib.commands.delivery import TickReport
from chalicelib.core.auth.operator import OperatorAuthenticator, issue_local_token, refusal_reason
from chalicelib.core.config import Settings
from chalicelib.core.errors import Unauthenticated
from chalicelib.core.observability.log import begin, clean_correlation_id, current_correlation_id, logger
from chalicelib.core.observability.metrics import MetricSink, metrics
from chalicelib.core.observability.runs import invocation, report_run
from infra.local.logs import render
from mqtt_bridge.telemetry import message_keys
from tests.observability_support import capture


def test_every_line_of_a_unit_of_work_carries_its_correlation_id_and_keys(capsys: pytest.CaptureFixture[str]) -> None:
    # Given work begun with a caller's correlation id and its tenant
    with capture(capsys) as out, invocation("req-42", tenant="acme"):
        # When a service logs with its own keys
        logger.info("command created", device="cam-1", command_id="c1", outcome="queued")
        assert current_correlation_id() == "req-42"
    # Then the line is JSON with the id, the work's keys and the line's keys
    [line] = out.lines("command created")
    assert line["correlation_id"] == "req-42" and line["tenant"] == "acme"
    assert (line["device"], line["command_id"], line["outcome"]) == ("cam-1", "c1", "queued")
    assert line["service"] == "fleet-functions" and line["level"] == "INFO"


def test_an_unusable_correlation_id_is_replaced_never_echoed() -> None:
    assert clean_correlation_id("ok-id_1.2:3") == "ok-id_1.2:3"
    for hostile in ("", "a b", "x\n{\"level\":\"ERROR\"}", "é", "a" * 129, 7, None):
        assert clean_correlation_id(hostile) is None
    minted = begin("bad id\n")
    assert minted != "bad id\n" and clean_correlation_id(minted) == minted


def test_a_schedule_run_logs_one_report_and_its_backlog_metric(capsys: pytest.CaptureFixture[str]) -> None:
    # When a scheduled run reports what was due, done and left
    with capture(capsys) as out, invocation(None, schedule="commands_retry"):
        report_run("commands_retry", TickReport(due=5, done=3, left=2, published=3, failed=2))
    # Then it is one line saying so, and the backlog is a metric labelled by schedule
    [line] = out.lines("schedule report")
    assert (line["schedule"], line["due"], line["done"], line["left"]) == ("commands_retry", 5, 3, 2)
    assert line["outcome"] == "backlog" and line["report"]["failed"] == 2
    assert out.metric("ScheduleBacklog", schedule="commands_retry") == 2


def test_counters_are_emf_with_the_service_dimension_only(capsys: pytest.CaptureFixture[str]) -> None:
    metrics.flush()  # what earlier tests counted (their order depends on the selection) is not this test's
    capsys.readouterr()
    with capture(capsys) as out:
        metrics.count("CommandsCreated")
        metrics.count("CommandsCreated", 2)
        metrics.milliseconds("CommandAckLatency", 12.5)
        metrics.flush()
    [blob] = [b for b in out.read().emf if "CommandsCreated" in b]
    [directive] = blob["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "FleetControlPlane" and directive["Dimensions"] == [["service"]]
    assert sum(blob["CommandsCreated"]) == 3 and blob["CommandAckLatency"] == [12.5]
    assert "tenant" not in blob


@pytest.mark.parametrize(("make", "reason"), [
    (lambda s: None, "missing"),
    (lambda s: "Basic abc", "malformed"),
    (lambda s: f"Bearer {issue_local_token(s, 't1', ttl=timedelta(seconds=-60))}", "expired"),
    (lambda s: "Bearer " + jwt.encode({"tenant_id": "t", "sub": "x", "exp": 9999999999}, "other-secret-" * 3,
                                      algorithm="HS256"), "bad_signature"),
    (lambda s: "Bearer abc.def.ghi", "malformed"),
])
def test_a_refused_token_has_a_short_fixed_reason(make: object, reason: str) -> None:
    settings = Settings(jwt_secret="s" * 40)
    with pytest.raises(Unauthenticated) as refused:
        OperatorAuthenticator(settings).verify(make(settings))  # type: ignore[operator]
    assert refusal_reason(refused.value) == reason


def test_the_bridge_reads_an_echoed_correlation_id_and_the_ids_of_a_message() -> None:
    ack = json.dumps({"command_id": "c9", "status": "ok", "correlation_id": "trace-1"}).encode()
    keys = message_keys("tenant/acme/device/cam-1/commands/ack", ack)
    assert keys == {"tenant": "acme", "device": "cam-1", "command_id": "c9", "correlation_id": "trace-1"}
    job = message_keys("tenant/acme/device/cam-1/jobs/j7/update", b'{"status": "FAILED"}')
    assert job["job_id"] == "j7" and clean_correlation_id(job["correlation_id"])
    forged = message_keys("tenant/a/device/d/status", b'{"correlation_id": "x y\\n"}')
    assert forged["correlation_id"] != "x y\n"


def test_make_logs_renders_json_lines_emf_and_text() -> None:
    line = json.dumps({"level": "INFO", "message": "command acked", "timestamp": "2026-01-02T03:04:05.678+00:00",
                       "service": "fleet-functions", "correlation_id": "abcdef123456789", "tenant": "acme",
                       "command_id": "c1", "outcome": "delivered"})
    text = render("api", line)
    assert text.startswith("03:04:05.678 INFO    api")
    assert "[abcdef123456]" in text and "command acked  outcome=delivered tenant=acme command_id=c1" in text
    emf = json.dumps({"_aws": {"CloudWatchMetrics": [{"Namespace": "FleetControlPlane", "Dimensions": [["service"]],
                                                      "Metrics": [{"Name": "BridgeForwards", "Unit": "Count"}]}]},
                      "service": "mqtt-bridge", "BridgeForwards": [1.0, 1.0]})
    assert render("bridge", emf).endswith("metrics BridgeForwards=2.0")
    assert render("mosquitto", "1700000000: New connection") == "mosquitto  1700000000: New connection"


def test_counts_are_summed_into_one_value_per_flush(capsys: pytest.CaptureFixture[str]) -> None:
    # Given a counter bumped more often than Powertools keeps values per metric (100)
    sink = MetricSink("mqtt-bridge")
    with capture(capsys) as out:
        for _ in range(250):
            sink.count("BridgeForwards")
        sink.count("BridgeRetries", 0)
        # Then nothing is printed before the flush, and the flush prints one value: the sum
        assert not [b for b in out.read().emf if "BridgeForwards" in b]
        sink.flush()
    [blob] = [b for b in out.read().emf if "BridgeForwards" in b]
    assert blob["BridgeForwards"] in ([250.0], 250.0) and "BridgeRetries" not in blob


def test_the_bridge_mints_distinct_valid_correlation_ids() -> None:
    minted = [message_keys("tenant/a/device/d/status", b"{}")["correlation_id"] for _ in range(1000)]
    assert len(set(minted)) == 1000 and all(clean_correlation_id(c) == c for c in minted)


def test_a_minted_correlation_id_tells_a_device_nothing_about_other_messages() -> None:
    # A device that comes back gets its pending commands with its message's (minted) id as MQTT 5
    # correlation data: from it, the device must learn neither how many messages the bridge handled
    # for other tenants since its last id (a counter) nor the ids it mints for them next (prefix + counter).
    minted = [message_keys("tenant/a/device/d/status", b"{}")["correlation_id"] for _ in range(1000)]
    assert len({c[:16] for c in minted}) == 1000 and len({c[16:] for c in minted}) == 1000
    assert minted != sorted(minted)
    assert all(len(c) == 32 and int(c, 16) >= 0 for c in minted)
