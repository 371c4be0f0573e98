"""AWS IoT Core adapter through the data-plane Publish API (boto3 `iot-data`)."""
from __future__ import annotations

import base64
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.core.messaging.base import Message, Publisher, topic_error
from chalicelib.core.observability.log import logger


class IotDataPublisher(Publisher):
    """Publishes through AWS IoT's HTTPS data plane; botocore handles retries."""

    def __init__(self, endpoint_url: str = "", region: str = "us-east-1", client: Any = None,
                 workers: int = 16) -> None:
        self._workers = workers
        self._client = client or boto3.client(
            "iot-data",
            region_name=region,
            endpoint_url=endpoint_url or None,
            # The pool matches the fan-out threads, so parallel publishes do not queue for a socket.
            config=Config(retries={"mode": "standard", "max_attempts": 3}, max_pool_connections=workers),
        )

    def publish(self, message: Message) -> bool:
        invalid = topic_error(message.topic)
        if invalid:
            logger.error("publish dropped", topic=message.topic, reason=invalid, outcome="dropped")
            self.stats.record(False, invalid)
            return False
        try:
            self._client.publish(
                topic=message.topic, qos=message.qos, retain=message.retain, payload=message.encoded(),
                **_mqtt5(message),
            )
        except (BotoCoreError, ClientError) as exc:
            logger.warning("publish failed", topic=message.topic, reason=type(exc).__name__, outcome="failed")
            self.stats.record(False, type(exc).__name__)
            return False
        self.stats.record(True)
        return True

    def publish_many(self, messages: list[Message]) -> list[bool]:
        """One HTTPS request per message, so a fan-out (job notify) runs them in parallel."""
        if len(messages) <= 1:
            return [self.publish(m) for m in messages]
        # boto3 clients are thread-safe; sessions and resources are not (none is shared here).
        with ThreadPoolExecutor(max_workers=min(self._workers, len(messages))) as pool:
            return list(pool.map(self.publish, messages))

    def is_reachable(self) -> bool:
        # The data plane has no ping; a retained no-op on a reserved topic proves the path.
        return self.publish(Message(topic="$aws/health/fleet-control-plane", payload={}, qos=0))


def _mqtt5(message: Message) -> dict[str, Any]:
    """The MQTT 5 correlation data of the message, as the data plane takes it (base64)."""
    if not message.correlation_id:
        return {}
    return {"correlationData": base64.b64encode(message.correlation_id.encode()).decode("ascii"),
            "userProperties": [{"correlation_id": message.correlation_id}]}
