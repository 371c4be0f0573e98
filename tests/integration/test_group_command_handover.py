"""A group command answers after a first small chunk; the rest is handed over and started at once."""
from __future__ import annotations

from datetime import timedelta

from chalicelib.commands.batches.schemas import BatchTarget
from chalicelib.commands.batches.service import CommandBatchService
from chalicelib.commands.schemas import CreateCommand
from chalicelib.container import container
from chalicelib.core.background import ThreadKick
from chalicelib.core.clock import utcnow
from tests.integration.group_commands_support import all_commands, batch_service, seed_group
from tests.integration.test_group_command_resume import CrashAfterWrites
from tests.stack_support import wait_for
from tests.support import Api


def _kicked_service(chunk: int, first_chunk: int) -> CommandBatchService:
    """The stage's batch service with no POST budget, whose hand-over starts a run in a thread here."""
    service = batch_service(chunk=chunk, budget_s=0, first_chunk=first_chunk,
                            kick=ThreadKick(lambda: service.run_due(utcnow(), 60), "test-batches"))
    return service


def test_the_post_answers_after_its_first_chunk_and_the_kicked_run_sends_the_rest(api: Api) -> None:
    # Given a group of 120 and a service whose POST sends a first chunk of 20, then hands over
    seed_group(api.tenant_id, "g", 120)
    service = _kicked_service(chunk=50, first_chunk=20)
    # When a command is sent to the group
    sent = service.send(api.tenant_id, BatchTarget.GROUP, "g", CreateCommand(command_type="ping"), "op")
    # Then the answer is `sending` with the first chunk sent
    assert (sent.batch.status.value, sent.batch.sent) == ("sending", 20)
    # And, with no scheduled run fired, the kicked run sends the rest
    batch_id = sent.batch.batch_id
    assert wait_for(lambda: api.get(f"/customer/command-batches/{batch_id}?limit=1").body["status"] == "sent", 60)
    view = api.get(f"/customer/command-batches/{batch_id}").body
    assert (view["targeted"], view["sent"], view["published"]) == (120, 120, 120)
    commands = all_commands(api, batch_id)
    assert len({c["device_id"] for c in commands}) == 120 and all(c["published_at"] for c in commands)


def test_a_run_that_died_after_taking_over_a_handed_over_walk_is_redone(api: Api) -> None:
    # Given a batch of 6 handed over after its first chunk of 2
    tokens = dict(api.create_device(f"d-{i}") for i in range(6))
    assert api.post("/customer/groups", {"group_id": "g", "name": "G"}).status == 201
    for device_id in tokens:
        assert api.put(f"/customer/groups/g/members/{device_id}").status == 201
    sent = batch_service(chunk=2, budget_s=0).send(api.tenant_id, BatchTarget.GROUP, "g",
                                                   CreateCommand(command_type="ping"), "op")
    assert (sent.batch.status.value, sent.batch.sent) == ("sending", 2)
    # And the run that took it over died after writing its first chunk, one of whose devices ACKed
    crashing = CrashAfterWrites(container().command_service, crash_on=1)
    report = batch_service(chunk=2, budget_s=60, commands=crashing).run_due(utcnow(), budget_s=60)
    assert (report.resumed, report.completed) == (1, 0)
    written = {c["device_id"]: c for c in all_commands(api, sent.batch.batch_id)}
    assert set(written) == {"d-0", "d-1", "d-2", "d-3"}
    assert api.device_call("POST", f"/device/v1/commands/{written['d-2']['command_id']}/ack", tokens["d-2"],
                           {"status": "ok"}).status == 200
    # When the schedule takes it over once its lease ran out
    later = utcnow() + timedelta(minutes=2)
    assert batch_service(chunk=2, budget_s=60, clock=lambda: later).run_due(later, budget_s=60).completed == 1
    # Then that chunk was redone without requeueing the ACKed command
    view = api.get(f"/customer/command-batches/{sent.batch.batch_id}").body
    assert (view["status"], view["targeted"], view["sent"]) == ("sent", 6, 6)
    assert view["counts"]["delivered"] == 1 and view["counts"]["queued"] == 5


def test_the_post_answers_before_any_chunk_and_the_kicked_run_sends_every_member(api: Api) -> None:
    # Given a group of 60 and a service whose POST sends nothing itself, with a kick that only records
    seed_group(api.tenant_id, "g0", 60)
    kicks: list[int] = []
    service = batch_service(chunk=25, budget_s=60, first_chunk=0, kick=lambda: kicks.append(1))
    # When a command is sent to the group
    sent = service.send(api.tenant_id, BatchTarget.GROUP, "g0", CreateCommand(command_type="ping"), "op")
    # Then the answer keeps the batch id, is `sending` with nothing written, and the run was kicked once
    batch_id = sent.batch.batch_id
    assert (sent.batch.status.value, sent.batch.targeted, sent.batch.sent) == ("sending", 0, 0)
    assert kicks == [1]
    assert all_commands(api, batch_id) == []
    stored = api.get(f"/customer/command-batches/{batch_id}?limit=1").body
    assert (stored["batch_id"], stored["status"]) == (batch_id, "sending")
    # And the run it started (here: the schedule's, due at once) sends one command to every member
    report = service.run_due(utcnow(), budget_s=60)
    assert (report.resumed, report.completed) == (1, 1)
    view = api.get(f"/customer/command-batches/{batch_id}").body
    assert (view["status"], view["targeted"], view["sent"], view["published"]) == ("sent", 60, 60, 60)
    assert len({c["device_id"] for c in all_commands(api, batch_id)}) == 60


def test_the_stage_post_answers_at_once_and_its_thread_sends_the_group(api: Api) -> None:
    # Given a group of 40 on the stage's own settings (no first chunk)
    seed_group(api.tenant_id, "g1", 40)
    assert container().settings.command_batches.first_chunk == 0
    # When the operator sends a command to it
    resp = api.post("/customer/groups/g1/commands", {"command_type": "ping"})
    # Then it is accepted as `sending` with nothing sent by the request, and the kicked run sends all of it
    assert resp.status == 202 and resp.body["sent"] == 0, resp.body
    batch_id = resp.body["batch_id"]
    assert wait_for(lambda: api.get(f"/customer/command-batches/{batch_id}?limit=1").body["status"] == "sent", 60)
    assert api.get(f"/customer/command-batches/{batch_id}").body["sent"] == 40
