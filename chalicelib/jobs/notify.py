"""The `jobs/notify` message of a new job: each target's pending list, or only the new job."""
from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import islice
from typing import Any

from chalicelib.aws_iot.jobs import created_events
from chalicelib.core.clock import Clock, utcnow
from chalicelib.core.delivery import DocumentResolver, NoReferences
from chalicelib.core.messaging.base import Message, Publisher
from chalicelib.core.observability.log import logger
from chalicelib.core.topics import device_topic
from chalicelib.jobs.execution_store import ExecutionRepository, PendingEntry
from chalicelib.jobs.executions import pending_jobs
from chalicelib.jobs.schemas import ExecutionStatus, Job, PendingJob, document
from chalicelib.jobs.store import JobRepository

NOTIFY_CHUNK = 1000
# AWS IoT Core refuses larger messages; a list that would not fit goes out as the new job only.
NOTIFY_MAX_BYTES = 128 * 1024


@dataclass(frozen=True)
class NotifyLimits:
    """How much reading a notification may cost."""

    full_list_max: int = 100
    pending_limit: int = 100
    workers: int = 4
    aws_iot_topics: bool = False


class JobNotifier:
    """Sends `{"jobs": [...], "complete": bool}` to every target of a new job.

    `complete` is true when `jobs` is the device's whole pending list, the same entries as
    GET /device/v1/jobs/pending, oldest first; false when it holds only the new job, which
    the device treats as a delta (or fetches the list over HTTP).
    """

    def __init__(self, jobs: JobRepository, executions: ExecutionRepository, publisher: Publisher,
                 limits: NotifyLimits, clock: Clock = utcnow, references: DocumentResolver | None = None) -> None:
        self._jobs = jobs
        self._references = references or NoReferences()
        self._executions = executions
        self._publisher = publisher
        self._limits = limits
        self._clock = clock

    def notify(self, job: Job, device_ids: list[str]) -> int:
        """Publish one notification per device; returns how many the broker accepted."""
        stored = document(job)
        new = PendingJob(job_id=job.job_id, document=stored, status=ExecutionStatus.QUEUED,
                         execution_number=1, version_number=1, queued_at=job.created_at)
        entry = new.model_dump(mode="json")
        delta = {"jobs": [entry], "complete": False}
        full = self._full_lists(job, device_ids, new) if len(device_ids) <= self._limits.full_list_max else {}
        sent = 0
        it: Iterator[str] = iter(device_ids)
        while chunk := list(islice(it, NOTIFY_CHUNK)):
            # Each device's own copy of the document (its presigned URLs), made now; the stored one is shared.
            docs = self._references.resolve(job.tenant_id, stored, chunk)
            deltas = [delta if doc is stored else {"jobs": [{**entry, "document": doc}], "complete": False}
                      for doc in docs]
            messages = [Message(device_topic(job.tenant_id, d, "jobs/notify"), full.get(d, own))
                        for d, own in zip(chunk, deltas, strict=True)]
            # Devices on AWS IoT's topics: only where the whole pending list is known (AWS's
            # notify carries the whole list); the others find the job with `jobs/get` or start-next.
            aws = [m for d in chunk if d in full and self._limits.aws_iot_topics for m in created_events(
                job.tenant_id, d, [PendingJob.model_validate(j) for j in full[d]["jobs"]], job.job_id, self._clock())]
            sent += sum(self._publisher.publish_many(messages + aws)[:len(messages)])
        return sent

    def _full_lists(self, job: Job, device_ids: list[str], new: PendingJob) -> dict[str, dict[str, Any]]:
        """Payloads of the devices whose whole pending list could be read and fits in a message."""
        try:
            entries = self._read(job.tenant_id, device_ids)
            others = {e.job_id for found in entries.values() for e in found} - {job.job_id}
            states = self._jobs.batch_get(job.tenant_id, sorted(others))
        except Exception:  # the job exists already: notify with the delta rather than fail the create
            logger.warning("pending lists unreadable, notifying the new job only", tenant=job.tenant_id,
                           job_id=job.job_id, outcome="degraded", exc_info=True)
            return {}
        now = self._clock()
        payloads: dict[str, dict[str, Any]] = {}
        for device_id, found in entries.items():
            if len(found) >= self._limits.pending_limit:  # the index has more than one page
                continue
            # The index is eventually consistent: the new job may be missing, or there already.
            pending = pending_jobs([e for e in found if e.job_id != job.job_id], states, now)
            merged = [self._delivered(job.tenant_id, device_id, p)
                      for p in sorted([*pending, new], key=lambda p: p.job_id)]
            payload = {"jobs": [p.model_dump(mode="json") for p in merged], "complete": True}
            if len(Message(device_id, payload).encoded()) <= NOTIFY_MAX_BYTES:
                payloads[device_id] = payload
        return payloads

    def _delivered(self, tenant_id: str, device_id: str, pending: PendingJob) -> PendingJob:
        """A pending entry with its document as this device receives it (references resolved now)."""
        doc = self._references.resolve(tenant_id, pending.document, [device_id])[0]
        return pending if doc is pending.document else pending.model_copy(update={"document": doc})

    def _read(self, tenant_id: str, device_ids: list[str]) -> dict[str, list[PendingEntry]]:
        """Each device's open executions: one Query per device, `workers` in flight."""
        limit = self._limits.pending_limit

        def pending(device_id: str) -> list[PendingEntry]:
            return self._executions.pending(tenant_id, device_id, limit)

        workers = min(self._limits.workers, len(device_ids))
        if workers <= 1:
            return {d: pending(d) for d in device_ids}
        with ThreadPoolExecutor(workers, thread_name_prefix="job-notify") as pool:
            return dict(zip(device_ids, pool.map(pending, device_ids), strict=True))
