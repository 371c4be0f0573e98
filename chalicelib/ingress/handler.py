"""The device-message Lambda: the bridge forwards every device-to-cloud message here."""
from __future__ import annotations

import base64
from typing import Any

from chalice import Blueprint

from chalicelib.core.feature import provided
from chalicelib.core.observability.log import logger
from chalicelib.core.observability.runs import invocation
from chalicelib.ingress.services import IngressServices

bp = Blueprint(__name__)
_ingress = provided(IngressServices)


@bp.lambda_function(name="device_message")
def device_message(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Handle one message; raise only for transient failures, so the bridge retries.

    An SQS batch (the topic rule's queue, `Records`) is answered per message: the ones that
    failed transiently are named in `batchItemFailures` and come back alone; a rejected
    (poison) message is dropped like a single one, so it never holds its batch.
    """
    if isinstance(event, dict) and "Records" in event:
        from chalicelib.ingress.batch import handle_batch

        return handle_batch(event, context, _one)
    return _one(event)


def _one(event: dict[str, Any]) -> dict[str, Any]:
    """One bridge event ({topic, payload_b64}): raise only for a transient failure."""
    # The event's model (pydantic) loads with the first message, not with every function's import.
    from pydantic import ValidationError

    from chalicelib.ingress.schemas import DeviceMessageEvent

    with invocation(event.get("correlation_id") if isinstance(event, dict) else None, **_topic_keys(event)):
        try:
            parsed = DeviceMessageEvent.model_validate(event)
            payload = base64.b64decode(parsed.payload_b64, validate=True)
        except (ValidationError, ValueError) as exc:
            logger.warning("malformed bridge event dropped", reason=type(exc).__name__, outcome="dropped")
            return {"accepted": False, "reason": "malformed bridge event"}
        outcome = _ingress().device_message_router.handle(parsed.topic, payload)
        if not outcome.accepted:
            logger.warning("device message rejected", topic=parsed.topic, reason=outcome.reason, outcome="rejected")
        return outcome.as_dict()


def _topic_keys(event: object) -> dict[str, object]:
    """tenant and device of a tenant/{t}/device/{d}/... topic, for every line of the message."""
    topic = event.get("topic") if isinstance(event, dict) else None
    parts = topic.split("/") if isinstance(topic, str) else []
    if len(parts) >= 4 and parts[0] == "tenant" and parts[2] == "device":
        return {"tenant": parts[1], "device": parts[3]}
    return {}
