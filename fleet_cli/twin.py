"""`fleet twin`: read a device's twin, change its desired state and wait until it is synced."""
from __future__ import annotations

from typing import Any

import typer

from fleet_cli.app import api, json_option
from fleet_cli.client import resource
from fleet_cli.options import JSON
from fleet_cli.output import print_result
from fleet_cli.waiting import with_spinner

app = typer.Typer(no_args_is_help=True, help="Device twins (desired vs reported state).")

FIELDS = ("device_id", "sync_status", "desired_version", "reported_version", "desired", "reported", "delta",
          "last_seen_at")


def _path(device_id: str) -> str:
    return resource("customer", "devices", device_id, "twin")


@app.command()
def show(device_id: str, as_json: bool = JSON) -> None:
    """The twin: desired, reported, delta, versions and sync status."""
    _print(api().get(_path(device_id)), as_json)


@app.command("set")
def set_cmd(
    device_id: str,
    desired: str = typer.Option(..., "--desired", help="JSON object merged into desired (null deletes a key)"),
    version: int | None = typer.Option(None, "--version", min=0, help="compare-and-set: the current desired_version"),
    wait: bool = typer.Option(False, "--wait", help="wait until the device reported this version (synced)"),
    timeout: float = typer.Option(120.0, "--wait-timeout", min=0.1, help="seconds --wait waits"),
    interval: float = typer.Option(0.5, "--interval", min=0.05, help="seconds between polls"),
    as_json: bool = JSON,
) -> None:
    """Change the desired state. With --wait, exit 4 if the device has not synced in time."""
    body: dict[str, Any] = {"desired": json_option(desired, "--desired")}
    if version is not None:
        body["version"] = version
    client = api()
    twin = client.patch(_path(device_id) + "/desired", body)
    if wait:
        target = int(twin.get("desired_version") or 0)

        def synced(t: dict[str, Any]) -> bool:
            return t.get("sync_status") == "synced" and int(t.get("reported_version") or 0) >= target

        twin = with_spinner(lambda: client.get(_path(device_id)), synced, timeout=timeout, interval=interval,
                            what=f"twin of {device_id} v{target}", label=lambda t: str(t.get("sync_status")))
    _print(twin, as_json)


def _print(twin: dict[str, Any], as_json: bool) -> None:
    print_result(twin, as_json, [f for f in FIELDS if f in twin] + [k for k in twin if k not in FIELDS])
