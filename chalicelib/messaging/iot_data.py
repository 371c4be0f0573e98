"""AWS IoT Core adapter through the data-plane Publish API (boto3 `iot-data`)."""
from __future__ import annotations

import logging
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.messaging.base import Message, Publisher

log = logging.getLogger(__name__)


class IotDataPublisher(Publisher):
    """Publishes through AWS IoT's HTTPS data plane; botocore handles retries."""

    def __init__(self, endpoint_url: str = "", region: str = "us-east-1", client: Any = None) -> None:
        self._client = client or boto3.client(
            "iot-data",
            region_name=region,
            endpoint_url=endpoint_url or None,
            config=Config(retries={"mode": "standard", "max_attempts": 3}),
        )

    def publish(self, message: Message) -> bool:
        try:
            self._client.publish(
                topic=message.topic, qos=message.qos, retain=message.retain, payload=message.encoded()
            )
        except (BotoCoreError, ClientError) as exc:
            log.warning("iot-data publish to %s failed: %s", message.topic, exc)
            return False
        return True

    def is_reachable(self) -> bool:
        # The data plane has no ping; a retained no-op on a reserved topic proves the path.
        return self.publish(Message(topic="$aws/health/fleet-control-plane", payload={}, qos=0))
