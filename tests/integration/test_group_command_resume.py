"""A group command whose request ran out of time or died is finished by the per-minute schedule."""
from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from chalicelib.commands.batches.schemas import BatchTarget
from chalicelib.commands.batches.service import MemberPage, MemberSource
from chalicelib.commands.schemas import Command, CreateCommand
from chalicelib.commands.service import BatchRef, CommandService
from chalicelib.container import container
from chalicelib.core.clock import utcnow
from tests.integration.group_commands_support import all_commands, batch_service, seed_group
from tests.support import Api


class CrashAfterWrites:
    """The command service, but the run dies right after the `crash_on`-th chunk's commands are written."""

    def __init__(self, real: CommandService, crash_on: int) -> None:
        self._real = real
        self._crash_on = crash_on
        self.chunks = 0

    def expiry_of(self, request: CreateCommand, now: Any) -> Any:
        return self._real.expiry_of(request, now)

    def create_for_batch(self, tenant_id: str, batch: BatchRef, device_ids: list[str], request: CreateCommand,
                         created_by: str) -> list[Command]:
        sent = self._real.create_for_batch(tenant_id, batch, device_ids, request, created_by)
        self.chunks += 1
        if self.chunks == self._crash_on:
            raise RuntimeError("the function died here")
        return sent


class StallAfterRead:
    """A member source whose first page returns only after `meanwhile` ran: a runner stalled past its lease."""

    def __init__(self, real: MemberSource, meanwhile: Callable[[], None]) -> None:
        self._real = real
        self._meanwhile: Callable[[], None] | None = meanwhile

    def check(self, tenant_id: str, target_id: str) -> None:
        self._real.check(tenant_id, target_id)

    def page(self, tenant_id: str, target_id: str, cursor: str, limit: int) -> MemberPage:
        page = self._real.page(tenant_id, target_id, cursor, limit)
        meanwhile, self._meanwhile = self._meanwhile, None
        if meanwhile is not None:
            meanwhile()
        return page


def test_a_runner_stalled_past_its_lease_writes_no_chunk_again(api: Api) -> None:
    # Given a group of 4 devices, sent in chunks of 2
    tokens = dict(api.create_device(f"d-{i}") for i in range(4))
    assert api.post("/customer/groups", {"group_id": "g", "name": "G"}).status == 201
    for device_id in tokens:
        assert api.put(f"/customer/groups/g/members/{device_id}").status == 201
    taker = batch_service(chunk=2, budget_s=60)

    def lease_runs_out() -> None:
        # While the first runner stalls after reading its first chunk, its lease runs out: the
        # schedule takes the walk over and sends the whole batch, and a device ACKs its command
        report = taker.run_due(utcnow() + timedelta(minutes=2), budget_s=60)
        assert (report.resumed, report.completed) == (1, 1)
        [command] = api.get("/customer/devices/d-0/commands").body
        assert api.device_call("POST", f"/device/v1/commands/{command['command_id']}/ack", tokens["d-0"],
                               {"status": "ok"}).status == 200

    stalled = batch_service(chunk=2, budget_s=60, groups=lambda real: StallAfterRead(real, lease_runs_out))
    # When the stalled runner wakes up and goes on with the chunk it had read
    sent = stalled.send(api.tenant_id, BatchTarget.GROUP, "g", CreateCommand(command_type="ping"), "op")
    # Then it writes nothing: the ACKed command stays delivered, and every device has one command
    view = api.get(f"/customer/command-batches/{sent.batch.batch_id}").body
    assert (view["status"], view["targeted"], view["sent"]) == ("sent", 4, 4)
    assert view["counts"]["delivered"] == 1 and view["counts"]["queued"] == 3
    for device_id in tokens:
        assert len(api.get(f"/customer/devices/{device_id}/commands").body) == 1


def test_a_request_out_of_time_leaves_the_rest_to_the_schedule(api: Api) -> None:
    # Given a group of 7 and a service that sends chunks of 3 with no time to spare
    seed_group(api.tenant_id, "g", 7)
    service = batch_service(chunk=3, budget_s=0)
    # When a command is sent to the group
    sent = service.send(api.tenant_id, BatchTarget.GROUP, "g", CreateCommand(command_type="ping"), "op")
    # Then the request did one chunk and answered `sending`
    assert (sent.batch.status.value, sent.batch.sent) == ("sending", 3)
    # And the schedule, at once (the lease was handed back), sends the rest
    report = service.run_due(utcnow(), budget_s=60)
    assert (report.resumed, report.completed, report.unfinished) == (1, 1, [])
    view = api.get(f"/customer/command-batches/{sent.batch.batch_id}").body
    assert (view["status"], view["targeted"], view["sent"]) == ("sent", 7, 7)
    assert len({c["device_id"] for c in all_commands(api, sent.batch.batch_id)}) == 7


def test_a_walk_that_died_mid_chunk_is_resumed_without_requeueing_what_was_acked(api: Api) -> None:
    # Given a run that dies after writing its second chunk, before recording it
    tokens = dict(api.create_device(f"d-{i}") for i in range(5))
    assert api.post("/customer/groups", {"group_id": "g", "name": "G"}).status == 201
    for device_id in tokens:
        assert api.put(f"/customer/groups/g/members/{device_id}").status == 201
    crashing = CrashAfterWrites(container().command_service, crash_on=2)
    service = batch_service(chunk=2, budget_s=60, commands=crashing)
    sent = service.send(api.tenant_id, BatchTarget.GROUP, "g", CreateCommand(command_type="ping"), "op")
    assert (sent.batch.status.value, sent.batch.targeted) == ("sending", 2)
    # And a device of that chunk ACKs its command meanwhile
    written = {c["device_id"]: c for c in all_commands(api, sent.batch.batch_id)}
    assert set(written) == {"d-0", "d-1", "d-2", "d-3"}
    ack = api.device_call("POST", f"/device/v1/commands/{written['d-2']['command_id']}/ack", tokens["d-2"],
                          {"status": "ok"})
    assert ack.status == 200
    # When the schedule runs before the lease ends, then after it
    assert service.run_due(utcnow(), budget_s=60).resumed == 0
    report = service.run_due(utcnow() + timedelta(minutes=2), budget_s=60)
    # Then the walk is taken over and finished; the ACKed command stays delivered, nothing doubled
    assert (report.resumed, report.completed) == (1, 1)
    view = api.get(f"/customer/command-batches/{sent.batch.batch_id}").body
    assert (view["status"], view["targeted"], view["sent"], view["skipped"]) == ("sent", 5, 5, 0)
    assert view["counts"]["delivered"] == 1 and view["counts"]["queued"] == 4
    for device_id in tokens:
        assert len(api.get(f"/customer/devices/{device_id}/commands").body) == 1
