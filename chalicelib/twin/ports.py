"""What TwinService needs from storage: the repository's shape, so tests can give it a fake."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from chalicelib.twin.schemas import Twin


class TwinStore(Protocol):
    """Twins read consistently and written on the condition that nothing changed since the read."""

    def get(self, tenant_id: str, device_id: str) -> Twin:
        """The device's twin (404 for a missing or foreign device)."""
        ...

    def write_desired(self, read: Twin, desired: dict[str, Any], metadata: dict[str, Any], version: int,
                      now: datetime) -> bool:
        """Store a new desired document; False when desired changed since `read`."""
        ...

    def write_reported(self, read: Twin, reported: dict[str, Any], metadata: dict[str, Any], version: int,
                       now: datetime) -> bool:
        """Store a new reported document; False when reported changed since `read`."""
        ...
