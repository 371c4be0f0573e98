"""The Chalice app: it only registers the blueprints."""
from __future__ import annotations

from chalice import Chalice

from chalicelib.apidocs import routes as docs
from chalicelib.aws_iot import named_shadow_routes as named_shadows
from chalicelib.broker_auth import iot_authorizer
from chalicelib.broker_auth import routes as broker_routes
from chalicelib.commands import device_routes as device_commands
from chalicelib.commands import routes as commands
from chalicelib.commands import schedule as command_schedules
from chalicelib.core.auth import routes as auth
from chalicelib.core.http import edge
from chalicelib.core.observability import routes as observability
from chalicelib.devices import device_routes as device_presence
from chalicelib.devices import routes as devices
from chalicelib.groups import routes as groups
from chalicelib.health import routes as health
from chalicelib.ingress import handler as mqtt_ingress
from chalicelib.jobs import device_routes as device_jobs
from chalicelib.jobs import routes as jobs
from chalicelib.jobs import schedule as job_schedules
from chalicelib.sites import routes as sites
from chalicelib.sites import schedule as site_schedules
from chalicelib.twin import routes as twin

app = Chalice(app_name="fleet-control-plane")

for blueprint in (edge, observability, docs, auth, health, devices, groups, device_presence, mqtt_ingress, commands,
                  device_commands, command_schedules, twin, named_shadows, sites, site_schedules, jobs, device_jobs,
                  job_schedules, broker_routes, iot_authorizer):
    app.register_blueprint(blueprint.bp)
