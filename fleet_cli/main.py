"""The `fleet` entry point: the root command with one sub-command per feature."""
from __future__ import annotations

from fleet_cli import batches, commands, devices, firmware, groups, jobs, provisioning, sites, twin
from fleet_cli.app import app

app.add_typer(devices.app, name="devices")
app.add_typer(commands.app, name="commands")
app.add_typer(twin.app, name="twin")
app.add_typer(jobs.app, name="jobs")
app.add_typer(sites.app, name="sites")
app.add_typer(groups.app, name="groups")
app.add_typer(batches.app, name="batches")
app.add_typer(firmware.app, name="firmware")
app.add_typer(provisioning.app, name="provisioning")
groups.app.command("command")(batches.sender("groups"))
sites.app.command("command")(batches.sender("sites"))

__all__ = ["app"]
