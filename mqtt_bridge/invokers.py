"""The invoker port: how the bridge hands messages (one, or a batch) to the device-message Lambda."""
from __future__ import annotations

import base64
import json
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

from mqtt_bridge.config import BridgeSettings


class InvokeError(Exception):
    """A transient failure: the message stays unacknowledged and is tried again."""


def device_event(topic: str, payload: bytes, correlation_id: str | None = None) -> dict[str, Any]:
    """The event the device-message Lambda expects (bytes stay opaque: base64), with the message's correlation id."""
    event = {"topic": topic, "payload_b64": base64.b64encode(payload).decode("ascii")}
    if correlation_id:
        event["correlation_id"] = correlation_id
    return event


# The function's batch answer names the bridge's records by this source (chalicelib/ingress/batch.py).
BRIDGE_SOURCE = "fleet:mqtt-bridge"


def device_key(topic: str) -> str:
    """tenant/{t}/device/{d} or $aws/things/{thing}: the unit of ordering (other topics order by themselves)."""
    parts = topic.split("/")
    return "/".join(parts[:3] if parts[0] == "$aws" else parts[:4])


def batch_event(events: list[dict[str, Any]]) -> dict[str, Any]:
    """Events as one SQS-shaped batch: record i is messageId "i", grouped by device so order holds."""
    return {"Records": [{"messageId": str(i), "body": json.dumps(e), "eventSource": BRIDGE_SOURCE,
                         "attributes": {"MessageGroupId": device_key(str(e.get("topic", "")))}}
                        for i, e in enumerate(events)]}


@dataclass(frozen=True)
class BatchResult:
    """Per event of a batch: which failed transiently (retry them) and which were rejected for good."""

    failed: frozenset[int] = frozenset()
    rejected: dict[int, str] = field(default_factory=dict)


def batch_result(answer: dict[str, Any], size: int) -> BatchResult:
    """Read the function's partial batch response; anything unreadable fails the whole batch."""
    try:
        failed = frozenset(int(f["itemIdentifier"]) for f in answer["batchItemFailures"])
        rejected = {int(r["itemIdentifier"]): str(r.get("reason", "")) for r in answer.get("rejected", [])}
    except (KeyError, TypeError, ValueError) as exc:
        raise InvokeError(f"not a batch answer: {str(answer)[:200]}") from exc
    if any(not 0 <= i < size for i in failed | rejected.keys()):
        raise InvokeError(f"batch answer names unknown records: {str(answer)[:200]}")
    return BatchResult(failed, rejected)


class Invoker(ABC):
    """Delivers events; returns the function's result, raises on transient failure."""

    @abstractmethod
    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        """Run the device-message function for one event."""

    def invoke_batch(self, events: list[dict[str, Any]]) -> BatchResult:
        """Run the function once for many events; raises when the whole batch failed transiently."""
        return batch_result(self.invoke(batch_event(events)), len(events))


class InProcessInvoker(Invoker):
    """Calls the Chalice lambda function directly (the local stack, tests)."""

    def __init__(self) -> None:
        # Imported here so a bridge that only invokes Lambda does not load the app.
        from chalicelib.ingress.handler import device_message

        self._function = device_message

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        # Any exception is transient by the function's contract; permanent rejections
        # come back as {"accepted": False}.
        return dict(self._function(event, None))


class LambdaInvoker(Invoker):
    """boto3 Lambda Invoke (RequestResponse) on AWS or LocalStack."""

    def __init__(self, function_name: str, client: Any) -> None:
        self._function_name = function_name
        self._client = client

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            response = self._client.invoke(
                FunctionName=self._function_name,
                InvocationType="RequestResponse",
                Payload=json.dumps(event).encode(),
            )
            body = response["Payload"].read()
        except (ClientError, BotoCoreError) as exc:
            # Throttling, a missing function, an unreachable endpoint: all fixable by
            # waiting or by an operator, so the message must not be dropped.
            raise InvokeError(f"lambda invoke failed: {exc}") from exc
        if response.get("FunctionError"):
            # The function raised: by contract that is a transient failure.
            raise InvokeError(f"function error {response['FunctionError']}: {body[:500]!r}")
        try:
            result = json.loads(body) if body else None
        except ValueError as exc:
            raise InvokeError(f"function returned non-JSON: {body[:200]!r}") from exc
        if not isinstance(result, dict):
            raise InvokeError(f"function returned {type(result).__name__}, not an object")
        return result


def lambda_client(settings: BridgeSettings) -> Any:
    """A boto3 Lambda client whose timeout outlasts the function's own."""
    import boto3
    from botocore.config import Config

    config = Config(
        read_timeout=settings.lambda_timeout_s + 5,
        connect_timeout=5,
        retries={"max_attempts": 2, "mode": "standard"},
    )
    return boto3.client("lambda", region_name=settings.aws_region,
                        endpoint_url=settings.lambda_endpoint or None, config=config)


def build_invoker(settings: BridgeSettings) -> Invoker:
    """The invoker the settings ask for."""
    if settings.invoker == "lambda":
        return LambdaInvoker(settings.lambda_function_name, lambda_client(settings))
    return InProcessInvoker()
