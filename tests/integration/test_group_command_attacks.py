"""Group and site commands under attack: expiry on resume, idempotency races, forged and bad input."""
from __future__ import annotations

import base64
import json
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest

from chalicelib.commands.batches.schemas import BatchTarget
from chalicelib.commands.schemas import CreateCommand
from chalicelib.container import container
from chalicelib.core.clock import utcnow
from chalicelib.core.errors import Unavailable
from chalicelib.devices.models import DeviceModel
from tests.integration.group_commands_support import all_commands, batch_service, finish, seed_group, send_group
from tests.integration.test_group_command_resume import CrashAfterWrites
from tests.support import Api


def test_a_batch_resumed_after_its_commands_expired_sends_no_more(api: Api) -> None:
    # Given a group of 5 whose 1-minute command got through one chunk of 2 before the POST ran out of time
    seed_group(api.tenant_id, "g", 5)
    sent = batch_service(chunk=2, budget_s=0).send(api.tenant_id, BatchTarget.GROUP, "g",
                                              CreateCommand(command_type="ping", expires_in_minutes=1), "op")
    assert (sent.batch.status.value, sent.batch.sent) == ("sending", 2)
    # When the schedule resumes it only after the command's expiry
    later = utcnow() + timedelta(minutes=10)
    report = batch_service(chunk=2, budget_s=0, clock=lambda: later).run_due(later, budget_s=60)
    assert (report.resumed, report.completed) == (1, 1)
    # Then no already-expired command was queued (or published): the rest are counted as skipped
    view = api.get(f"/customer/command-batches/{sent.batch.batch_id}").body
    assert (view["status"], view["targeted"], view["sent"], view["skipped"]) == ("sent", 5, 2, 3)
    assert len(all_commands(api, sent.batch.batch_id)) == 2
    assert api.get("/customer/devices/dev-00004/commands").body == []


def test_a_chunk_redone_after_the_expiry_counts_what_its_dead_runner_wrote(api: Api) -> None:
    # Given a run of chunks of 2 over 4 members that died after writing its second chunk, before counting it
    seed_group(api.tenant_id, "g", 4)
    crashing = CrashAfterWrites(container().command_service, crash_on=2)
    sent = batch_service(chunk=2, budget_s=60, commands=crashing).send(
        api.tenant_id, BatchTarget.GROUP, "g", CreateCommand(command_type="ping", expires_in_minutes=1), "op")
    assert (sent.batch.status.value, sent.batch.sent) == ("sending", 2)
    # When the schedule takes the walk over after the expiry
    later = utcnow() + timedelta(minutes=10)
    assert batch_service(chunk=2, budget_s=60, clock=lambda: later).run_due(later, budget_s=60).completed == 1
    # Then the commands that exist are counted as sent, and none is added
    view = api.get(f"/customer/command-batches/{sent.batch.batch_id}").body
    assert (view["status"], view["targeted"], view["sent"], view["skipped"]) == ("sent", 4, 4, 0)
    assert len(all_commands(api, sent.batch.batch_id)) == 4


def test_one_client_token_sent_concurrently_makes_one_batch(api: Api) -> None:
    # Given a group of 3
    seed_group(api.tenant_id, "g", 3)
    service = container().command_batch_service
    request = CreateCommand(command_type="ping", client_token="tok-1")

    def send(_: int) -> str:
        try:
            return service.send(api.tenant_id, BatchTarget.GROUP, "g", request, "op").batch.batch_id
        except Unavailable as exc:  # the claim was in flight: a retryable 503
            assert exc.field == "client_token"
            return "retry"

    # When 6 requests with the same token race
    with ThreadPoolExecutor(6) as pool:
        ids = set(pool.map(send, range(6))) - {"retry"}
    # Then they all name the one batch, and each device has one command
    assert len(ids) == 1
    assert len(api.get("/customer/command-batches").body["batches"]) == 1
    finish(api, {"batch_id": next(iter(ids))})
    for i in range(3):
        assert len(api.get(f"/customer/devices/dev-{i:05d}/commands").body) == 1


def test_a_client_token_is_per_tenant_and_per_body(api: Api, other_api: Api) -> None:
    seed_group(api.tenant_id, "g", 1)
    seed_group(other_api.tenant_id, "g", 1)
    body = {"command_type": "ping", "client_token": "same"}
    mine, theirs = send_group(api, "g", body), send_group(other_api, "g", body)
    assert mine["batch_id"] != theirs["batch_id"]
    # The same token with another body (or another target) is a 409 naming it; nothing new is sent
    assert api.post("/customer/sites", {"site_id": "s", "name": "S", "wake_schedule_cron": "0 6 * * *"}).status == 201
    for path, other in [("groups/g", {**body, "command_type": "reboot"}),
                        ("groups/g", {**body, "expires_in_minutes": 5}), ("sites/s", body)]:
        resp = api.post(f"/customer/{path}/commands", other)
        assert (resp.status, resp.body["field"]) == (409, "client_token"), resp.body
    assert len(api.get("/customer/command-batches").body["batches"]) == 1
    assert len(api.get("/customer/devices/dev-00000/commands").body) == 1


