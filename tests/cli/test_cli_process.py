"""The installed `fleet` entry point as a process: it finds the local stack by itself."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.conftest import LocalStack

pytestmark = pytest.mark.slow

FLEET = Path(sys.executable).parent / "fleet"


def _run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(FLEET), *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120)


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("FLEET_") and k != "STACK_DIR"}


def test_the_venv_has_a_fleet_command() -> None:
    assert FLEET.is_file() and os.access(FLEET, os.X_OK)
    helped = subprocess.run([str(FLEET), "--help"], capture_output=True, text=True, timeout=60,
                            env=_clean_env(), cwd="/")
    assert helped.returncode == 0 and "devices" in helped.stdout and "jobs" in helped.stdout


def test_fleet_finds_devstack_state_from_a_subfolder(local_stack: LocalStack, tmp_path: Path) -> None:
    # Given a project folder whose .devstack/stack.json is the running stack's, and no other configuration
    (tmp_path / ".devstack").mkdir()
    (tmp_path / ".devstack" / "stack.json").write_text((local_stack.workdir / "stack.json").read_text())
    nested = tmp_path / "a" / "b"
    nested.mkdir(parents=True)
    env = {**_clean_env(), "FLEET_CONFIG": str(tmp_path / "none.toml")}
    # When fleet runs two folders below it
    listed = _run(["devices", "list", "--json"], env, nested)
    # Then it used the stack's URL and operator token
    assert listed.returncode == 0, listed.stderr
    assert {d["device_id"] for d in local_stack.info["devices"]} <= {d["device_id"] for d in json.loads(listed.stdout)}


def test_process_errors_are_one_line_and_a_status(local_stack: LocalStack, tmp_path: Path) -> None:
    env = {**_clean_env(), "STACK_DIR": str(local_stack.workdir), "FLEET_CONFIG": str(tmp_path / "none.toml")}
    missing = _run(["jobs", "show", "no-such-job"], env, tmp_path)
    assert missing.returncode == 1 and missing.stdout == ""
    assert missing.stderr.startswith("error: HTTP 404") and "Traceback" not in missing.stderr
    wrong_token = _run(["--token", "not-a-jwt", "devices", "list"], env, tmp_path)
    assert wrong_token.returncode == 1 and "HTTP 401" in wrong_token.stderr
    unconfigured = _run(["devices", "list"], {**_clean_env(), "FLEET_CONFIG": str(tmp_path / "none.toml")}, tmp_path)
    assert unconfigured.returncode == 2 and "no API URL" in unconfigured.stderr
