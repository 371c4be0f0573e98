"""Device groups: operator routes."""
from __future__ import annotations

from chalicelib.features import Feature
from chalicelib.groups import routes

FEATURE = Feature(blueprints=(routes.bp,))
