"""A `make run` stack for the CLI tests, shared by the package, and a way to run `fleet` against it."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from fleet_cli.main import app
from infra.local.processes import free_port
from infra.local.stack import StackOptions

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class LocalStack:
    """The stack's state file and the ports it was started on."""

    info: dict[str, Any]
    workdir: Path
    env: dict[str, str]


@dataclass
class Run:
    """One `fleet` invocation: exit status and both streams."""

    exit_code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


@pytest.fixture(scope="package")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    workdir = tmp_path_factory.mktemp("cli-stack")
    # Every port the stack reads from the environment (API_PORT, MQTT_PORT, ...) is a free one.
    ports = {f.name.upper(): str(free_port()) for f in fields(StackOptions) if f.name.endswith("_port")}
    env = {**os.environ, **ports, "STACK_DIR": str(workdir)}
    for key in [k for k in env if k.startswith("FLEET_")]:
        env.pop(key)  # the stack configures itself
    proc = subprocess.Popen([sys.executable, "-m", "infra.local.stack"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    state = workdir / "stack.json"
    deadline = time.monotonic() + 120
    while not state.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            out = proc.stdout.read().decode() if proc.stdout else ""
            proc.kill()
            pytest.fail(f"stack did not come up:\n{out[-3000:]}")
        time.sleep(0.2)
    try:
        yield LocalStack(json.loads(state.read_text()), workdir, env)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()


Fleet = Callable[..., Run]


@pytest.fixture
def fleet(local_stack: LocalStack) -> Fleet:
    """Run `fleet ARGS...` in-process against the stack (URL and token from the environment)."""
    env = {"FLEET_API_URL": local_stack.info["api_url"], "FLEET_TOKEN": local_stack.info["operator_token"],
           "FLEET_CONFIG": str(local_stack.workdir / "no-such-config.toml"), "COLUMNS": "200"}

    def run(*args: str) -> Run:
        result = CliRunner().invoke(app, list(args), env=env)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return Run(result.exit_code, result.stdout, result.stderr)

    return run
