"""Device groups: operator routes, and the per-minute resume of group deletes."""
from __future__ import annotations

from chalicelib.features import Feature
from chalicelib.groups import routes, schedule

FEATURE = Feature(blueprints=(routes.bp, schedule.bp))
