"""Response shapes of the routes that answer a composition of records (for the document only).

Views build these bodies as dicts around the records of `chalicelib/schemas`; the models
here describe them so that every response in the OpenAPI document has a real schema.
They allow extra keys, like the records: a new field is not a breaking change.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.certificates.schemas import Certificate, ClaimCertificate
from chalicelib.commands.batches.schemas import CommandBatch
from chalicelib.commands.schemas import PendingCommand
from chalicelib.devices.schemas import Device, Group
from chalicelib.firmware.schemas import Firmware
from chalicelib.jobs.schemas import Execution, Job, PendingJob
from chalicelib.overview.schemas import SettledCommand
from chalicelib.provisioning.schemas import Template
from chalicelib.sites.schemas import Site


class Body(BaseModel):
    """Base of the documented bodies: unknown keys are allowed."""

    model_config = ConfigDict(extra="allow")


class ErrorBody(Body):
    """Every non-2xx answer: a machine code, a safe message, the field at fault when known."""

    error: str = Field(description="machine-readable code, e.g. invalid_input, not_found, conflict")
    message: str = Field(description="what went wrong, for humans; never contains a credential")
    field: str | None = Field(default=None, description="the body field, query parameter or header at fault")


class CreatedDevice(Device):
    """A new device with its provision token (shown this once)."""

    provision_token: str


class DevicePage(Body):
    devices: list[Device]
    next_token: str | None


class DeviceDeleted(Body):
    device_id: str
    deleted: Literal[True]


class TokenRotated(Body):
    device_id: str
    provision_token: str


class GroupPage(Body):
    groups: list[Group]
    next_token: str | None


class GroupWithMembers(Group):
    """A group and a page of its member ids."""

    members: list[str]
    next_token: str | None


class GroupDeleted(Body):
    group_id: str
    deleted: Literal[True]
    members_removed: int


class MemberAdded(Body):
    group_id: str
    device_id: str
    added: bool


class MemberRemoved(Body):
    group_id: str
    device_id: str
    removed: Literal[True]


class PendingCommands(Body):
    commands: list[PendingCommand]


class AckAnswer(Body):
    command_id: str
    acknowledged: bool


class TwinView(Body):
    device_id: str
    desired: dict[str, Any]
    reported: dict[str, Any]
    delta: dict[str, Any]
    desired_version: int
    reported_version: int
    sync_status: Literal["synced", "pending", "stale"]
    shadow_updated_at: datetime | None
    last_seen_at: datetime | None
    metadata: dict[str, Any]


class TwinPatched(TwinView):
    published: bool


class TwinDelta(Body):
    delta: dict[str, Any]
    in_sync: bool
    desired_version: int
    reported_version: int


class Shadow(Body):
    desired: dict[str, Any]
    version: int


class ReportAccepted(Body):
    accepted: bool
    version: int


class Heartbeat(Body):
    device_id: str
    last_seen_at: datetime | None


class SettledCommandPage(Body):
    commands: list[SettledCommand]
    next_token: str | None


class JobPage(Body):
    jobs: list[Job]
    next_token: str | None


class JobWithExecutions(Job):
    """A job with its per-status counts and a page of its executions."""

    executions: list[Execution]
    next_token: str | None


class PendingJobs(Body):
    jobs: list[PendingJob]


class ExecutionWithDocument(Execution):
    document: dict[str, Any]


class SitePage(Body):
    sites: list[Site]
    next_token: str | None


class SiteUpdated(Site):
    schedule_changed: bool
    devices_notified: int
    devices_updated: int
    fanout_complete: bool


class SiteDeleted(Body):
    site_id: str
    deleted: Literal[True]


class DeviceMapped(Device):
    changed: bool
    welcome_command_id: str | None


class Health(Body):
    status: Literal["ok", "degraded"]
    version: str
    uptime_s: float
    database: dict[str, Any]
    broker: dict[str, Any]


class HealthDetails(Health):
    command_queue: dict[str, Any]


class BatchPage(Body):
    batches: list[CommandBatch]
    next_token: str | None


class FirmwarePage(Body):
    firmware: list[Firmware]
    next_token: str | None


class FirmwareDeleted(Body):
    firmware_id: str
    deleted: Literal[True]


class TemplatePage(Body):
    templates: list[Template]
    next_token: str | None


class TemplateDeleted(Body):
    template_name: str
    deleted: bool
class CertificateCreated(Certificate):
    """A new certificate; `private_key_pem` is given here only, and only when the server made the key pair."""

    private_key_pem: str | None


class CertificatePage(Body):
    certificates: list[Certificate]
    next_token: str | None


class CertificateDeleted(Body):
    certificate_id: str
    deleted: Literal[True]


class ClaimCertificateCreated(ClaimCertificate):
    """A new claim certificate; its `private_key_pem` is given here only, never again."""

    private_key_pem: str


class ClaimCertificatePage(Body):
    claim_certificates: list[ClaimCertificate]
    next_token: str | None
