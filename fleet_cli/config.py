"""Where the CLI finds the API and its token: flags, environment, a profile file, the local stack."""
from __future__ import annotations

import ipaddress
import json
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fleet_cli.errors import ConfigError

ENV_URL = "FLEET_API_URL"
ENV_TOKEN = "FLEET_TOKEN"
ENV_PROFILE = "FLEET_PROFILE"
ENV_CONFIG = "FLEET_CONFIG"
DEFAULT_PROFILE = "default"
STACK_FILE = Path(".devstack") / "stack.json"


@dataclass(frozen=True)
class Connection:
    """The resolved API base URL and operator token, and where each came from."""

    api_url: str
    token: str | None
    source: str


def config_path(env: dict[str, str]) -> Path:
    """The profile file: $FLEET_CONFIG, else $XDG_CONFIG_HOME/fleet/config.toml, else ~/.config/fleet/config.toml."""
    if env.get(ENV_CONFIG):
        return Path(env[ENV_CONFIG]).expanduser()
    base = Path(env["XDG_CONFIG_HOME"]) if env.get("XDG_CONFIG_HOME") else Path.home() / ".config"
    return base / "fleet" / "config.toml"


def read_profile(path: Path, name: str, required: bool) -> dict[str, Any]:
    """One `[name]` table of the profile file; an explicitly chosen profile must exist."""
    if not path.is_file():
        if required:
            raise ConfigError(f"profile {name!r} requested but {path} does not exist")
        return {}
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from exc
    profile = data.get(name)
    if profile is None:
        if required:
            raise ConfigError(f"profile {name!r} not found in {path} (have: {', '.join(sorted(data)) or 'none'})")
        return {}
    if not isinstance(profile, dict):
        raise ConfigError(f"{path}: [{name}] must be a table with api_url and token")
    return profile


def find_stack_file(start: Path, env: dict[str, str]) -> Path | None:
    """The running local stack's state: $STACK_DIR/stack.json, else .devstack/stack.json from `start` upward."""
    if env.get("STACK_DIR"):
        candidate = Path(env["STACK_DIR"]) / "stack.json"
        return candidate if candidate.is_file() else None
    for folder in (start, *start.parents):
        candidate = folder / STACK_FILE
        if candidate.is_file():
            return candidate
    return None


def read_stack(path: Path | None) -> dict[str, Any]:
    """api_url and operator_token of a local stack, or nothing."""
    if path is None:
        return {}
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from exc
    return {"api_url": data.get("api_url"), "token": data.get("operator_token"), "_path": str(path)}


def resolve(api_url: str | None, token: str | None, profile: str | None,
            env: dict[str, str] | None = None, cwd: Path | None = None) -> Connection:
    """Each value from the first of: flag, environment, profile file, local stack."""
    env = dict(os.environ) if env is None else env
    name = profile or env.get(ENV_PROFILE) or DEFAULT_PROFILE
    path = config_path(env)
    layers: list[tuple[str, dict[str, Any]]] = [
        ("flag", {"api_url": api_url, "token": token}),
        ("environment", {"api_url": env.get(ENV_URL), "token": env.get(ENV_TOKEN)}),
        (f"profile {name} ({path})", read_profile(path, name, required=profile is not None)),
    ]
    if profile is None:  # a chosen profile is never mixed with the local stack
        stack = read_stack(find_stack_file(cwd or Path.cwd(), env))
        layers.append((f"local stack ({stack.get('_path')})", stack))
    url, url_source = _first(layers, "api_url")
    if not url:
        raise ConfigError(f"no API URL: pass --api-url, set {ENV_URL}, add a profile to {path}, "
                          "or start the local stack with `make run`")
    if url_source.startswith("local stack"):
        # A stack file is found by walking up from the current folder, so anyone who can write
        # one there picks the URL: it gets only its own token, and only on a loopback address.
        if not _is_loopback(url):
            raise ConfigError(f"the local stack file names a non-loopback API URL ({url}); pass --api-url")
        # An explicit --token is this command's own choice; ambient ones (environment,
        # profile) never go to a URL a file chose.
        layers = [layer for layer in layers if layer[0] == "flag" or layer[0].startswith("local stack")]
    else:
        # The local stack's token belongs to the local stack: never send it to another URL.
        layers = [layer for layer in layers if not layer[0].startswith("local stack")]
    found, _ = _first(layers, "token")
    return Connection(api_url=url.rstrip("/"), token=found or None, source=url_source)


def _is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _first(layers: list[tuple[str, dict[str, Any]]], key: str) -> tuple[str | None, str]:
    for source, values in layers:
        value = values.get(key)
        if value:
            return str(value), source
    return None, ""
