"""`/health`: reachability of the database and the broker."""
from __future__ import annotations

from chalicelib.features import Feature
from chalicelib.health import routes

FEATURE = Feature(blueprints=(routes.bp,))
