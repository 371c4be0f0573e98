"""The `device_message` function the bridge invokes with every device-to-cloud message."""
from __future__ import annotations

from chalicelib.features import Feature
from chalicelib.ingress import handler

FEATURE = Feature(blueprints=(handler.bp,))
