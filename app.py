"""The Chalice app: it only registers the blueprints."""
from __future__ import annotations

from chalice import Chalice

from chalicelib.api import auth, device_jobs, device_presence, devices, groups, health, jobs, mqtt_ingress, twin
from chalicelib.schedules import jobs as jobs_schedule

app = Chalice(app_name="fleet-control-plane")

for blueprint in (auth, health, devices, groups, device_presence, mqtt_ingress, twin, jobs, device_jobs,
                  jobs_schedule):
    app.register_blueprint(blueprint.bp)
