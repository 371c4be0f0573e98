"""Command shapes, statuses and the status transition table."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, computed_field

from chalicelib.core.schema import JsonObject, Record, Request, ResourceId, StrictInt

CommandType = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_.-]{0,63}$")]
ClientToken = ResourceId
AckStatusText = Annotated[str, StringConstraints(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_.-]+$")]


class CommandStatus(StrEnum):
    """Where a command is in its life; only `queued` is not final."""

    QUEUED = "queued"
    DELIVERED = "delivered"
    MISSED = "missed"
    EXPIRED = "expired"


class CommandEvent(StrEnum):
    """What can happen to a command."""

    ACKED = "acked"
    # expires_at passed after the command was published or fetched by a poll
    EXPIRED_SEEN = "expired_seen"
    # expires_at passed and the command never left the cloud
    EXPIRED_UNSEEN = "expired_unseen"


# The whole state machine. Storage turns each entry into a conditional write on `status`.
TRANSITIONS: Mapping[tuple[CommandStatus, CommandEvent], CommandStatus] = MappingProxyType({
    (CommandStatus.QUEUED, CommandEvent.ACKED): CommandStatus.DELIVERED,
    (CommandStatus.QUEUED, CommandEvent.EXPIRED_SEEN): CommandStatus.MISSED,
    (CommandStatus.QUEUED, CommandEvent.EXPIRED_UNSEEN): CommandStatus.EXPIRED,
})

FINAL_STATUSES = frozenset(s for s in CommandStatus if not any(src is s for src, _ in TRANSITIONS))


def next_status(current: CommandStatus, event: CommandEvent) -> CommandStatus | None:
    """The status after `event`, or None when the event is not allowed in `current`."""
    return TRANSITIONS.get((current, event))


class CreateCommand(Request):
    """POST /customer/devices/{id}/commands (and the sites feature's welcome command)."""

    command_type: CommandType
    command_params: JsonObject = Field(default_factory=dict)
    # Upper bound is the stage's setting, checked by the service.
    expires_in_minutes: StrictInt | None = Field(default=None, ge=1)
    client_token: ClientToken | None = None


class AckCommand(BaseModel):
    """A device's ACK: HTTP body, and the MQTT payload without the command_id.

    Unknown keys are ignored rather than refused: firmware in the field adds fields over
    time, and refusing the ACK would lose the fact that the command arrived.
    """

    model_config = ConfigDict(extra="ignore")

    status: AckStatusText
    details: JsonObject = Field(default_factory=dict)

    def as_details(self) -> dict[str, Any]:
        """What is stored as ack_details: the device's status and its details."""
        return {"status": self.status, "details": self.details}


class MqttAck(AckCommand):
    """Payload on tenant/{t}/device/{d}/commands/ack."""

    command_id: str


class CommandListQuery(BaseModel):
    """Filters of the history listing (limit and next_token are shared page args)."""

    model_config = ConfigDict(extra="ignore")

    status: CommandStatus | None = None


class Command(Record):
    """A command as stored and as the operator API returns it."""

    command_id: str
    tenant_id: str
    device_id: str
    command_type: str
    command_params: dict[str, Any] = Field(default_factory=dict)
    status: CommandStatus = CommandStatus.QUEUED
    created_at: datetime
    created_by: str = ""
    expires_at: datetime
    published_at: datetime | None = None
    fetched_at: datetime | None = None
    acked_at: datetime | None = None
    ack_details: dict[str, Any] | None = None
    publish_attempts: int = 0
    # The group or site batch that sent it, if any.
    batch_id: str | None = None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def mqtt_published(self) -> bool:
        """Whether the broker accepted the command at least once."""
        return self.published_at is not None

    def message(self) -> CommandMessage:
        """What the device receives, over MQTT and in the pending poll."""
        return CommandMessage(command_id=self.command_id, command_type=self.command_type,
                              command_params=self.command_params, expires_at=self.expires_at)

    def pending_entry(self) -> PendingCommand:
        """What the pending poll lists."""
        return PendingCommand(**self.message().model_dump(), created_at=self.created_at)


class CommandMessage(Record):
    """Payload on tenant/{t}/device/{d}/commands (QoS 1, not retained)."""

    command_id: str
    command_type: str
    command_params: dict[str, Any]
    expires_at: datetime


class PendingCommand(CommandMessage):
    """One entry of GET /device/v1/commands/pending."""

    created_at: datetime


class AckResult(Record):
    """What an ACK answers, over HTTP and to the bridge."""

    command_id: str
    acknowledged: bool = True
