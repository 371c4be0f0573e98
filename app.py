"""The Chalice app: it only registers the blueprints."""
from __future__ import annotations

from chalice import Chalice

from chalicelib.api import (
    auth,
    commands,
    device_commands,
    device_jobs,
    device_presence,
    devices,
    docs,
    edge,
    groups,
    health,
    jobs,
    mqtt_ingress,
    named_shadows,
    sites,
    twin,
)
from chalicelib.broker_auth import iot_authorizer
from chalicelib.broker_auth import routes as broker_routes
from chalicelib.schedules import commands as command_schedules
from chalicelib.schedules import jobs as job_schedules
from chalicelib.schedules import sites as site_schedules

app = Chalice(app_name="fleet-control-plane")

for blueprint in (edge, docs, auth, health, devices, groups, device_presence, mqtt_ingress, commands, device_commands,
                  command_schedules, twin, named_shadows, sites, site_schedules, jobs, device_jobs, job_schedules,
                  broker_routes, iot_authorizer):
    app.register_blueprint(blueprint.bp)
