"""The API contract (`/openapi.json`) and its reference page (`/docs`)."""
from __future__ import annotations

from chalicelib.apidocs import routes
from chalicelib.features import Feature

FEATURE = Feature(blueprints=(routes.bp,))
