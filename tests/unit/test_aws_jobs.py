"""AWS IoT jobs payloads and the notify-next rule, over the project's execution records."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.aws_iot import jobs_schemas as aws
from chalicelib.aws_iot.jobs import AwsJobsService, _rejection, created_events
from chalicelib.core.errors import Conflict
from chalicelib.core.messaging.base import RecordingPublisher
from chalicelib.jobs.schemas import Execution, ExecutionStatus, PendingJob, UpdateExecution

T0 = datetime(2030, 1, 1, tzinfo=UTC)
Q, P, S = ExecutionStatus.QUEUED, ExecutionStatus.IN_PROGRESS, ExecutionStatus.SUCCEEDED


def _pending(job_id: str, status: ExecutionStatus = Q, minutes: int = 0) -> PendingJob:
    return PendingJob(job_id=job_id, document={"type": "reboot", "params": {}}, status=status, execution_number=1,
                      version_number=1, queued_at=T0 + timedelta(minutes=minutes))


def _execution(job_id: str, status: ExecutionStatus, version: int = 1) -> Execution:
    return Execution(job_id=job_id, device_id="d1", status=status, version_number=version, queued_at=T0,
                     started_at=T0 if status is not Q else None, updated_at=T0 + timedelta(seconds=30))


class FakeExecutions:
    """The two ExecutionService reads the events need."""

    def __init__(self, pending: list[PendingJob]) -> None:
        self._pending = pending
        self.reads = 0

    def pending(self, tenant_id: str, device_id: str, exclude: str | None = None) -> list[PendingJob]:
        self.reads += 1
        return [p for p in self._pending if p.job_id != exclude]

    def describe(self, tenant_id: str, device_id: str, job_id: str) -> dict[str, Any]:
        return {"document": {"type": "reboot", "params": {"job": job_id}}}

    def update(self, tenant_id: str, device_id: str, job_id: str, request: UpdateExecution) -> Execution:
        return _execution(job_id, request.status, 2)


class FakeRepository:
    def find(self, tenant_id: str, job_id: str, device_id: str) -> Execution | None:
        return _execution(job_id, P, 2)


def _service(pending: list[PendingJob]) -> tuple[AwsJobsService, RecordingPublisher]:
    publisher = RecordingPublisher()
    return AwsJobsService(FakeExecutions(pending), FakeRepository(), publisher, clock=lambda: T0), publisher


def test_next_is_the_oldest_in_progress_then_the_oldest_queued() -> None:
    in_progress_first = aws.next_pending([_pending("a"), _pending("b", P)])
    oldest_queued = aws.next_pending([_pending("a"), _pending("b")])
    assert in_progress_first is not None and in_progress_first.job_id == "b"
    assert oldest_queued is not None and oldest_queued.job_id == "a"
    assert aws.next_pending([]) is None


def test_execution_data_uses_epoch_seconds_and_aws_names() -> None:
    data = aws.execution_data("t1.d1", _execution("j1", P, 2), {"type": "x"})
    assert data == {"jobId": "j1", "thingName": "t1.d1", "jobDocument": {"type": "x"}, "status": "IN_PROGRESS",
                    "statusDetails": {}, "queuedAt": 1893456000, "startedAt": 1893456000,
                    "lastUpdatedAt": 1893456030, "versionNumber": 2, "executionNumber": 1}


def test_finishing_the_next_job_announces_the_following_one() -> None:
    # Given j1 in progress and j2 queued behind it
    service, publisher = _service([_pending("j2", minutes=1)])
    # When j1 succeeds
    service.execution_updated("t1", "d1", _execution("j1", P, 2), _execution("j1", S, 3))
    # Then notify lists only j2, and notify-next carries j2 with its document
    topics: dict[str, Any] = {m.topic.rsplit("/", 1)[-1]: m.payload for m in publisher.sent}
    assert [j["jobId"] for j in topics["notify"]["jobs"]["QUEUED"]] == ["j2"]
    assert topics["notify-next"]["execution"]["jobId"] == "j2"
    assert topics["notify-next"]["execution"]["jobDocument"] == {"type": "reboot", "params": {"job": "j2"}}


def test_starting_the_next_job_changes_nothing_next() -> None:
    service, publisher = _service([_pending("j1", P), _pending("j2", minutes=1)])
    service.execution_updated("t1", "d1", _execution("j1", Q), _execution("j1", P, 2))
    assert publisher.sent == []


def test_a_step_of_an_open_execution_reads_no_pending_list_and_announces_nothing() -> None:
    # Given j1 in progress and j2 queued after it
    executions = FakeExecutions([_pending("j2", minutes=1)])
    publisher = RecordingPublisher()
    service = AwsJobsService(executions, FakeRepository(), publisher, clock=lambda: T0)
    # When j1 reports a step (IN_PROGRESS to IN_PROGRESS)
    service.execution_updated("t1", "d1", _execution("j1", P, 2), _execution("j1", P, 3))
    # Then the step read nothing and sent nothing: the pending list and the next job are as they were
    assert (executions.reads, publisher.sent) == (0, [])
    # And a start, which may change the next job, still reads the list
    service.execution_updated("t1", "d1", _execution("j2", Q), _execution("j2", P, 2))
    assert executions.reads == 1


def test_finishing_the_last_job_says_nothing_is_next() -> None:
    service, publisher = _service([])
    service.execution_updated("t1", "d1", _execution("j1", P, 2), _execution("j1", S, 3))
    assert [m.payload for m in publisher.sent if m.topic.endswith("notify-next")] == [{"timestamp": 1893456000}]


def test_a_new_job_is_announced_as_next_only_when_nothing_precedes_it() -> None:
    alone = created_events("t1", "d1", [_pending("j1")], "j1", T0)
    assert [m.topic for m in alone] == ["$aws/things/t1.d1/jobs/notify", "$aws/things/t1.d1/jobs/notify-next"]
    behind = created_events("t1", "d1", [_pending("j0", P), _pending("j1")], "j1", T0)
    assert [m.topic for m in behind] == ["$aws/things/t1.d1/jobs/notify"]
    assert behind[0].payload == {"timestamp": 1893456000, "jobs": {
        "QUEUED": [{"jobId": "j1", "queuedAt": 1893456000, "lastUpdatedAt": 1893456000, "versionNumber": 1,
                    "executionNumber": 1}],
        "IN_PROGRESS": [{"jobId": "j0", "queuedAt": 1893456000, "lastUpdatedAt": 1893456000, "versionNumber": 1,
                         "executionNumber": 1}]}}


def test_conflicts_map_to_aws_error_codes_with_the_execution_state() -> None:
    current = _execution("j1", P, 2).model_dump(mode="json")
    stale = _rejection(Conflict("expected 1", field="expected_version", execution=current))
    assert (stale.code, stale.state) == ("VersionMismatch", {"status": "IN_PROGRESS", "statusDetails": {},
                                                             "versionNumber": 2})
    assert _rejection(Conflict("cannot move", field="status", execution=current)).code == "InvalidStateTransition"


def test_invalid_requests_are_rejected_with_the_field() -> None:
    service, publisher = _service([])
    service.on_message("t1", "d1", "$aws/jobs/j1/update", {"status": "DONE", "clientToken": "c"})
    rejected = publisher.sent[-1]
    assert rejected.topic == "$aws/things/t1.d1/jobs/j1/update/rejected"
    assert rejected.payload is not None and rejected.payload["code"] == "InvalidRequest"
    assert rejected.payload["clientToken"] == "c" and rejected.payload["message"].startswith("status")
    service.reject("t1", "d1", "$aws/jobs/start-next", 400, "payload is not JSON")
    last = publisher.sent[-1].payload
    assert last is not None and last["code"] == "InvalidJson"


def test_an_oversized_or_non_ascii_client_token_is_never_echoed() -> None:
    # Given a request whose clientToken is far beyond AWS's 64 bytes (or 64 characters of 2 bytes)
    for token in ("y" * 60000, "é" * 40):
        service, publisher = _service([])
        # When it is rejected
        service.on_message("t1", "d1", "$aws/jobs/j1/update", {"status": "DONE", "clientToken": token})
        # Then the answer does not carry it back
        [rejected] = publisher.sent
        assert rejected.payload is not None and "clientToken" not in rejected.payload


def test_next_with_update_is_an_invalid_topic_and_a_malformed_job_id_an_invalid_request() -> None:
    service, publisher = _service([_pending("j1")])
    # When a device updates `$next` (only DescribeJobExecution takes it) and describes a 65-character id
    service.on_message("t1", "d1", "$aws/jobs/$next/update", {"status": "IN_PROGRESS", "clientToken": "c"})
    service.on_message("t1", "d1", f"$aws/jobs/{'j' * 65}/get", {})
    # Then both are answered on their own /rejected topics with AWS's codes, the token echoed
    [next_update, long_id] = publisher.sent
    assert next_update.topic == "$aws/things/t1.d1/jobs/$next/update/rejected"
    assert next_update.payload is not None and next_update.payload["code"] == "InvalidTopic"
    assert next_update.payload["clientToken"] == "c"
    assert long_id.topic == f"$aws/things/t1.d1/jobs/{'j' * 65}/get/rejected"
    assert long_id.payload is not None and long_id.payload["code"] == "InvalidRequest"
