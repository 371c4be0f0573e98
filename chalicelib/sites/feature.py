"""Sites: operator routes, a device's place in a site, the per-minute schedule fan-out."""
from __future__ import annotations

from chalicelib.features import Feature
from chalicelib.sites import routes, schedule

FEATURE = Feature(blueprints=(routes.bp, schedule.bp))
