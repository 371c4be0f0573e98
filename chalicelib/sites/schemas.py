"""Site shapes: requests, the stored record, and the welcome command's parameters."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from pydantic import TypeAdapter, field_validator

from chalicelib.core.ids import Name, Record, Request, ResourceId
from chalicelib.devices.schemas import Device
from chalicelib.sites.wake import Timezone, WakeCron

WELCOME_COMMAND = "set_wake_schedule"
_TIMESTAMP: TypeAdapter[datetime] = TypeAdapter(datetime)


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


def schedule_id(mapping_id: str | None, schedule_version: int) -> str:
    """Orders a device's schedules: a later mapping, or a later schedule of the same mapping, sorts after.

    Mapping ids are ULIDs (time-ordered); the version is zero-padded so the plain string
    order is the order. Commands can arrive out of order (a retried publish, a replaced
    fan-out still finishing), so a device applies the set_wake_schedule with the
    greatest schedule_id it has seen and ignores older ones.
    """
    return f"{mapping_id or '0'}-{schedule_version:08d}"


def welcome_params(site: Site, next_wake_at: datetime, mapping_id: str | None) -> dict[str, Any]:
    """Parameters of `set_wake_schedule`: the schedule and the site context (seed 002).

    The program and company labels travel only when the site has them.
    """
    params: dict[str, Any] = {
        "schedule_id": schedule_id(mapping_id, site.schedule_version),
        "cron": site.wake_schedule_cron,
        "timezone": site.timezone,
        # Serialised as every other timestamp of the API and of MQTT payloads.
        "next_wake_at": _TIMESTAMP.dump_python(next_wake_at.astimezone(timezone.utc), mode="json"),
        "site_id": site.site_id,
        "site_name": site.name,
    }
    params.update({k: v for k, v in (("program", site.program), ("company", site.company)) if v is not None})
    return params
