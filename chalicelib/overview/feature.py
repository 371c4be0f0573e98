"""The overview: one operator route for the fleet at a glance, and the command listing behind its numbers."""
from __future__ import annotations

from chalicelib.features import Feature
from chalicelib.overview import routes

FEATURE = Feature(blueprints=(routes.bp,))
