"""Firmware: artifacts in the stage's bucket, and the fleet's reported versions."""
from __future__ import annotations

from chalicelib.features import Feature
from chalicelib.firmware import routes

FEATURE = Feature(blueprints=(routes.bp,))
