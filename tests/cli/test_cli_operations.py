"""`fleet commands`, `twin` and `jobs` against a running local stack whose simulated devices answer."""
from __future__ import annotations

import re
import subprocess
import sys
import uuid

import pytest

from tests.cli.conftest import Fleet, LocalStack
from tests.stack_support import ROOT

pytestmark = pytest.mark.slow


def _backdate(stack: LocalStack, *args: str) -> None:
    env = {k: v for k, v in stack.env.items() if not k.startswith("FLEET_")}
    subprocess.run([sys.executable, "-m", "infra.local.backdate", *args, "--tick"], cwd=ROOT, env=env, check=True,
                   capture_output=True, timeout=60)


def _quiet_device(fleet: Fleet) -> str:
    """A device that never connects, so nothing it is sent is ever answered."""
    device_id = f"cli-quiet-{uuid.uuid4().hex[:8]}"
    assert fleet("devices", "create", device_id).exit_code == 0
    return device_id


def test_send_wait_follows_the_command_until_delivered(fleet: Fleet) -> None:
    sent = fleet("commands", "send", "sim-1", "ping", "--params", "{}", "--ttl", "5", "--wait", "--json")
    assert sent.exit_code == 0, sent.stderr
    command = sent.json()
    assert command["status"] == "delivered" and command["ack_details"]["details"] == {"message": "pong"}
    shown = fleet("commands", "show", "sim-1", command["command_id"], "--json").json()
    assert shown["status"] == "delivered"
    delivered = fleet("commands", "history", "sim-1", "--status", "delivered", "--json").json()
    assert command["command_id"] in {c["command_id"] for c in delivered}
    assert fleet("commands", "history", "sim-1", "--status", "expired", "--json").json() == []
    assert command["command_id"] in fleet("commands", "history", "sim-1").stdout


def test_wait_that_runs_out_exits_4(fleet: Fleet) -> None:
    device_id = _quiet_device(fleet)
    sent = fleet("commands", "send", device_id, "ping", "--wait", "--wait-timeout", "1", "--interval", "0.2")
    assert sent.exit_code == 4 and "gave up waiting" in sent.stderr


def test_missed_command_exits_3(fleet: Fleet, local_stack: LocalStack) -> None:
    # Given a command nobody ACKs, expired by the back-date tool
    device_id, key = _quiet_device(fleet), uuid.uuid4().hex
    args = ("commands", "send", device_id, "test_expiry", "--client-token", key, "--json")
    first = fleet(*args).json()
    _backdate(local_stack, "command", "demo", device_id, first["command_id"])
    # When the same send is repeated with --wait (the client token replays the original command)
    again = fleet(*args, "--wait")
    # Then the final status is printed and the exit status says it was not delivered
    assert again.exit_code == 3 and "ended missed" in again.stderr
    assert again.json()["command_id"] == first["command_id"] and again.json()["status"] == "missed"


def test_bad_params_json_is_a_usage_error(fleet: Fleet) -> None:
    bad = fleet("commands", "send", "sim-1", "ping", "--params", "{not json")
    assert bad.exit_code == 2 and "--params" in bad.stderr


def test_twin_set_wait_until_synced_and_stale_version_is_refused(fleet: Fleet) -> None:
    before = fleet("twin", "show", "sim-2", "--json").json()
    version = before["desired_version"]
    changed = fleet("twin", "set", "sim-2", "--desired", '{"interval_s": 45}', "--version", str(version),
                    "--wait", "--json")
    assert changed.exit_code == 0, changed.stderr
    twin = changed.json()
    assert twin["sync_status"] == "synced" and twin["desired_version"] == version + 1
    assert twin["reported"]["interval_s"] == 45
    stale = fleet("twin", "set", "sim-2", "--desired", '{"interval_s": 50}', "--version", str(version))
    assert stale.exit_code == 1 and "HTTP 409" in stale.stderr
    assert "sync_status" in fleet("twin", "show", "sim-2").stdout


