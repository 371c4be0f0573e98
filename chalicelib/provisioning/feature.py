"""Provisioning templates: operator routes."""
from __future__ import annotations

from chalicelib.features import Feature
from chalicelib.provisioning import routes

FEATURE = Feature(blueprints=(routes.bp,))
