"""The device-message function over an SQS batch: per-message answers, a poison message never holds its batch."""
from __future__ import annotations

import json
from typing import Any

from chalicelib.ingress.batch import handle_batch


def _batch(*bodies: str) -> dict[str, Any]:
    return {"Records": [{"messageId": f"m-{i}", "receiptHandle": f"r-{i}", "body": body, "attributes": {},
                         "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
                         "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:q", "awsRegion": "us-east-1"}
                        for i, body in enumerate(bodies)]}


def test_only_the_transiently_failed_message_is_reported_for_a_retry() -> None:
    # Given a handler that fails transiently on one topic and rejects another
    seen: list[str] = []

    def one(event: dict[str, Any]) -> dict[str, Any]:
        seen.append(event.get("topic", ""))
        if event.get("topic") == "busy":
            raise RuntimeError("throttled")
        return {"accepted": event.get("topic") != "poison"}

    # When a batch of four arrives, one of them not even JSON
    answer = handle_batch(_batch(json.dumps({"topic": "a"}), json.dumps({"topic": "busy"}), "{not json",
                                 json.dumps({"topic": "poison"})), None, one)
    # Then every parsable message was handled, and only the transient failure comes back
    assert seen == ["a", "busy", "poison"]
    assert answer == {"batchItemFailures": [{"itemIdentifier": "m-1"}]}
