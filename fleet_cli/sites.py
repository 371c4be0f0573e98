"""`fleet sites`: list, show, create, update (a new schedule reaches every device of the site)."""
from __future__ import annotations

from typing import Any

import typer

from fleet_cli.app import api
from fleet_cli.client import resource
from fleet_cli.options import JSON, LIMIT
from fleet_cli.output import print_items, print_result

app = typer.Typer(no_args_is_help=True, help="Sites and their wake schedules.")

COLUMNS = ("site_id", "name", "wake_schedule_cron", "timezone", "device_count", "schedule_fanout_pending")


@app.command("list")
def list_cmd(
    limit: int | None = LIMIT,
    as_json: bool = JSON,
) -> None:
    """Sites (every page, streamed)."""
    sites = api().items("/customer/sites", "sites", None, limit)
    print_items(sites, COLUMNS, as_json)


@app.command()
def show(site_id: str, as_json: bool = JSON) -> None:
    """One site with its device count."""
    _print(api().get(resource("customer", "sites", site_id)), as_json)


@app.command()
def create(
    site_id: str | None = typer.Argument(None, help="the id (default: the API makes one)"),
    name: str = typer.Option(..., "--name"),
    cron: str = typer.Option(..., "--cron", help="wake schedule, standard five-field cron"),
    timezone: str = typer.Option("UTC", "--timezone", help="IANA name, e.g. Europe/Berlin"),
    program: str | None = typer.Option(None, "--program"),
    company: str | None = typer.Option(None, "--company"),
    as_json: bool = JSON,
) -> None:
    """Create a site."""
    body: dict[str, Any] = {"name": name, "wake_schedule_cron": cron, "timezone": timezone}
    for key, value in (("site_id", site_id), ("program", program), ("company", company)):
        if value is not None:
            body[key] = value
    _print(api().post("/customer/sites", body), as_json)


@app.command()
def update(
    site_id: str,
    name: str | None = typer.Option(None, "--name"),
    cron: str | None = typer.Option(None, "--cron", help="new wake schedule: re-sent to every active device"),
    timezone: str | None = typer.Option(None, "--timezone"),
    program: str | None = typer.Option(None, "--program"),
    company: str | None = typer.Option(None, "--company"),
    clear_program: bool = typer.Option(False, "--clear-program", help="remove the program label"),
    clear_company: bool = typer.Option(False, "--clear-company", help="remove the company label"),
    as_json: bool = JSON,
) -> None:
    """Change a site; only the options given change."""
    body: dict[str, Any] = {k: v for k, v in (("name", name), ("wake_schedule_cron", cron), ("timezone", timezone),
                                              ("program", program), ("company", company)) if v is not None}
    if clear_program:
        body["program"] = None
    if clear_company:
        body["company"] = None
    if not body:
        raise typer.BadParameter("nothing to change", param_hint="options")
    _print(api().patch(resource("customer", "sites", site_id), body), as_json)


def _print(site: dict[str, Any], as_json: bool) -> None:
    print_result(site, as_json)
