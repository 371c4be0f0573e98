"""`fleet devices`: list, show, create, import, delete, disable/enable, rotate-token, map/unmap, certs."""
from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import typer

from fleet_cli import certificates
from fleet_cli.app import api
from fleet_cli.client import resource
from fleet_cli.imports import import_cmd
from fleet_cli.options import JSON, LIMIT
from fleet_cli.output import note, print_items, print_json, print_record, print_result

app = typer.Typer(no_args_is_help=True, help="The device registry.")
app.command("import")(import_cmd)
app.add_typer(certificates.app, name="certs")

COLUMNS = ("device_id", "name", "status", "site_id", "last_seen_at", "next_wake_at")


def _path(device_id: str) -> str:
    return resource("customer", "devices", device_id)


def list_devices(site: str | None, group: str | None, status: str | None, limit: int | None) -> Iterator[Any]:
    """Devices matching the filters, across pages.

    The API filters by site and/or status, or by group alone; a group combined with a site or a
    status is listed by group and the rest is filtered here, on the client.
    """
    client = api()
    if group is None:
        return client.items("/customer/devices", "devices", {"site_id": site, "status": status}, limit)

    def matching() -> Iterator[Any]:
        for device in client.items("/customer/devices", "devices", {"group_id": group}):
            if (site is None or device.get("site_id") == site) and (status is None or device.get("status") == status):
                yield device

    return itertools.islice(matching(), limit)


@app.command("list")
def list_cmd(
    site: str | None = typer.Option(None, "--site", help="only devices mapped to this site"),
    group: str | None = typer.Option(None, "--group", help="only members of this group"),
    status: str | None = typer.Option(None, "--status", help="pending_mapping, active or disabled"),
    limit: int | None = LIMIT,
    as_json: bool = JSON,
) -> None:
    """List devices (every page, streamed). --group with --site/--status filters on the client."""
    devices = list_devices(site, group, status, limit)
    print_items(devices, COLUMNS, as_json)


@app.command()
def show(device_id: str, as_json: bool = JSON) -> None:
    """One device."""
    device = api().get(_path(device_id))
    print_result(device, as_json)


@app.command()
def create(
    device_id: str | None = typer.Argument(None, help="the id (default: the API makes one)"),
    name: str | None = typer.Option(None, "--name"),
    attribute: list[str] = typer.Option([], "--attr", help="key=value, repeatable"),
    as_json: bool = JSON,
) -> None:
    """Register a device; its provision token is printed once and cannot be read again."""
    body: dict[str, Any] = {"attributes": _attributes(attribute)}
    if device_id is not None:
        body["device_id"] = device_id
    if name is not None:
        body["name"] = name
    created = api().post("/customer/devices", body)
    if as_json:
        print_json(created)
        return
    print_record({k: v for k, v in created.items() if k != "provision_token"})
    _show_token(created)


@app.command()
def delete(device_id: str, yes: bool = typer.Option(False, "--yes", "-y", help="do not ask")) -> None:
    """Delete a device; its token stops working at once."""
    if not yes:
        typer.confirm(f"Delete device {device_id}?", abort=True)
    api().delete(_path(device_id))
    note(f"deleted {device_id}")


@app.command()
def disable(device_id: str, as_json: bool = JSON) -> None:
    """Disable a device: its token is refused on HTTP and MQTT."""
    print_result(api().post(_path(device_id) + "/disable"), as_json)


@app.command()
def enable(device_id: str, as_json: bool = JSON) -> None:
    """Enable a disabled device again."""
    print_result(api().post(_path(device_id) + "/enable"), as_json)


@app.command("rotate-token")
def rotate_token(device_id: str, as_json: bool = JSON) -> None:
    """Issue a new provision token (printed once); the old one dies at once."""
    rotated = api().post(_path(device_id) + "/token")
    if as_json:
        print_json(rotated)
    else:
        _show_token(rotated)


@app.command("map")
def map_cmd(device_id: str, site: str = typer.Option(..., "--site", help="the site to map it to"),
            as_json: bool = JSON) -> None:
    """Map a device to a site: it becomes active and is sent the site's wake schedule."""
    print_result(api().put(_path(device_id) + "/site", {"site_id": site}), as_json)


@app.command()
def unmap(device_id: str, as_json: bool = JSON) -> None:
    """Take a device off its site (back to pending_mapping)."""
    print_result(api().delete(_path(device_id) + "/site"), as_json)


def _show_token(answer: dict[str, Any]) -> None:
    # The only place the token is ever shown: on stdout, so it can be captured, with a warning beside it.
    note("provision token (shown once, store it now):")
    typer.echo(answer["provision_token"])


def _attributes(pairs: list[str]) -> dict[str, str]:
    attributes: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"{pair!r}: expected key=value", param_hint="--attr")
        attributes[key] = value
    return attributes
