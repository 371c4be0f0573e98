"""Device registry and group shapes."""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, computed_field, field_validator, model_validator

from chalicelib.core.identity import mqtt_username
from chalicelib.core.schema import Description, Name, Record, Request, ResourceId
from chalicelib.devices.presence import Presence

AttributeKey = Annotated[str, StringConstraints(min_length=1, max_length=128)]


class DeviceStatus(StrEnum):
    """Lifecycle of a device in the registry."""

    PENDING_MAPPING = "pending_mapping"
    ACTIVE = "active"
    DISABLED = "disabled"


class CreateDevice(Request):
    """POST /customer/devices."""

    device_id: ResourceId | None = None
    name: Name | None = None
    attributes: dict[AttributeKey, str | int | float | bool | None] = Field(default_factory=dict)

    @field_validator("attributes")
    @classmethod
    def _bounded(cls, value: dict[str, Any]) -> dict[str, Any]:
        if len(value) > 50:
            raise ValueError("at most 50 attributes")
        return value


class UpdateDevice(Request):
    """PATCH /customer/devices/{device_id}: the fields given replace the stored ones.

    `name: null` clears the name; `attributes` replaces the whole map (`{}` empties it).
    """

    name: Name | None = None
    attributes: dict[AttributeKey, str | int | float | bool | None] | None = None

    @field_validator("attributes")
    @classmethod
    def _bounded(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None and len(value) > 50:
            raise ValueError("at most 50 attributes")
        return value

    @model_validator(mode="after")
    def _not_empty(self) -> UpdateDevice:
        if not self.model_fields_set:
            raise ValueError("give name and/or attributes")
        if "attributes" in self.model_fields_set and self.attributes is None:
            raise ValueError("attributes cannot be null; use {} to empty it")
        return self


# Filters of the device listing (query string: unknown parameters are ignored).
class DeviceListQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")
    group_id: ResourceId | None = Field(default=None)
    site_id: ResourceId | None = Field(default=None)
    status: DeviceStatus | None = Field(default=None)
    presence: Presence | None = Field(default=None, description="last-seen bucket (the overview's numbers)")
    twin: Literal["pending"] | None = Field(default=None, description="`pending`: reported behind desired")


class CreateGroup(Request):
    """POST /customer/groups."""

    group_id: ResourceId | None = None
    name: Name
    description: Description | None = None


class Device(Record):
    """A device as the registry knows it (never includes its token)."""

    tenant_id: str
    device_id: str
    name: str | None = None
    attributes: dict[str, Any] = Field(default_factory=dict)
    status: DeviceStatus = DeviceStatus.PENDING_MAPPING
    created_at: datetime
    last_seen_at: datetime | None = None
    site_id: str | None = None
    next_wake_at: datetime | None = None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def mqtt_username(self) -> str:
        """The device's broker username and client id (unique across tenants)."""
        return mqtt_username(self.tenant_id, self.device_id)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def thing_name(self) -> str:
        """The device's AWS IoT thing name (`$aws/things/{thing_name}/...`): its broker username."""
        return mqtt_username(self.tenant_id, self.device_id)


class DevicePrincipal(Record):
    """Who a provision token belongs to, as the device auth resolves it."""

    tenant_id: str
    device_id: str
    enabled: bool = True
    seen_at: datetime | None = None


class Group(Record):
    """A named set of devices of one tenant."""

    tenant_id: str
    group_id: str
    name: str
    description: str | None = None
    member_count: int = 0
    created_at: datetime
