"""The port through which sites queue `set_wake_schedule` commands to devices."""
from __future__ import annotations

import logging
from typing import Any, Protocol

log = logging.getLogger(__name__)

WakeParams = dict[str, Any]


class WelcomeSender(Protocol):
    """Queues `set_wake_schedule` through the command channel (published, retried, expired there)."""

    def send(self, tenant_id: str, device_id: str, params: WakeParams, created_by: str) -> str | None:
        """Queue one command; returns its id (None when no command channel is installed)."""
        ...

    def send_many(self, tenant_id: str, items: list[tuple[str, WakeParams]], created_by: str) -> list[str]:
        """Queue one command per (device_id, params), written in batches; returns their ids."""
        ...


class NoCommandChannel:
    """Stand-in for stages built without the command channel: mapping works, nothing is sent."""

    def send(self, tenant_id: str, device_id: str, params: WakeParams, created_by: str) -> str | None:
        log.warning("no command channel: set_wake_schedule for %s/%s not sent", tenant_id, device_id)
        return None

    def send_many(self, tenant_id: str, items: list[tuple[str, WakeParams]], created_by: str) -> list[str]:
        if items:
            log.warning("no command channel: %d set_wake_schedule commands not sent", len(items))
        return []
