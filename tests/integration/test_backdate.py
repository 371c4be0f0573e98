"""The back-date tool: the seeds' expiry steps (000 step 6, 004 step 8) without waiting a minute."""
from __future__ import annotations

import os

import pytest
from chalice.test import Client

from chalicelib.core.clock import parse_iso
from chalicelib.core.errors import Conflict, NotFound
from infra.local.backdate import run, stack_env
from tests.commands_support import ack_http, command, minutes_from_now, run_expiry, send
from tests.conftest import Stack
from tests.integration.jobs_support import create_job, run_sweep
from tests.support import Api


def test_backdated_published_command_is_missed_at_the_next_expiry(api: Api) -> None:
    # Given a published command that nobody ACKs (seed 000 step 6)
    device_id, token = api.create_device("backdate-1")
    created = send(api, device_id, "test_expiry")
    assert created["mqtt_published"] is True
    # When the tool back-dates it by a minute
    done = run(["command", api.tenant_id, device_id, created["command_id"]])
    # Then it is still queued, expired a minute ago, and no longer pending for the device
    stored = command(api, device_id, created["command_id"])
    assert done.status == stored["status"] == "queued" and done.tick is None
    assert parse_iso(stored["expires_at"]) == done.expires_at < minutes_from_now(-0.9)
    assert api.device_call("GET", "/device/v1/commands/pending", token).body["commands"] == []
    # When the per-minute expiry fires, as the scheduler would within a minute
    run_expiry(minutes_from_now(0))
    # Then the expiry index found it: missed, since it was published and never ACKed
    assert command(api, device_id, created["command_id"])["status"] == "missed"


def test_tick_fires_the_command_expiry_at_once(api: Api) -> None:
    # Given a published, unacknowledged command
    device_id, _ = api.create_device("backdate-2")
    created = send(api, device_id, "test_expiry")
    # When the tool back-dates it five minutes with --tick
    done = run(["command", api.tenant_id, device_id, created["command_id"], "--minutes-ago", "5", "--tick"])
    # Then the expiry ran in-process and closed it
    assert done.tick is not None and done.tick["missed"] >= 1
    assert done.status == command(api, device_id, created["command_id"])["status"] == "missed"
    assert done.summary().endswith("status: missed")


def test_backdated_single_device_job_times_out_and_completes(api: Api, chalice_client: Client) -> None:
    # Given a single-device job the device never claims, which the sweep leaves alone (seed 004 step 8)
    device_id, _ = api.create_device("backdate-3")
    job = create_job(api, document_type="test_expiry", target_device_id=device_id, expires_in_hours=24)
    run_sweep(chalice_client, minutes_from_now(0))
    assert api.get(f"/customer/jobs/{job['job_id']}").body["status"] == "IN_PROGRESS"
    # When the tool back-dates it and fires the sweep
    done = run(["job", api.tenant_id, job["job_id"], "--tick"])
    # Then the job is COMPLETED and its execution TIMED_OUT, as the seed expects
    described = api.get(f"/customer/jobs/{job['job_id']}").body
    assert f"job: {described['status']} | exec: {described['executions'][0]['status']}" == \
        "job: COMPLETED | exec: TIMED_OUT"
    assert described["executions"][0]["status_details"] == {"reason": "job expired"}
    assert parse_iso(described["expires_at"]) == done.expires_at
    assert done.status == "COMPLETED" and done.counts["TIMED_OUT"] == 1
    assert "job: COMPLETED | executions: TIMED_OUT=1" in done.summary()


def test_backdating_a_delivered_command_is_refused_and_changes_nothing(api: Api) -> None:
    # Given a command the device ACKed
    device_id, token = api.create_device("backdate-4")
    created = send(api, device_id, "ping")
    assert ack_http(api, token, created["command_id"]).status == 200
    before = command(api, device_id, created["command_id"])
    # When the tool tries to back-date it
    with pytest.raises(Conflict, match="is delivered; only a queued command can be back-dated"):
        run(["command", api.tenant_id, device_id, created["command_id"], "--tick"])
    # Then the command is exactly as it was
    assert command(api, device_id, created["command_id"]) == before


def test_backdating_a_canceled_job_is_refused_and_changes_nothing(api: Api) -> None:
    # Given a canceled job
    device_id, _ = api.create_device("backdate-5")
    job = create_job(api, target_device_id=device_id)
    assert api.delete(f"/customer/jobs/{job['job_id']}").status == 200
    before = api.get(f"/customer/jobs/{job['job_id']}").body
    # When the tool tries to back-date it
    with pytest.raises(Conflict, match="is CANCELED; only an IN_PROGRESS job"):
        run(["job", api.tenant_id, job["job_id"], "--tick"])
    # Then the job and its execution are exactly as they were
    after = api.get(f"/customer/jobs/{job['job_id']}").body
    assert after == before and after["status"] == "CANCELED"


def test_another_tenants_or_a_missing_item_is_not_found(api: Api, other_api: Api) -> None:
    # Given a queued command and a running job of one tenant
    device_id, _ = api.create_device("backdate-6")
    created = send(api, device_id, "ping")
    job = create_job(api, target_device_id=device_id)
    # When the tool is pointed at them under another tenant, or at ids that do not exist
    # Then each is NotFound, as the API answers for a foreign id
    with pytest.raises(NotFound):
        run(["command", other_api.tenant_id, device_id, created["command_id"]])
    with pytest.raises(NotFound):
        run(["job", other_api.tenant_id, job["job_id"]])
    with pytest.raises(NotFound):
        run(["command", api.tenant_id, device_id, "01hzzzzzzzzzzzzzzzzzzzzzzz"])
    # And the real items are untouched
    assert command(api, device_id, created["command_id"])["expires_at"] == created["expires_at"]


def test_minutes_ago_must_be_whole_positive_minutes(api: Api) -> None:
    for bad in ("0", "-3", "1.5", "soon", "100000"):
        with pytest.raises(SystemExit):
            run(["job", api.tenant_id, "j", "--minutes-ago", bad])


def test_settings_target_the_running_stack_unless_the_environment_names_another(stack: Stack) -> None:
    # The `make run` defaults: DynamoDB on port 8001, tables fleet-local-*
    defaults = stack_env({})
    assert defaults["FLEET_DDB_ENDPOINT"] == "http://127.0.0.1:8001"
    assert defaults["FLEET_TABLE_PREFIX"] == "fleet-local"
    assert stack_env({"DDB_PORT": "9001"})["FLEET_DDB_ENDPOINT"] == "http://127.0.0.1:9001"
    # A running stack's stack.json names its database and table prefix
    state = {"database": {"endpoint": "http://127.0.0.1:9555", "table_prefix": "mine"}}
    assert stack_env({}, state)["FLEET_DDB_ENDPOINT"] == "http://127.0.0.1:9555"
    assert stack_env({}, state)["FLEET_TABLE_PREFIX"] == "mine"
    # The environment wins, as it does for `make run` itself (the test stack is set that way)
    here = stack_env(os.environ)
    assert here["FLEET_DDB_ENDPOINT"] == stack.ddb_endpoint
    assert here["FLEET_TABLE_PREFIX"] == os.environ["FLEET_TABLE_PREFIX"]
