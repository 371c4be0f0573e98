"""The device-message Lambda: the bridge forwards every device-to-cloud message here."""
from __future__ import annotations

import base64
import logging
from typing import Any

from chalice import Blueprint
from pydantic import BaseModel, ConfigDict, ValidationError

from chalicelib.container import container

bp = Blueprint(__name__)
log = logging.getLogger(__name__)


class DeviceMessageEvent(BaseModel):
    """What the bridge sends: the topic and the raw payload (base64, bytes are opaque)."""

    model_config = ConfigDict(extra="ignore")

    topic: str
    payload_b64: str


@bp.lambda_function(name="device_message")
def device_message(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Handle one message; raise only for transient failures, so the bridge retries."""
    try:
        parsed = DeviceMessageEvent.model_validate(event)
        payload = base64.b64decode(parsed.payload_b64, validate=True)
    except (ValidationError, ValueError) as exc:
        log.warning("malformed bridge event dropped: %s", exc)
        return {"accepted": False, "reason": "malformed bridge event"}
    outcome = container().device_message_router.handle(parsed.topic, payload)
    if not outcome.accepted:
        log.warning("device message on %s rejected: %s", parsed.topic, outcome.reason)
    return outcome.as_dict()
