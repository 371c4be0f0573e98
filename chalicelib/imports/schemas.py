"""Shapes of device imports: one row, its outcome, the import and what the API answers."""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from chalicelib.core.schema import Record, ResourceId
from chalicelib.devices.schemas import CreateDevice

MAX_GROUPS_PER_ROW = 10


class ImportFormat(StrEnum):
    """How the body is written, from its Content-Type."""

    CSV = "csv"
    JSON_LINES = "jsonl"


class ImportStatus(StrEnum):
    """`running` while rows are left; `completed` once every row has its outcome."""

    RUNNING = "running"
    COMPLETED = "completed"


class RowOutcome(StrEnum):
    """What became of one row."""

    CREATED = "created"
    EXISTED = "existed"  # a device with this id was there already: left untouched
    REFUSED = "refused"  # the row is wrong (reason says what) or names a group or site the tenant lacks


class CredentialsState(StrEnum):
    """Where the created devices' provision tokens stand: each is downloadable once."""

    NONE = "none"  # no device created (yet)
    PENDING = "pending"  # devices created, the import still running
    AVAILABLE = "available"
    DOWNLOADED = "downloaded"
    EXPIRED = "expired"  # not downloaded in time: erased


class ImportRow(CreateDevice):
    """One row of an import file (CSV columns or a JSON line's keys): a device, its groups, its site.

    `certificate: true` also issues the device an X.509 certificate and key, handed out with its token.
    """

    groups: Annotated[list[ResourceId], Field(max_length=MAX_GROUPS_PER_ROW)] = Field(default_factory=list)
    site: ResourceId | None = None
    certificate: bool = False

    @field_validator("certificate", mode="before")
    @classmethod
    def _boolean(cls, value: object) -> object:
        # Strict: a JSON boolean (the CSV's words are read into one); "yes" in JSON is a typo, not a choice.
        if not isinstance(value, bool):
            raise PydanticCustomError("bool_type", "must be true or false (in a CSV: true, false, 1, 0, yes or no)")
        return value


class ImportQuery(BaseModel):
    """Query parameters of POST /customer/device-imports."""

    model_config = ConfigDict(extra="ignore")

    client_token: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[\x21-\x7e]+$")] | None = None


class ResultQuery(BaseModel):
    """Query parameters of GET /customer/device-imports/{id}: which rows' results to page through."""

    model_config = ConfigDict(extra="ignore")

    outcome: RowOutcome | None = None


class RowResult(Record):
    """The outcome of one row; `row` counts data rows from 1 (a CSV's header is not one)."""

    row: int
    device_id: str | None = None
    outcome: RowOutcome
    reason: str | None = None
    field: str | None = None


class DeviceImport(Record):
    """One import: its progress and counts."""

    import_id: str
    tenant_id: str
    status: ImportStatus = ImportStatus.RUNNING
    format: ImportFormat
    rows: int
    created: int = 0
    existed: int = 0
    refused: int = 0
    credentials: CredentialsState = CredentialsState.NONE
    credentials_expire_at: datetime | None = None
    created_at: datetime
    created_by: str = ""
    completed_at: datetime | None = None
    client_token: str | None = None

    @property
    def processed(self) -> int:
        """Rows with an outcome so far."""
        return self.created + self.existed + self.refused


class ImportView(DeviceImport):
    """GET /customer/device-imports/{id}: the import and a page of its rows' results."""

    results: list[RowResult]
    next_token: str | None = None


class ImportCredential(Record):
    """One created device's credential, as the one download gives it; the certificate fields only for the
    rows that asked for one (`certificate: true`)."""

    device_id: str
    mqtt_username: str
    provision_token: str
    certificate_id: str | None = None
    certificate_pem: str | None = None
    private_key_pem: str | None = None


class ImportCredentials(Record):
    """POST /customer/device-imports/{id}/credentials: every created device's token, answered this once."""

    import_id: str
    credentials: list[ImportCredential]


class ImportPage(Record):
    """GET /customer/device-imports: a page of imports, newest first."""

    imports: list[DeviceImport]
    next_token: str | None = None
