"""The bridge's event to the device-message Lambda."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class DeviceMessageEvent(BaseModel):
    """What the bridge sends: the topic, the raw payload (base64, bytes are opaque), its correlation id."""

    model_config = ConfigDict(extra="ignore")

    topic: str
    payload_b64: str
    correlation_id: str | None = None
