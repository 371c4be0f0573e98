"""`/health`: reachability of the database and the broker; `/customer/health`: the tenant's backlogs."""
from __future__ import annotations

from chalicelib.core.feature import Feature
from chalicelib.health import routes
from chalicelib.health.services import HealthServices

FEATURE = Feature(name="health", blueprints=(routes.bp,), services=HealthServices)