def _token(key: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


def test_forged_and_bad_query_params_are_400_naming_the_field(api: Api, other_api: Api) -> None:
    seed_group(other_api.tenant_id, "theirs", 3)
    theirs = send_group(other_api, "theirs")
    seed_group(api.tenant_id, "g", 3)
    mine = send_group(api, "g")
    # A cursor naming the other tenant's batch listing or batch partition
    foreign_list = _token({"tenant_id": {"S": other_api.tenant_id}, "batch_id": {"S": theirs["batch_id"]}})
    foreign_batch = _token({"batch_key": {"S": f"{other_api.tenant_id}#{theirs['batch_id']}"},
                            "device_id": {"S": "dev-00000"}, "device_key": {"S": f"{other_api.tenant_id}#dev-00000"},
                            "command_id": {"S": "x"}})
    cases = [
        ("/customer/command-batches?next_token=" + foreign_list, "next_token"),
        (f"/customer/command-batches/{mine['batch_id']}?next_token=" + foreign_batch, "next_token"),
        ("/customer/command-batches?next_token=%%%", "next_token"),
        ("/customer/command-batches?limit=0", "limit"),
        ("/customer/command-batches?limit=abc", "limit"),
        ("/customer/command-batches?limit=100000", "limit"),
        (f"/customer/command-batches/{mine['batch_id']}?limit=-1", "limit"),
    ]
    for path, field in cases:
        resp = api.get(path)
        assert (resp.status, resp.body.get("field")) == (400, field), (path, resp.body)


@pytest.mark.parametrize("path", [
    "/customer/groups/" + "g" * 3000 + "/commands",
    "/customer/sites/" + "s" * 3000 + "/commands",
    "/customer/groups/%F0%9F%92%A9/commands",
])
def test_overlong_and_odd_target_ids_are_4xx_not_500(api: Api, path: str) -> None:
    resp = api.post(path, {"command_type": "ping"})
    assert resp.status in (400, 404) and resp.body["field"] in ("group_id", "site_id"), resp.body
    assert api.get("/customer/command-batches").body["batches"] == []


def test_an_overlong_batch_id_is_404(api: Api) -> None:
    resp = api.get("/customer/command-batches/" + "b" * 3000)
    assert (resp.status, resp.body["field"]) == (404, "batch_id")


@pytest.mark.parametrize("body", [None, [], "x", {"command_type": "ping", "client_token": ""},
                                  {"command_type": "ping", "client_token": "t" * 1000},
                                  {"command_type": "ping", "expires_in_minutes": "5"},
                                  {"command_type": "ping", "expires_in_minutes": True}])
def test_odd_bodies_are_400_and_send_nothing(api: Api, body: Any) -> None:
    seed_group(api.tenant_id, "g", 1)
    resp = api.post("/customer/groups/g/commands", body)
    assert resp.status == 400 and resp.body.get("field"), resp.body
    assert api.get("/customer/command-batches").body["batches"] == []


def test_a_stale_membership_of_a_deleted_device_gets_no_command(api: Api) -> None:
    # Given a group whose membership row outlived its device (a delete that did not clean up)
    seed_group(api.tenant_id, "g", 3)
    DeviceModel(api.tenant_id, "dev-00001").delete()
    # When the group is commanded
    batch = send_group(api, "g", {"command_type": "ping"})
    # Then the ghost member is skipped and no command item is written for it
    assert (batch["status"], batch["targeted"], batch["sent"], batch["skipped"]) == ("sent", 3, 2, 1)
    assert {c["device_id"] for c in all_commands(api, batch["batch_id"])} == {"dev-00000", "dev-00002"}




class RaceOnFirstChunk:
    """The command service, but another run of the schedule happens just before the first chunk is written."""

    def __init__(self, real: Any, race: Any) -> None:
        self._real = real
        self._race = race
        self.raced: Any = None

    def expiry_of(self, request: CreateCommand, now: Any) -> Any:
        return self._real.expiry_of(request, now)

    def create_for_batch(self, *args: Any) -> Any:
        if self.raced is None:
            self.raced = self._race()
        return self._real.create_for_batch(*args)


def test_a_late_schedule_event_leases_the_walk_from_the_clock_not_from_its_own_time(api: Api) -> None:
    # Given a batch handed to the schedule at once (the POST had no time), due from t0
    seed_group(api.tenant_id, "g", 4)
    sent = batch_service(chunk=2, budget_s=0).send(api.tenant_id, BatchTarget.GROUP, "g",
                                              CreateCommand(command_type="ping"), "op")
    assert (sent.batch.status.value, sent.batch.sent) == ("sending", 2)
    t0 = utcnow()
    now = t0 + timedelta(minutes=10)
    # When a late (retried) event of t0 is processed 10 minutes on, and the current minute's run
    # comes just before its first chunk is written
    current = batch_service(chunk=2, budget_s=60, clock=lambda: now)
    late = RaceOnFirstChunk(container().command_service, lambda: current.run_due(now, budget_s=60))
    report = batch_service(chunk=2, budget_s=60, clock=lambda: now, commands=late).run_due(t0, budget_s=60)
    # Then the current run finds the walk leased and leaves it: one runner, each member one command
    assert late.raced is not None and late.raced.resumed == 0
    assert (report.resumed, report.completed) == (1, 1)
    view = api.get(f"/customer/command-batches/{sent.batch.batch_id}").body
    assert (view["status"], view["targeted"], view["sent"]) == ("sent", 4, 4)
