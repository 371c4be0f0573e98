"""AWS IoT jobs over `$aws/things/{thing}/jobs/...`, on the project's executions and state machine.

Every request goes through ExecutionService (the code the HTTP routes and the project's
own MQTT topics use); this module only translates requests, answers and events.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import ValidationError

from chalicelib.aws_iot import jobs_schemas as aws
from chalicelib.aws_iot.ports import ExecutionLookup, JobExecutions
from chalicelib.aws_iot.shadow_schemas import client_token
from chalicelib.aws_iot.topics import JOBS_ROUTE, NEXT_JOB, is_job_id, jobs_prefix, thing_name
from chalicelib.core.clock import Clock, utcnow
from chalicelib.core.errors import Conflict, DomainError, NotFound, Unavailable
from chalicelib.core.messaging.base import Message, Publisher
from chalicelib.core.observability.log import logger
from chalicelib.jobs.rules import FINAL
from chalicelib.jobs.schemas import Execution, ExecutionStatus, PendingJob, UpdateExecution

Document = dict[str, Any]


class JobsRejected(Exception):
    """A request AWS IoT would answer on `/rejected`."""

    def __init__(self, code: str, message: str, state: Document | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.state = state


class AwsJobsService:
    """Answers a device's jobs requests and publishes `jobs/notify` and `jobs/notify-next`."""

    def __init__(self, executions: JobExecutions, repository: ExecutionLookup, publisher: Publisher,
                 clock: Clock = utcnow) -> None:
        self._executions = executions
        self._repository = repository
        self._publisher = publisher
        self._clock = clock

    # MQTT (device-message router)

    def on_message(self, tenant_id: str, device_id: str, route: str, body: Document) -> Document:
        """Router handler for `$aws/jobs/...`: answer on `/accepted` or `/rejected`."""
        operation = route[len(JOBS_ROUTE) + 1:]
        token = client_token(body)  # only a token AWS would accept is echoed (at most 64 bytes)
        try:
            payload = self._dispatch(tenant_id, device_id, operation, body)
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(p) for p in first.get("loc", ()))
            return self._rejected(tenant_id, device_id, operation, "InvalidRequest", f"{field}: {first['msg']}", token)
        except JobsRejected as exc:
            return self._rejected(tenant_id, device_id, operation, exc.code, exc.message, token, exc.state)
        except Unavailable:
            raise  # the bridge redelivers it
        except DomainError as exc:
            rejected = _rejection(exc)
            return self._rejected(tenant_id, device_id, operation, rejected.code, rejected.message, token,
                                  rejected.state)
        self._publish(tenant_id, device_id, f"{operation}/accepted", payload)
        return payload

    def reject(self, tenant_id: str, device_id: str, route: str, status: int, message: str) -> None:
        """Router rejecter: a request that is not JSON (or too large) is answered too."""
        # Not JSON, or JSON with NaN/Infinity (which is not JSON either); anything else is a bad request.
        code = "InvalidJson" if message == "payload is not JSON" or message.startswith("invalid payload") \
            else "InvalidRequest"
        self._rejected(tenant_id, device_id, route[len(JOBS_ROUTE) + 1:], code, message, None)

    def _dispatch(self, tenant_id: str, device_id: str, operation: str, body: Document) -> Document:
        thing = thing_name(tenant_id, device_id)
        now = aws.epoch(self._clock()) or 0
        if operation == "get":
            token = aws.DescribeRequest.model_validate(body).clientToken
            records = self._records(tenant_id, device_id, self._executions.pending(tenant_id, device_id))
            return _with_token({
                "inProgressJobs": [aws.summary(e) for e in records if e.status is ExecutionStatus.IN_PROGRESS],
                "queuedJobs": [aws.summary(e) for e in records if e.status is ExecutionStatus.QUEUED],
                "timestamp": now}, token)
        if operation == "start-next":
            start = aws.StartNextRequest.model_validate(body)
            return _with_token(self._start_next(tenant_id, device_id, thing, start, now), start.clientToken)
        job_id, verb = operation.split("/")
        _check_job_topic(job_id, verb)
        if verb == "get":
            describe = aws.DescribeRequest.model_validate(body)
            return _with_token(self._describe(tenant_id, device_id, thing, job_id, describe, now),
                               describe.clientToken)
        update = aws.UpdateRequest.model_validate(body)
        return _with_token(self._update(tenant_id, device_id, job_id, update, now), update.clientToken)

    # Operations

    def _describe(self, tenant_id: str, device_id: str, thing: str, job_id: str, request: aws.DescribeRequest,
                  now: int) -> Document:
        if job_id == NEXT_JOB:
            nxt = aws.next_pending(self._executions.pending(tenant_id, device_id))
            if nxt is None:
                return {"timestamp": now}
            job_id = nxt.job_id
        found = self._executions.describe(tenant_id, device_id, job_id)
        execution = Execution.model_validate(found)
        if request.executionNumber is not None and request.executionNumber != execution.execution_number:
            raise JobsRejected("ResourceNotFound", f"job {job_id} has no execution number {request.executionNumber}")
        document = found["document"] if request.includeJobDocument else None
        return {"execution": aws.execution_data(thing, execution, document), "timestamp": now}

    def _start_next(self, tenant_id: str, device_id: str, thing: str, request: aws.StartNextRequest,
                    now: int) -> Document:
        nxt = aws.next_pending(self._executions.pending(tenant_id, device_id))
        if nxt is None:
            return {"timestamp": now}
        if nxt.status is ExecutionStatus.QUEUED:
            # The same transition, checks and events as a device moving it over HTTP.
            self._executions.update(tenant_id, device_id, nxt.job_id, UpdateExecution(
                status=ExecutionStatus.IN_PROGRESS, status_details=request.statusDetails,
                step_timeout_minutes=request.stepTimeoutInMinutes))
        found = self._executions.describe(tenant_id, device_id, nxt.job_id)
        execution = Execution.model_validate(found)
        return {"execution": aws.execution_data(thing, execution, found["document"]), "timestamp": now}

    def _update(self, tenant_id: str, device_id: str, job_id: str, request: aws.UpdateRequest, now: int) -> Document:
        if request.executionNumber is not None:
            current = self._repository.find(tenant_id, job_id, device_id)
            if current is None or current.execution_number != request.executionNumber:
                raise JobsRejected("ResourceNotFound", f"job {job_id} has no execution number "
                                                       f"{request.executionNumber}")
        updated = self._executions.update(tenant_id, device_id, job_id, UpdateExecution(
            status=request.status, status_details=request.statusDetails, expected_version=request.expectedVersion,
            step_timeout_minutes=request.stepTimeoutInMinutes))
        payload: Document = {"timestamp": now}
        if request.includeJobExecutionState:
            payload["executionState"] = aws.execution_state(updated)
        if request.includeJobDocument:
            payload["jobDocument"] = self._executions.describe(tenant_id, device_id, job_id)["document"]
        return payload

    # Events

    def execution_updated(self, tenant_id: str, device_id: str, before: Execution, after: Execution) -> None:
        """After any device update (HTTP, project MQTT, AWS MQTT): notify and notify-next when they change.

        An open execution keeping its status changes neither (the same pending list, the same next
        job): that update reads nothing here."""
        if after.status is before.status and after.status not in FINAL:
            return
        pending = self._executions.pending(tenant_id, device_id, exclude=after.job_id)
        entry = PendingJob(job_id=after.job_id, document={}, status=after.status,
                           execution_number=after.execution_number, version_number=after.version_number,
                           queued_at=after.queued_at)
        old = sorted([*pending, entry.model_copy(update={"status": before.status})], key=lambda p: p.job_id)
        new = sorted([*pending, *([] if after.status in FINAL else [entry])], key=lambda p: p.job_id)
        messages: list[Message] = []
        now = aws.epoch(self._clock()) or 0
        if after.status in FINAL:
            messages.append(self._message(tenant_id, device_id, "notify",
                                          aws.notify_event(self._records(tenant_id, device_id, new), now)))
        old_next, new_next = aws.next_pending(old), aws.next_pending(new)
        if (old_next and old_next.job_id) != (new_next and new_next.job_id):
            messages.append(self._next_message(tenant_id, device_id, new_next, after, now))
        if messages:
            self._publisher.publish_many(messages)

    def _next_message(self, tenant_id: str, device_id: str, nxt: PendingJob | None, changed: Execution,
                      now: int) -> Message:
        thing = thing_name(tenant_id, device_id)
        if nxt is None:
            return self._message(tenant_id, device_id, "notify-next", aws.notify_next_event(thing, None, None, now))
        execution = changed if nxt.job_id == changed.job_id else self._records(tenant_id, device_id, [nxt])[0]
        document = self._executions.describe(tenant_id, device_id, nxt.job_id)["document"]
        return self._message(tenant_id, device_id, "notify-next",
                             aws.notify_next_event(thing, execution, document, now))

    # Internals

    def _records(self, tenant_id: str, device_id: str, pending: list[PendingJob]) -> list[Execution]:
        """Full executions of pending entries: queued ones are as queued, started ones are read."""
        records = []
        for entry in pending:
            if entry.status is ExecutionStatus.QUEUED:
                records.append(aws.queued_execution(device_id, entry))
            else:
                found = self._repository.find(tenant_id, entry.job_id, device_id)
                records.append(found or aws.queued_execution(device_id, entry))
        return records

    def _rejected(self, tenant_id: str, device_id: str, operation: str, code: str, message: str,
                  token: str | None, state: Document | None = None) -> Document:
        payload = aws.error(code, message, aws.epoch(self._clock()) or 0, token, state)
        self._publish(tenant_id, device_id, f"{operation}/rejected", payload)
        return {"rejected": code, "message": message}

    def _publish(self, tenant_id: str, device_id: str, suffix: str, payload: Document) -> None:
        if not self._publisher.publish(self._message(tenant_id, device_id, suffix, payload)):
            logger.warning("jobs answer not published", tenant=tenant_id, device=device_id, suffix=suffix,
                           outcome="publish_failed")

    @staticmethod
    def _message(tenant_id: str, device_id: str, suffix: str, payload: Document) -> Message:
        return Message(f"{jobs_prefix(tenant_id, device_id)}/{suffix}", payload, qos=1)


