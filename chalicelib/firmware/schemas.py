"""Firmware artifacts: statuses, request and record shapes."""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from chalicelib.core.schema import Description, PageQuery, Record, Request, ResourceId, StrictInt

Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-fA-F]{64}$", to_lower=True)]
Version = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.+-]*$")]
DeviceModelName = Annotated[str, StringConstraints(min_length=1, max_length=64,
                                                   pattern=r"^[A-Za-z0-9][A-Za-z0-9_.+-]*$")]


class FirmwareStatus(StrEnum):
    """Lifecycle of an artifact: waiting for its upload, then ready or rejected (final)."""

    PENDING_UPLOAD = "pending_upload"
    READY = "ready"
    REJECTED = "rejected"


# The state machine as data: which status may follow which (completion is the only move).
TRANSITIONS: dict[FirmwareStatus, frozenset[FirmwareStatus]] = {
    FirmwareStatus.PENDING_UPLOAD: frozenset({FirmwareStatus.READY, FirmwareStatus.REJECTED}),
    FirmwareStatus.READY: frozenset(),
    FirmwareStatus.REJECTED: frozenset(),
}


class CreateFirmware(Request):
    """POST /customer/firmware: what the image is; a size or checksum given is enforced on the upload."""

    version: Version
    device_model: DeviceModelName
    notes: Description | None = None
    # Exact size: signed into the upload URL, so S3 refuses any other length.
    size_bytes: StrictInt | None = Field(default=None, ge=1)
    # Upper bound: checked when the upload completes (a presigned PUT cannot carry a range).
    max_size_bytes: StrictInt | None = Field(default=None, ge=1)
    # Expected SHA-256 (hex): signed into the upload URL and checked again on completion.
    sha256: Sha256 | None = None


class FirmwareListQuery(PageQuery):
    """Query parameters of GET /customer/firmware: the page and a status; others are an error."""

    model_config = ConfigDict(defer_build=True, extra="forbid")

    status: FirmwareStatus | None = None


class VersionsQuery(BaseModel):
    """GET /customer/firmware-versions: the whole fleet, or one group."""

    model_config = ConfigDict(defer_build=True, extra="forbid")

    group_id: ResourceId | None = None


class VersionCounts(Record):
    """Devices per reported firmware version in one scope (from counters, never a whole-table read)."""

    scope: str
    group_id: str | None = None
    versions: dict[str, int]
    total: int


class Firmware(Record):
    """An artifact as operators see it (the object key and upload URL never appear here)."""

    tenant_id: str
    firmware_id: str
    version: str
    device_model: str
    notes: str | None = None
    status: FirmwareStatus
    declared_size_bytes: int | None = None
    max_size_bytes: int
    declared_sha256: str | None = None
    size_bytes: int | None = None
    sha256: str | None = None
    reason: str | None = None
    created_at: datetime
    created_by: str | None = None
    completed_at: datetime | None = None
    # The latest expiry of a job or command that refers to it: it cannot be deleted before.
    in_use_until: datetime | None = None
    object_version: str | None = None


class UploadTicket(Record):
    """The answer to a create: the artifact and, once, where and how to PUT the image."""

    firmware: Firmware
    upload_url: str
    upload_method: str = "PUT"
    upload_headers: dict[str, str] = Field(default_factory=dict)
    upload_expires_at: datetime


class FirmwareRef(Record):
    """What a device receives in place of a reference: where to fetch the image and how to check it."""

    firmware_id: str
    version: str
    url: str
    url_expires_at: datetime
    headers: dict[str, str]
    sha256: str
    size_bytes: int
