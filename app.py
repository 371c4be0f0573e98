"""The Chalice app: it only registers the blueprints."""
from __future__ import annotations

from chalice import Chalice

from chalicelib.api import auth, device_presence, devices, groups, health, mqtt_ingress, sites, twin

app = Chalice(app_name="fleet-control-plane")

for blueprint in (auth, health, devices, groups, device_presence, mqtt_ingress, twin, sites):
    app.register_blueprint(blueprint.bp)