def test_group_job_is_followed_to_completed(fleet: Fleet, local_stack: LocalStack) -> None:
    created = fleet("jobs", "create", "--group", "demo-fleet", "--type", "update_config", "--params",
                    '{"config": {}}', "--wait", "--json")
    assert created.exit_code == 0, created.stderr
    job = created.json()
    members = len(local_stack.info["devices"]) + 1  # and the board enrolled by claim, in demo-fleet by its template
    assert job["status"] == "COMPLETED" and job["counts"]["SUCCEEDED"] == members
    assert {e["status"] for e in job["executions"]} == {"SUCCEEDED"} and len(job["executions"]) == members
    assert "SUCCEEDED" in created.stderr  # the progress bars
    assert fleet("jobs", "show", job["job_id"], "--json").json()["counts"]["SUCCEEDED"] == members
    assert job["job_id"] in {j["job_id"] for j in fleet("jobs", "list", "--status", "COMPLETED", "--json").json()}
    assert job["job_id"] in fleet("jobs", "list").stdout


def test_failing_job_exits_3(fleet: Fleet) -> None:
    failed = fleet("jobs", "create", "--device", "sim-1", "--type", "reboot", "--params", '{"fail": true}', "--wait")
    assert failed.exit_code == 3 and "FAILED=1" in failed.stderr
    assert "simulated failure" in failed.stdout


def test_job_wait_that_runs_out_exits_4_and_cancel_rejects_it(fleet: Fleet) -> None:
    device_id = _quiet_device(fleet)
    waited = fleet("jobs", "create", "--device", device_id, "--type", "reboot", "--expires", "1", "--wait",
                   "--wait-timeout", "1", "--interval", "0.2")
    assert waited.exit_code == 4 and "gave up waiting for the job" in waited.stderr
    announced = re.search(r"job (\S+): 1 executions", waited.stderr)
    assert announced is not None
    job_id = announced.group(1)
    assert job_id in {j["job_id"] for j in fleet("jobs", "list", "--status", "IN_PROGRESS", "--json").json()}
    canceled = fleet("jobs", "cancel", job_id, "--json")
    assert canceled.exit_code == 0 and canceled.json()["status"] == "CANCELED"
    again = fleet("jobs", "cancel", job_id)
    assert again.exit_code == 1 and "HTTP 409" in again.stderr
    shown = fleet("jobs", "show", job_id, "--wait", "--json")
    assert shown.exit_code == 3 and shown.json()["counts"]["REJECTED"] == 1


def test_job_needs_exactly_one_target(fleet: Fleet) -> None:
    both = fleet("jobs", "create", "--device", "sim-1", "--group", "demo-fleet", "--type", "reboot")
    assert both.exit_code == 2
    none = fleet("jobs", "create", "--type", "reboot")
    assert none.exit_code == 2


def test_job_rollout_options_reach_the_job(fleet: Fleet) -> None:
    created = fleet("jobs", "create", "--group", "demo-fleet", "--type", "reboot", "--rate", "1",
                    "--abort", "FAILED:20:10", "--timeout-minutes", "30", "--json")
    assert created.exit_code == 0, created.stderr
    job = created.json()
    assert job["rollout"] == {"max_per_minute": 1, "exponential": None}
    assert job["rollout_progress"]["released"] == 1
    assert job["abort"] == [{"failure_type": "FAILED", "min_executed": 10, "threshold_percentage": 20.0,
                             "action": "CANCEL"}]
    assert job["in_progress_timeout_minutes"] == 30
    assert fleet("jobs", "cancel", job["job_id"]).exit_code == 0
    bad = fleet("jobs", "create", "--group", "demo-fleet", "--type", "reboot", "--abort", "FAILED:lots")
    assert bad.exit_code == 2 and "TYPE:PERCENT:MIN_EXECUTED" in bad.stderr
    refused = fleet("jobs", "create", "--device", "sim-1", "--type", "reboot", "--continuous")
    assert refused.exit_code == 1 and "target_selection" in refused.stderr
