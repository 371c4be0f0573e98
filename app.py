"""The Chalice app: it only registers the features (each brings its own blueprints)."""
from __future__ import annotations

from chalice import Chalice

from chalicelib.features import register_routes

app = Chalice(app_name="fleet-control-plane")
register_routes(app)
