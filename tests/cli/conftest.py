"""A `make run` stack for the CLI tests, shared by the package, and a way to run `fleet` against it."""
from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from typer.testing import CliRunner

from fleet_cli.main import app
from tests.stack_support import RunningStack, stack_process

LocalStack = RunningStack  # the name the CLI tests know it by


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
    with stack_process(tmp_path_factory.mktemp("cli-stack")) as stack:
        yield stack


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
