"""Device messages in batches from the topic rule's SQS queue, answered per message (partial batch responses)."""
from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from chalicelib.core.observability.log import logger

_processor = BatchProcessor(event_type=EventType.SQS)
Handler = Callable[[dict[str, Any]], dict[str, Any]]


def handle_batch(event: dict[str, Any], context: Any, one: Handler) -> dict[str, Any]:
    """Each record's body is the rule's {topic, payload_b64}; only transient failures are reported back."""

    def record_handler(record: SQSRecord) -> dict[str, Any]:
        try:
            body = json.loads(record.body)
        except ValueError:
            # Permanent: redelivering the same bytes cannot help.
            logger.warning("malformed queued event dropped", outcome="dropped")
            return {"accepted": False, "reason": "malformed queued event"}
        return one(body if isinstance(body, dict) else {})

    return dict(process_partial_response(event=event, record_handler=record_handler, processor=_processor,
                                         context=context))
