"""Device twin shapes: request bodies, the MQTT report payload and the stored twin."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import Field, Strict

from chalicelib.core.schema import Record, Request

# Strict: JSON `true` or `1.5` is not a version.
Version = Annotated[int, Strict(), Field(ge=0)]


class PatchDesired(Request):
    """PATCH /customer/devices/{id}/twin/desired; `version` is the desired_version the caller read."""

    desired: dict[str, Any]
    version: Version | None = None


class ReportState(Request):
    """POST /device/v1/shadow/reported and the `shadow/reported` MQTT payload.

    `version` is the desired version the device has applied; without it the report
    records a spontaneous state change and leaves reported_version alone.
    """

    reported: dict[str, Any]
    version: Version | None = None


class Twin(Record):
    """The twin as stored on the device item, plus what the item says about presence."""

    tenant_id: str
    device_id: str
    desired: dict[str, Any] = Field(default_factory=dict)
    reported: dict[str, Any] = Field(default_factory=dict)
    desired_version: int = 0
    reported_version: int = 0
    desired_metadata: dict[str, Any] = Field(default_factory=dict)
    reported_metadata: dict[str, Any] = Field(default_factory=dict)
    shadow_updated_at: datetime | None = None
    last_seen_at: datetime | None = None
    # Bumped by every reported write; the condition of the next one (desired writes are
    # conditioned on desired_version, which every desired write bumps).
    reported_revision: int = 0
    # Bumped by every write of either document: AWS IoT's shadow `version`.
    shadow_version: int = 0
