"""The `device_message` function the bridge invokes with every device-to-cloud message."""
from __future__ import annotations

from chalicelib.core.feature import Feature
from chalicelib.ingress import handler
from chalicelib.ingress.services import IngressServices

FEATURE = Feature(name="ingress", blueprints=(handler.bp,), services=IngressServices)
