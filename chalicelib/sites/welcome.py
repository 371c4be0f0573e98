"""The port through which sites queue `set_wake_schedule` commands to devices."""
from __future__ import annotations

from typing import Any, Protocol

WakeParams = dict[str, Any]


class WelcomeSender(Protocol):
    """Queues `set_wake_schedule` through the command channel (published, retried, expired there)."""

    def send(self, tenant_id: str, device_id: str, params: WakeParams, created_by: str) -> str | None:
        """Queue one command; returns its id."""
        ...

    def send_many(self, tenant_id: str, items: list[tuple[str, WakeParams]], created_by: str) -> list[str]:
        """Queue one command per (device_id, params), written in batches; returns their ids."""
        ...

