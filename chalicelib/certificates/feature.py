"""Device certificates: operator routes to issue, list, deactivate, revoke and delete them."""
from __future__ import annotations

from chalicelib.certificates import routes
from chalicelib.features import Feature

FEATURE = Feature(blueprints=(routes.bp,))
