"""Running `python -m infra.local.stack` (what `make run` runs) as a process of its own, on free ports.

The one way every process-level test (integration, CLI, browser) starts and stops a stack.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import requests

from infra.local.processes import free_port
from infra.local.stack_options import StackOptions

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class RunningStack:
    """A started stack: its process, its stack.json, its working directory and the environment it got."""

    proc: subprocess.Popen[bytes]
    info: dict[str, Any]
    workdir: Path
    output: Path
    env: dict[str, str]

    @property
    def api(self) -> str:
        return str(self.info["api_url"])

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.info['operator_token']}"}

    def get(self, path: str) -> Any:
        resp = requests.get(f"{self.api}{path}", headers=self.auth, timeout=15)
        assert resp.status_code == 200, (path, resp.status_code, resp.text)
        return resp.json()

    def post(self, path: str, body: Any) -> Any:
        resp = requests.request("POST", f"{self.api}{path}", json=body, headers=self.auth, timeout=15)
        assert resp.status_code in (200, 201, 202), (path, resp.status_code, resp.text)
        return resp.json()

    def state(self) -> dict[str, Any]:
        return dict(json.loads((self.workdir / "stack.json").read_text()))

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        return int(self.proc.returncode)


def start_stack(workdir: Path, timeout: float = 180.0, **env: str) -> RunningStack:
    """Start the stack with its state under workdir; fails the test with its output if it never comes up."""
    # Every port the stack reads from the environment (API_PORT, MQTT_PORT, ...) is a free one.
    ports = {f.name.upper(): str(free_port()) for f in fields(StackOptions) if f.name.endswith("_port")}
    environ = {**os.environ, **ports, "STACK_DIR": str(workdir)}
    for key in [k for k in environ if k.startswith("FLEET_")]:
        environ.pop(key)  # the stack must configure itself, not inherit the test session's settings
    environ.update(env)
    workdir.mkdir(parents=True, exist_ok=True)
    output = workdir / f"stack-{time.monotonic_ns()}.out"
    with open(output, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "infra.local.stack"], cwd=ROOT, env=environ,
                                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    state = workdir / "stack.json"
    deadline = time.monotonic() + timeout
    while not state.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            proc.wait(10)
            raise AssertionError(f"stack did not come up:\n{output.read_text()[-3000:]}")
        time.sleep(0.2)
    return RunningStack(proc, json.loads(state.read_text()), workdir, output, environ)


@contextmanager
def stack_process(workdir: Path, timeout: float = 180.0, **env: str) -> Iterator[RunningStack]:
    """A started stack for the duration of the block; stopped (SIGTERM, then kill) however the block ends."""
    stack = start_stack(workdir, timeout, **env)
    try:
        yield stack
    finally:
        stack.stop()


def wait_for(predicate: Callable[[], object], timeout: float, step: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return bool(predicate())
