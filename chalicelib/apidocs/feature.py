"""The API contract (`/openapi.json`) and its reference page (`/docs`)."""
from __future__ import annotations

from chalicelib.apidocs import routes
from chalicelib.core.feature import Feature

FEATURE: Feature[None] = Feature(name="apidocs", blueprints=(routes.bp,))
