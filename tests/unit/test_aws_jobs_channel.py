"""The simulator's AWS IoT Jobs channel: AWS's request names, answers matched by client token, no endless round."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from infra.local.behaviours.aws_jobs import AwsJobs
from infra.local.simulator import DeviceIdentity, SimulatedDevice

PREFIX = "$aws/things/t1.board/jobs"
Answer = Callable[[str, dict[str, Any]], tuple[str, dict[str, Any]] | None]


class FakeBoard:
    """A device whose broker answers each request at once with what `answer` says (None: never)."""

    def __init__(self, answer: Answer) -> None:
        self.identity = DeviceIdentity("t1", "board", "", {})
        self.device_id = "board"
        self.answer = answer
        self.handlers: list[tuple[str, Callable[..., None]]] = []
        self.sent: list[tuple[str, dict[str, Any]]] = []

    def on_topic(self, topic: str, handler: Callable[..., None]) -> None:
        self.handlers.append((topic, handler))

    def publish_to(self, topic: str, payload: dict[str, Any], qos: int = 1) -> None:
        self.sent.append((topic, payload))
        answered = self.answer(topic, payload)
        if answered is None:
            return
        outcome, body = answered
        handler = next(h for f, h in self.handlers if f.endswith("/+/" + topic.rsplit("/", 1)[-1] + "/+"))
        handler(self, f"{topic}/{outcome}", {**body, "clientToken": payload["clientToken"]})


def channel(answer: Answer, timeout_s: float = 1.0) -> tuple[AwsJobs, FakeBoard]:
    board = FakeBoard(answer)
    return AwsJobs(cast(SimulatedDevice, board), timeout_s), board


def test_an_update_is_sent_with_aws_names_and_answers_the_new_version() -> None:
    jobs, board = channel(lambda t, p: ("accepted", {"executionState": {"versionNumber": 3}}))
    version = jobs.update("job-1", {"status": "IN_PROGRESS", "expected_version": 2,
                                    "status_details": {"step": "download"}, "step_timeout_minutes": 5})
    assert version == 3
    topic, sent = board.sent[0]
    assert topic == f"{PREFIX}/job-1/update"
    assert {k: v for k, v in sent.items() if k != "clientToken"} == {
        "status": "IN_PROGRESS", "expectedVersion": 2, "statusDetails": {"step": "download"},
        "stepTimeoutInMinutes": 5, "includeJobExecutionState": True}


def test_a_rejected_or_unanswered_update_is_none() -> None:
    rejected, _ = channel(lambda t, p: ("rejected", {"code": "VersionMismatch"}))
    assert rejected.update("job-1", {"status": "SUCCEEDED"}) is None
    silent, _ = channel(lambda t, p: None, timeout_s=0.05)
    assert silent.update("job-1", {"status": "SUCCEEDED"}) is None


def test_an_answer_for_another_request_is_not_taken_for_this_one() -> None:
    jobs, board = channel(lambda t, p: None, timeout_s=0.05)
    handler = board.handlers[1][1]
    handler(board, f"{PREFIX}/job-1/update/accepted", {"clientToken": "someone-else",
                                                       "executionState": {"versionNumber": 9}})
    assert jobs.update("job-1", {"status": "SUCCEEDED"}) is None


def test_pending_asks_next_again_after_each_job_and_stops_at_one_it_saw_already() -> None:
    # The next execution never moves (as when the runner could not update it): the round ends, not spins
    execution = {"jobId": "job-1", "status": "QUEUED", "versionNumber": 1, "jobDocument": {"type": "reboot"}}
    jobs, board = channel(lambda t, p: ("accepted", {"execution": execution}))
    found = list(jobs.pending())
    assert [(p.job_id, p.status, p.version_number, p.document) for p in found] == [
        ("job-1", "QUEUED", 1, {"type": "reboot"})]
    assert [t for t, _ in board.sent] == [f"{PREFIX}/$next/get"] * 2
    assert board.sent[0][1]["includeJobDocument"] is True


def test_pending_is_empty_when_nothing_is_next() -> None:
    jobs, _ = channel(lambda t, p: ("accepted", {"timestamp": 1}))
    assert list(jobs.pending()) == []
