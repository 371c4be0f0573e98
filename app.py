"""The Chalice app: it only registers the blueprints."""
from __future__ import annotations

from chalice import Chalice

from chalicelib.api import (
    auth,
    commands,
    device_commands,
    device_presence,
    devices,
    groups,
    health,
    mqtt_ingress,
    sites,
    twin,
)
from chalicelib.schedules import commands as command_schedules

app = Chalice(app_name="fleet-control-plane")

for blueprint in (auth, health, devices, groups, device_presence, mqtt_ingress, commands, device_commands,
                  command_schedules, twin, sites):
    app.register_blueprint(blueprint.bp)
