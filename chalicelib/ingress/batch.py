"""Device messages in batches, answered per message (Powertools' partial batch responses).

Two senders use the same SQS-shaped event: the topic rule's queue on AWS IoT Core, and the
MQTT bridge, which marks its records with BRIDGE_SOURCE and a MessageGroupId per device.
A group's records are processed in order and, once one of them fails, the rest of that
group is reported failed unprocessed (SQS FIFO's skip-group semantics), so a retry keeps
each device's order while the other devices' records go through.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    SqsFifoPartialProcessor,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from chalicelib.core.observability.log import logger

# The eventSource of the bridge's records: its answer also names the rejected records.
BRIDGE_SOURCE = "fleet:mqtt-bridge"
Handler = Callable[[dict[str, Any]], dict[str, Any]]


def handle_batch(event: dict[str, Any], context: Any, one: Handler) -> dict[str, Any]:
    """Each record's body is {topic, payload_b64}; only transient failures are reported back."""
    records = event.get("Records") or []
    grouped = any(isinstance(r, dict) and (r.get("attributes") or {}).get("MessageGroupId") for r in records)
    # A processor keeps the batch's records on itself: one per call, since the bridge's
    # in-process invoker calls this from several threads at once.
    processor = SqsFifoPartialProcessor(skip_group_on_error=True) if grouped else BatchProcessor(EventType.SQS)
    rejected: list[dict[str, str]] = []

    def record_handler(record: SQSRecord) -> dict[str, Any]:
        try:
            body = json.loads(record.body)
        except ValueError:
            # Permanent: redelivering the same bytes cannot help.
            logger.warning("malformed queued event dropped", outcome="dropped")
            result: dict[str, Any] = {"accepted": False, "reason": "malformed queued event"}
        else:
            result = one(body if isinstance(body, dict) else {})
        if result.get("accepted") is False:
            rejected.append({"itemIdentifier": record.message_id, "reason": str(result.get("reason") or "")})
        return result

    answer = dict(process_partial_response(event=event, record_handler=record_handler, processor=processor,
                                           context=context))
    if records and all(isinstance(r, dict) and r.get("eventSource") == BRIDGE_SOURCE for r in records):
        # The bridge counts and logs rejections; SQS's answer keeps its documented shape.
        answer["rejected"] = rejected
    return answer
