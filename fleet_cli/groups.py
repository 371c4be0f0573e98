"""`fleet groups`: list, show (with every member), create, add and remove members."""
from __future__ import annotations

import itertools
from typing import Any

import typer

from fleet_cli.app import api
from fleet_cli.client import resource
from fleet_cli.options import JSON, LIMIT
from fleet_cli.output import note, print_items, print_json, print_record, print_result, stream_table

app = typer.Typer(no_args_is_help=True, help="Device groups (targets of jobs).")

COLUMNS = ("group_id", "name", "member_count", "description", "created_at")


def _path(group_id: str) -> str:
    return resource("customer", "groups", group_id)


@app.command("list")
def list_cmd(
    limit: int | None = LIMIT,
    as_json: bool = JSON,
) -> None:
    """Groups (every page, streamed)."""
    groups = api().items("/customer/groups", "groups", None, limit)
    print_items(groups, COLUMNS, as_json)


@app.command()
def show(group_id: str, as_json: bool = JSON) -> None:
    """A group and the ids of all its members (every page)."""
    pages = api().pages(_path(group_id), "members")
    first = next(pages)
    members = list(itertools.chain(first.get("members") or [], *(p.get("members") or [] for p in pages)))
    group = {**first, "members": members, "next_token": None}
    if as_json:
        print_json(group)
        return
    print_record({k: v for k, v in group.items() if k not in ("members", "next_token")})
    stream_table(({"member": m} for m in members), ("member",))


@app.command()
def create(
    group_id: str | None = typer.Argument(None, help="the id (default: the API makes one)"),
    name: str = typer.Option(..., "--name"),
    description: str | None = typer.Option(None, "--description"),
    as_json: bool = JSON,
) -> None:
    """Create a group."""
    body: dict[str, Any] = {"name": name}
    if group_id is not None:
        body["group_id"] = group_id
    if description is not None:
        body["description"] = description
    _print(api().post("/customer/groups", body), as_json)


@app.command()
def add(group_id: str, device_ids: list[str] = typer.Argument(..., help="devices to add"),
        as_json: bool = JSON) -> None:
    """Add devices to a group (adding a member again changes nothing)."""
    answers = [api().put(_path(group_id) + resource("members", d)) for d in device_ids]
    if as_json:
        print_json(answers)
        return
    for answer in answers:
        note(f"{answer['device_id']}: {'added' if answer.get('added') else 'already a member'}")


@app.command()
def remove(group_id: str, device_ids: list[str] = typer.Argument(..., help="devices to remove"),
           as_json: bool = JSON) -> None:
    """Remove devices from a group."""
    answers = [api().delete(_path(group_id) + resource("members", d)) for d in device_ids]
    if as_json:
        print_json(answers)
        return
    for answer in answers:
        note(f"{answer['device_id']}: removed")


def _print(group: dict[str, Any], as_json: bool) -> None:
    print_result(group, as_json)
