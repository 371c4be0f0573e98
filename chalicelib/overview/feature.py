"""The overview: one operator route for the fleet at a glance, and the command listing behind its numbers.

It keeps no table of its own: it reads the devices' `by_seen` and `twin_pending` indexes and the
commands' `settled` index, which those features keep on their own write paths.
"""
from __future__ import annotations

from chalicelib.core.feature import Feature
from chalicelib.overview import routes
from chalicelib.overview.services import OverviewServices

FEATURE = Feature(name="overview", blueprints=(routes.bp,), services=OverviewServices)
