"""The root command: global options, lazy API client, and errors turned into messages and exit statuses."""
from __future__ import annotations

import json
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import typer
from rich.text import Text
from typer.core import TyperGroup

from fleet_cli import config
from fleet_cli.client import FleetClient
from fleet_cli.errors import CliError
from fleet_cli.output import console


class FleetGroup(TyperGroup):
    """Every CliError of any subcommand ends as one stderr line and its exit status."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except CliError as exc:
            # Text, not markup: the API's message may hold brackets.
            console(stderr=True).print(Text.assemble(("error:", "red"), " ", exc.message), soft_wrap=True)
            raise typer.Exit(exc.exit_code) from None


@dataclass
class State:
    """Global options, resolved into a client on first use (so --help needs no configuration)."""

    api_url: str | None = None
    token: str | None = None
    profile: str | None = None
    timeout: float = 15.0
    _client: FleetClient | None = field(default=None, repr=False)

    def client(self) -> FleetClient:
        """The client for the resolved configuration, built once per invocation."""
        if self._client is None:
            conn = config.resolve(self.api_url, self.token, self.profile)
            self._client = FleetClient(conn.api_url, conn.token, timeout=self.timeout)
        return self._client


_state: ContextVar[State] = ContextVar("fleet_cli_state")


def api() -> FleetClient:
    """The API client of the running command."""
    return _state.get().client()


def json_option(value: str | None, name: str) -> dict[str, Any] | None:
    """Parse a JSON-object option such as --params; a bad one is a usage error naming the option."""
    if value is None:
        return None
    try:
        parsed = json.loads(value)
    except ValueError as exc:
        raise typer.BadParameter(f"not valid JSON: {exc}", param_hint=name) from exc
    if not isinstance(parsed, dict):
        raise typer.BadParameter("must be a JSON object", param_hint=name)
    return parsed


app = typer.Typer(cls=FleetGroup, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Operate a fleet from a terminal: devices, commands, twin, jobs, sites and groups.")


@app.callback()
def root(
    api_url: str | None = typer.Option(None, "--api-url", help="API base URL [env FLEET_API_URL]"),
    token: str | None = typer.Option(None, "--token", help="operator Bearer token [env FLEET_TOKEN]"),
    profile: str | None = typer.Option(None, "--profile",
                                       help="profile of ~/.config/fleet/config.toml [env FLEET_PROFILE]"),
    timeout: float = typer.Option(15.0, "--timeout", min=0.1, help="seconds per HTTP request"),
) -> None:
    """Configuration: flags > FLEET_API_URL/FLEET_TOKEN > profile file > the local stack's .devstack/stack.json."""
    _state.set(State(api_url=api_url, token=token, profile=profile, timeout=timeout))
