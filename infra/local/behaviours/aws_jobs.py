"""A simulated device's job executions over AWS IoT Jobs' reserved topics, as the AWS IoT Device SDK uses them.

For a device that has only a certificate (a board enrolled by claim) there is no HTTPS
token: it takes its jobs the way a device written for AWS IoT Core does, on
`$aws/things/{thing}/jobs/...` (served by the broker, the bridge and the device-message
function). It listens on `notify-next`, asks `$next/get` (with the job document, its
firmware URL made for this device at that moment), and moves the execution with
`{jobId}/update`, waiting for each request's `/accepted` or `/rejected` answer by its
`clientToken`.
"""
from __future__ import annotations

import logging
import queue
import threading
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from chalicelib.aws_iot.topics import jobs_prefix
from infra.local.behaviours.job_channels import Pending

if TYPE_CHECKING:
    from infra.local.simulator import MessageHandler, SimulatedDevice

log = logging.getLogger(__name__)

# The project's update body -> AWS's UpdateJobExecution request.
_AWS_NAMES = {"status": "status", "status_details": "statusDetails", "expected_version": "expectedVersion",
              "step_timeout_minutes": "stepTimeoutInMinutes"}


class AwsJobs:
    """`$next/get` and `{jobId}/update` requests, each answered on its own topic and matched by client token."""

    def __init__(self, device: SimulatedDevice, timeout_s: float = 10.0) -> None:
        self.device = device
        self.prefix = jobs_prefix(device.identity.tenant_id, device.device_id)
        self._timeout_s = timeout_s
        self._lock = threading.Lock()
        self._waiting: dict[str, queue.Queue[tuple[str, dict[str, Any]]]] = {}
        # `+` matches `$next` below the first level: one filter answers `$next/get` and `{jobId}/get`.
        device.on_topic(f"{self.prefix}/+/get/+", self._answered)
        device.on_topic(f"{self.prefix}/+/update/+", self._answered)

    def subscribe(self, on_notified: MessageHandler) -> None:
        self.device.on_topic(f"{self.prefix}/notify-next", on_notified)

    def pending(self) -> Iterator[Pending]:
        """The next execution, asked again after each one; an execution seen already ends the round."""
        seen: set[str] = set()
        while (answer := self._ask("$next/get", {"includeJobDocument": True})) is not None:
            execution = answer.get("execution")
            if not isinstance(execution, dict) or execution.get("jobId") in seen:
                return  # nothing pending, or one the runner could not move (it is tried on the next wake)
            seen.add(str(execution["jobId"]))
            yield Pending(str(execution["jobId"]), str(execution["status"]), int(execution["versionNumber"]),
                          execution.get("jobDocument") or {})

    def update(self, job_id: str, body: dict[str, Any]) -> int | None:
        request = {_AWS_NAMES[k]: v for k, v in body.items() if v is not None}
        answer = self._ask(f"{job_id}/update", {**request, "includeJobExecutionState": True})
        return None if answer is None else int(answer["executionState"]["versionNumber"])

    def finish(self, job_id: str, body: dict[str, Any]) -> None:
        if self.update(job_id, body) is None:
            log.warning("%s: job %s result refused", self.device.device_id, job_id)

    def _ask(self, operation: str, body: dict[str, Any]) -> dict[str, Any] | None:
        """Publish one request and wait for its answer; None when rejected or unanswered (both logged)."""
        token = uuid.uuid4().hex
        answers: queue.Queue[tuple[str, dict[str, Any]]] = queue.Queue()
        with self._lock:
            self._waiting[token] = answers
        try:
            self.device.publish_to(f"{self.prefix}/{operation}", {**body, "clientToken": token})
            outcome, answer = answers.get(timeout=self._timeout_s)
        except queue.Empty:
            log.warning("%s: no answer to jobs/%s within %.0fs", self.device.device_id, operation, self._timeout_s)
            return None
        finally:
            with self._lock:
                self._waiting.pop(token, None)
        if outcome != "accepted":
            log.warning("%s: jobs/%s rejected: %s %s", self.device.device_id, operation, answer.get("code"),
                        answer.get("message"))
            return None
        return answer

    def _answered(self, device: SimulatedDevice, topic: str, payload: dict[str, Any]) -> None:
        with self._lock:
            waiting = self._waiting.get(str(payload.get("clientToken")))
        if waiting is not None:
            waiting.put((topic.rsplit("/", 1)[-1], payload))
