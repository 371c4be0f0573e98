"""Shapes of command batches: the batch, its members, and what the API answers."""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import Field

from chalicelib.commands.schemas import CommandStatus
from chalicelib.core.schema import Record


class BatchTarget(StrEnum):
    """What a batch was sent to."""

    GROUP = "group"
    SITE = "site"


class BatchStatus(StrEnum):
    """`sending` while members are still being walked; `sent` once every member has its command."""

    SENDING = "sending"
    SENT = "sent"


class CommandBatch(Record):
    """One command sent to every enabled member of a group or site."""

    batch_id: str
    tenant_id: str
    target_type: BatchTarget
    target_id: str
    command_type: str
    command_params: dict[str, Any] = Field(default_factory=dict)
    status: BatchStatus = BatchStatus.SENDING
    # Members walked so far; each was either sent a command or skipped (disabled, gone, or walked after the expiry).
    targeted: int = 0
    sent: int = 0
    skipped: int = 0
    created_at: datetime
    created_by: str = ""
    expires_at: datetime
    completed_at: datetime | None = None
    client_token: str | None = None


class BatchMember(Record):
    """One member device's command, as the batch lists it."""

    device_id: str
    command_id: str
    status: CommandStatus
    published_at: datetime | None = None
    fetched_at: datetime | None = None
    acked_at: datetime | None = None


class BatchView(CommandBatch):
    """GET /customer/command-batches/{id}: the batch, its commands' counts per status, a page of them."""

    counts: dict[CommandStatus, int]
    published: int
    commands: list[BatchMember]
    next_token: str | None = None
