"""The `device_message` function the bridge invokes with every device-to-cloud message."""
from __future__ import annotations

from collections.abc import Mapping

from chalicelib.core.feature import Feature, FunctionAccess
from chalicelib.ingress import handler
from chalicelib.ingress.services import IngressServices


def access() -> Mapping[str, FunctionAccess]:
    """On AWS IoT Core with DeviceMessagesVia=sqs, device_message reads the rule's queue in batches."""
    return {"device_message": FunctionAccess(reads_queue=True)}


FEATURE = Feature(name="ingress", blueprints=(handler.bp,), services=IngressServices, access=access)
