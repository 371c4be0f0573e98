"""Device imports: operator routes and the per-minute resume."""
from __future__ import annotations

from chalicelib.features import Feature
from chalicelib.imports import routes, schedule

FEATURE = Feature(blueprints=(routes.bp, schedule.bp))
