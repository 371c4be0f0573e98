"""Creating jobs: validation, targets, client_token replays, notifications, listing."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from chalicelib.container import container
from chalicelib.core.errors import Unavailable
from chalicelib.core.messaging.base import RecordingPublisher
from chalicelib.core.storage.batch import BatchWriter, model_sender
from chalicelib.core.storage.idempotency import fingerprint
from chalicelib.jobs.execution_store import ExecutionModel, ExecutionRepository
from chalicelib.jobs.notify import JobNotifier, NotifyLimits
from chalicelib.jobs.schemas import CreateJob, Job, JobStatus
from chalicelib.jobs.service import JobLimits, JobService
from chalicelib.jobs.targets import TargetReader
from tests.conftest import Stack
from tests.integration.jobs_support import create_job, disable, fleet, update
from tests.support import Api


def test_bad_targets_are_rejected_naming_the_target(api: Api) -> None:
    device_id, _ = api.create_device("d")
    api.post("/customer/groups", {"group_id": "empty", "name": "Empty"})
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({}, 400, "target"),
        ({"target_device_id": device_id, "target_all": True}, 400, "target"),
        ({"target_all": False}, 400, "target"),
        ({"target_device_id": "ghost"}, 404, "target_device_id"),
        ({"target_group_id": "ghost"}, 404, "target_group_id"),
        ({"target_group_id": "empty"}, 400, "target_group_id"),
        ({"target_device_id": device_id, "expires_in_hours": 0}, 400, "expires_in_hours"),
        ({"target_device_id": device_id, "expires_in_hours": 10_000}, 400, "expires_in_hours"),
        ({"target_device_id": device_id, "document_type": "has space"}, 400, "document_type"),
        ({"target_device_id": device_id, "document_params": {"blob": "x" * 20_000}}, 413, "document_params"),
    ]
    for body, status, field in cases:
        resp = api.post("/customer/jobs", {"document_type": "reboot", **body})
        assert (resp.status, resp.body.get("field")) == (status, field), (body, resp.body)
    assert api.get("/customer/jobs").body["jobs"] == []


def test_a_disabled_single_target_is_a_conflict_and_a_tenant_without_devices_is_empty(api: Api) -> None:
    assert api.post("/customer/jobs", {"document_type": "x", "target_all": True}).body["field"] == "target_all"
    device_id, _ = api.create_device("off")
    disable(api, device_id)
    resp = api.post("/customer/jobs", {"document_type": "x", "target_device_id": device_id})
    assert resp.status == 409 and resp.body["field"] == "target_device_id"


def test_client_token_replays_return_the_same_job(api: Api) -> None:
    device_id, _ = api.create_device("d")
    body = {"document_type": "reboot", "target_device_id": device_id, "client_token": "op-42"}
    first = api.post("/customer/jobs", body)
    again = api.post("/customer/jobs", body)
    assert first.status == 201 and again.status == 200
    assert again.body["job_id"] == first.body["job_id"]
    assert len(api.get("/customer/jobs").body["jobs"]) == 1
    other = api.post("/customer/jobs", {**body, "document_type": "ping"})
    assert other.status == 409 and other.body["field"] == "client_token"


def _claim(api: Api, body: dict[str, Any], job_id: str, started: datetime) -> None:
    """What a create that died after claiming its client_token at `started` left behind."""
    request = CreateJob.model_validate(body)
    container().idempotency_store.begin("jobs", api.tenant_id, body["client_token"], job_id,
                                          fingerprint(request.fingerprint_source()), started,
                                          timedelta(seconds=120), started + timedelta(days=1))


def test_a_create_that_died_after_fan_out_is_finished_by_a_replay_after_its_lease(api: Api) -> None:
    # Given a create that claimed its token and queued r-000 and r-002, then died 10 minutes ago
    fleet(api, "r", 3, group_id="rg")
    api.delete("/customer/groups/rg/members/r-002")
    body = {"document_type": "reboot", "target_group_id": "rg", "client_token": "retry-me"}
    started = datetime.now(timezone.utc) - timedelta(minutes=10)
    _claim(api, body, "01halfdone", started)
    container().execution_repository.create_all(api.tenant_id, "01halfdone", ["r-000", "r-002"], started)
    # When the client retries with the same token
    resp = api.post("/customer/jobs", body)
    # Then the job is created under the claimed id, with exactly the current snapshot
    assert resp.status == 201 and resp.body["job_id"] == "01halfdone"
    assert resp.body["execution_count"] == 2
    executions = api.get("/customer/jobs/01halfdone").body["executions"]
    assert [e["device_id"] for e in executions] == ["r-000", "r-001"]
    assert api.post("/customer/jobs", body).status == 200


def test_a_replay_while_the_first_attempt_may_still_run_is_told_to_retry(api: Api) -> None:
    device_id, _ = api.create_device("busy")
    body = {"document_type": "reboot", "target_device_id": device_id, "client_token": "slow-one"}
    _claim(api, body, "01stillrunning", datetime.now(timezone.utc))
    resp = api.post("/customer/jobs", body)
    assert resp.status == 409 and resp.body["field"] == "client_token"
    assert resp.body["resource_id"] == "01stillrunning"
    assert api.get("/customer/jobs").body["jobs"] == []


def test_a_rejected_create_does_not_burn_its_client_token(api: Api) -> None:
    # Given a create refused because the group is empty
    api.post("/customer/groups", {"group_id": "later", "name": "Later"})
    body = {"document_type": "reboot", "target_group_id": "later", "client_token": "fix-and-retry"}
    assert api.post("/customer/jobs", body).status == 400
    # When the operator fixes the group and retries the same request
    device_id, _ = api.create_device("now-there")
    api.put(f"/customer/groups/later/members/{device_id}")
    # Then it is created
    resp = api.post("/customer/jobs", body)
    assert resp.status == 201 and resp.body["execution_count"] == 1


def test_orphan_executions_of_an_unfinished_create_are_invisible_to_devices(api: Api) -> None:
    device_id, token = api.create_device("o")
    container().execution_repository.create_all(api.tenant_id, "01orphan", [device_id], datetime.now().astimezone())
    assert api.device_call("GET", "/device/v1/jobs/pending", token).body["jobs"] == []
    resp = api.device_call("PUT", "/device/v1/jobs/01orphan/execution", token, {"status": "IN_PROGRESS"})
    assert resp.status == 404


def test_each_target_is_notified_on_its_own_topic(api: Api, stack: Stack) -> None:
    # Given two devices listening on their own subtree
    tokens = fleet(api, "n", 2, group_id="ng")
    peers = {d: stack.device_peer(api.tenant_id, d, t) for d, t in tokens.items()}
    try:
        for d, peer in peers.items():
            peer.subscribe(f"tenant/{api.tenant_id}/device/{d}/jobs/notify")
        # When a job targets their group
        job = create_job(api, document_type="update_config", document_params={"a": 1}, target_group_id="ng")
        # Then each receives its pending entry with the document
        for d, peer in peers.items():
            topic, payload, retained = peer.expect()
            assert topic.endswith(f"/device/{d}/jobs/notify") and not retained
            [entry] = payload["jobs"]
            assert payload["complete"] is True
            assert entry["job_id"] == job["job_id"] and entry["status"] == "QUEUED"
            assert entry["document"] == {"type": "update_config", "params": {"a": 1}}
    finally:
        for peer in peers.values():
            peer.close()


def test_a_device_with_a_pending_job_is_notified_of_its_whole_pending_list(api: Api, stack: Stack) -> None:
    # Given a device that has already claimed one job
    device_id, token = api.create_device("p")
    first = create_job(api, document_type="ping", target_device_id=device_id)
    assert update(api, token, first["job_id"], "IN_PROGRESS").status == 200
    peer = stack.device_peer(api.tenant_id, device_id, token)
    try:
        peer.subscribe(f"tenant/{api.tenant_id}/device/{device_id}/jobs/notify")
        # When a second job targets it
        second = create_job(api, document_type="reboot", target_device_id=device_id)
        # Then the notify carries both jobs, oldest first, as the pending route lists them
        _, payload, _ = peer.expect()
        assert payload["complete"] is True
        assert [(e["job_id"], e["status"]) for e in payload["jobs"]] == [
            (first["job_id"], "IN_PROGRESS"), (second["job_id"], "QUEUED")]
        assert payload["jobs"] == api.device_call("GET", "/device/v1/jobs/pending", token).body["jobs"]
    finally:
        peer.close()


def _service(publisher: RecordingPublisher, full_list_max: int = 100,
             executions: ExecutionRepository | None = None) -> JobService:
    """The wired job service, publishing into `publisher` and sending full lists up to `full_list_max` targets."""
    s = container().settings
    limits = JobLimits(ttl_default_h=s.jobs.ttl_default_h, ttl_max_h=s.jobs.ttl_max_h,
                       document_max_bytes=s.jobs.document_max_bytes, shards=s.schedule_shards,
                       cancel_budget_s=s.jobs.cancel_budget_s, notify_full_list_max=full_list_max)
    return JobService(container().job_repository, executions or container().execution_repository,
                      container().device_repository, container().group_repository, TargetReader(),
                      container().idempotency_store, publisher, container().job_sweeper, limits)


class FailingFanout(ExecutionRepository):
    """The real execution table, whose first batch fan-out fails as if DynamoDB were unreachable."""

    failed = False

    def create_all(self, *args: Any, **kwargs: Any) -> Any:
        if not self.failed:
            self.failed = True
            raise Unavailable("DynamoDB unreachable")
        return super().create_all(*args, **kwargs)


def test_a_create_whose_fan_out_failed_can_be_retried_at_once_with_its_token(api: Api) -> None:
    # Given a create with a client_token whose execution fan-out fails
    fleet(api, "ff", 2, group_id="ffg")
    service = _service(RecordingPublisher(), executions=FailingFanout(BatchWriter(model_sender(ExecutionModel))))
    request = CreateJob.model_validate({"document_type": "reboot", "document_params": {}, "target_group_id": "ffg",
                                        "client_token": "flaky-db"})
    with pytest.raises(Unavailable):
        service.create(api.tenant_id, request, "op")
    # When the client retries at once with the same token
    created = service.create(api.tenant_id, request, "op")
    # Then it is created (not told that the failed attempt is still in progress), once
    assert created.job.execution_count == 2 and not created.replayed
    assert [j["job_id"] for j in api.get("/customer/jobs").body["jobs"]] == [created.job.job_id]


def test_a_group_job_above_the_full_list_threshold_notifies_only_the_new_job(api: Api) -> None:
    # Given two group members that each have a pending job, and a threshold of one target
    tokens = fleet(api, "big", 2, group_id="bigg")
    create_job(api, target_group_id="bigg")
    publisher = RecordingPublisher()
    service = _service(publisher, full_list_max=1)
    # When a second job targets the group
    job = service.create(api.tenant_id, CreateJob(document_type="update_config", target_group_id="bigg")).job
    # Then each member is told about the new job only, marked as not its complete list
    assert sorted(m.topic for m in publisher.sent) == sorted(
        f"tenant/{api.tenant_id}/device/{d}/jobs/notify" for d in tokens)
    for message in publisher.sent:
        assert message.payload is not None and message.payload["complete"] is False
        assert [e["job_id"] for e in message.payload["jobs"]] == [job.job_id]


def test_the_new_job_is_notified_even_before_the_pending_index_shows_it(api: Api) -> None:
    # Given a device with one pending job, and a newer job whose execution the index does not show yet
    device_id, _ = api.create_device("lag")
    first = create_job(api, target_device_id=device_id)
    now = datetime.now(timezone.utc)
    newer = Job(tenant_id=api.tenant_id, job_id="zz" + first["job_id"][2:],  # sorts after every ULID
                document_type="late", target_type="device", target_id=device_id, status=JobStatus.IN_PROGRESS,
                execution_count=1, counts={}, created_at=now, expires_at=now + timedelta(hours=1))
    publisher = RecordingPublisher()
    notifier = JobNotifier(container().job_repository, container().execution_repository, publisher,
                           NotifyLimits(aws_iot_topics=True))
    # When the devices are notified of it
    assert notifier.notify(newer, [device_id]) == 1
    # Then the new job is merged in after the older one
    [message] = [m for m in publisher.sent if m.topic.startswith("tenant/")]
    assert message.payload is not None and message.payload["complete"] is True
    assert [e["job_id"] for e in message.payload["jobs"]] == [first["job_id"], newer.job_id]
    # And AWS IoT's notify lists both, while notify-next stays quiet: the older job is still next
    aws: dict[str, Any] = {m.topic.rsplit("/", 1)[-1]: m.payload for m in publisher.sent if m.topic.startswith("$aws/")}
    assert set(aws) == {"notify"}
    assert [j["jobId"] for j in aws["notify"]["jobs"]["QUEUED"]] == [first["job_id"], newer.job_id]


def test_listing_is_newest_first_filters_by_status_and_paginates(api: Api) -> None:
    device_id, token = api.create_device("l")
    ids = [create_job(api, target_device_id=device_id)["job_id"] for _ in range(4)]
    api.device_call("PUT", f"/device/v1/jobs/{ids[1]}/execution", token, {"status": "SUCCEEDED"})
    api.delete(f"/customer/jobs/{ids[2]}")
    seen, cursor = [], None
    while True:
        page = api.get("/customer/jobs?limit=3" + (f"&next_token={cursor}" if cursor else "")).body
        seen += [j["job_id"] for j in page["jobs"]]
        if not (cursor := page["next_token"]):
            break
    assert seen == list(reversed(ids))
    by_status = {s: [j["job_id"] for j in api.get(f"/customer/jobs?status={s}").body["jobs"]]
                 for s in ("IN_PROGRESS", "COMPLETED", "CANCELED")}
    assert by_status == {"IN_PROGRESS": [ids[3], ids[0]], "COMPLETED": [ids[1]], "CANCELED": [ids[2]]}
    assert api.get("/customer/jobs?status=DONE").status == 400
    assert api.get("/customer/jobs/not%20an%20id").status == 404
