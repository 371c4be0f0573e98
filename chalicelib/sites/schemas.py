"""Site shapes: requests and the stored record."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import field_validator

from chalicelib.core.schema import Name, Record, Request, ResourceId
from chalicelib.devices.schemas import Device
from chalicelib.sites.rules import Timezone, WakeCron

WELCOME_COMMAND = "set_wake_schedule"


class CreateSite(Request):
    """POST /customer/sites."""

    site_id: ResourceId | None = None
    name: Name
    wake_schedule_cron: WakeCron
    timezone: Timezone = "UTC"
    program: Name | None = None
    company: Name | None = None


class UpdateSite(Request):
    """PATCH /customer/sites/{site_id}: only the fields given change; null clears a label."""

    name: Name | None = None
    wake_schedule_cron: WakeCron | None = None
    timezone: Timezone | None = None
    program: Name | None = None
    company: Name | None = None

    @field_validator("name", "wake_schedule_cron", "timezone")
    @classmethod
    def _not_null(cls, value: str | None) -> str:
        # Runs only for fields that were sent: an explicit null would erase a required field.
        if value is None:
            raise ValueError("cannot be null")
        return value

    def changes(self) -> dict[str, Any]:
        """The fields the caller sent."""
        return {field: getattr(self, field) for field in self.model_fields_set}


class MapDevice(Request):
    """PUT /customer/devices/{device_id}/site."""

    site_id: ResourceId


class Site(Record):
    """A place with a wake schedule; `device_count` is how many devices are mapped to it."""

    tenant_id: str
    site_id: str
    name: str
    wake_schedule_cron: str
    timezone: str
    program: str | None = None
    company: str | None = None
    device_count: int = 0
    schedule_version: int = 1
    # True while a schedule change is still being sent to the site's devices.
    schedule_fanout_pending: bool = False
    created_at: datetime
    updated_at: datetime


class SiteChange(Record):
    """The answer to a PATCH: the site and how many devices were sent its new schedule."""

    site: Site
    schedule_changed: bool
    devices_notified: int = 0
    devices_updated: int = 0
    # False when the request ran out of time: the per-minute schedule sends the rest.
    fanout_complete: bool = True


class Mapping(Record):
    """The answer to a mapping: the device and the welcome command, if one was queued."""

    device: Device
    changed: bool
    welcome_command_id: str | None = None
