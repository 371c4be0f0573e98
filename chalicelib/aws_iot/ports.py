"""What the AWS IoT compatibility services need from the twin and job features and from storage."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from chalicelib.aws_iot.shadow_schemas import ShadowDoc
from chalicelib.jobs.schemas import Execution, PendingJob, UpdateExecution
from chalicelib.twin.schemas import Twin


class TwinDocuments(Protocol):
    """The classic shadow: the twin read and written as one document."""

    def get(self, tenant_id: str, device_id: str) -> Twin:
        """The device's twin (404 for a missing or foreign device)."""
        ...

    def write_document(self, read: Twin, written: Twin, now: datetime) -> bool:
        """Store both documents; False when anything changed since `read`."""
        ...


class NamedShadows(Protocol):
    """Named shadows, each written on the condition that it did not change since the read."""

    def get(self, tenant_id: str, device_id: str, name: str) -> ShadowDoc | None:
        """The shadow, or None if absent."""
        ...

    def names(self, tenant_id: str, device_id: str, limit: int = 100) -> list[str]:
        """Names of the device's named shadows, in name order."""
        ...

    def put(self, tenant_id: str, device_id: str, name: str, read: ShadowDoc | None, doc: ShadowDoc) -> bool:
        """Store `doc`; False when the shadow changed (or appeared) since `read`."""
        ...

    def delete(self, tenant_id: str, device_id: str, name: str, read: ShadowDoc) -> bool:
        """Delete the shadow; False when it changed since `read`."""
        ...


class JobExecutions(Protocol):
    """A device's side of jobs: what is pending, one execution, a status change."""

    def pending(self, tenant_id: str, device_id: str, exclude: str | None = None) -> list[PendingJob]:
        """QUEUED and IN_PROGRESS executions of the device, oldest first (without the job `exclude`)."""
        ...

    def describe(self, tenant_id: str, device_id: str, job_id: str) -> dict[str, Any]:
        """The device's execution of a job, with the job document."""
        ...

    def update(self, tenant_id: str, device_id: str, job_id: str, request: UpdateExecution) -> Execution:
        """Apply a device's status change (409 with the current execution when not allowed)."""
        ...


class ExecutionLookup(Protocol):
    """One execution read consistently."""

    def find(self, tenant_id: str, job_id: str, device_id: str) -> Execution | None:
        """The execution, or None."""
        ...