def _rejection(exc: DomainError) -> JobsRejected:
    """AWS's error code for one of our domain errors."""
    execution = exc.extra.get("execution")
    state = aws.execution_state(execution) if isinstance(execution, dict) else None
    if isinstance(exc, NotFound):
        return JobsRejected("ResourceNotFound", exc.message)
    if isinstance(exc, Conflict):
        code = "VersionMismatch" if exc.field == "expected_version" else "InvalidStateTransition"
        return JobsRejected(code, exc.message, state)
    return JobsRejected("InvalidRequest", exc.message)


def _check_job_topic(job_id: str, verb: str) -> None:
    """AWS's answer to a jobs topic with a job id it would never route."""
    if job_id == NEXT_JOB:
        if verb != "get":
            # `$next` names the next pending execution for DescribeJobExecution only.
            raise JobsRejected("InvalidTopic", f"jobs/$next/{verb} maps to no API: $next is only valid with get")
    elif not is_job_id(job_id):
        raise JobsRejected("InvalidRequest", "jobId must be 1 to 64 letters, digits, '_' or '-'")


def _with_token(payload: Document, token: str | None) -> Document:
    return {**payload, "clientToken": token} if token is not None else payload


def created_events(tenant_id: str, device_id: str, pending: list[PendingJob], new_job_id: str,
                   now: datetime) -> list[Message]:
    """`jobs/notify` (and `jobs/notify-next` when the new job is next) for a device's whole pending list."""
    stamp = aws.epoch(now) or 0
    # Executions other than the new one are shown as the index has them (no extra read per device).
    records = [aws.queued_execution(device_id, p).model_copy(update={"status": p.status}) for p in pending]
    prefix = jobs_prefix(tenant_id, device_id)
    messages = [Message(f"{prefix}/notify", aws.notify_event(records, stamp), qos=1)]
    nxt = aws.next_pending(pending)
    if nxt is not None and nxt.job_id == new_job_id:
        event = aws.notify_next_event(thing_name(tenant_id, device_id), aws.queued_execution(device_id, nxt),
                                      nxt.document, stamp)
        messages.append(Message(f"{prefix}/notify-next", event, qos=1))
    return messages
