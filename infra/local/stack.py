"""`make run`: the whole product on loopback, with a demo tenant and simulated devices.

Starts moto's DynamoDB server, Mosquitto (generated credentials and ACLs), the API under
chalice local, the MQTT bridge, a scheduler firing the per-minute functions, and three
simulated devices; writes .devstack/stack.json when everything is ready; Ctrl-C or
SIGTERM stops every process it started.
"""
from __future__ import annotations

import json
import logging
import os
import secrets
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from infra.local.broker import Broker, service_users
from infra.local.processes import Child, free_port, python_module, wait_for_port

log = logging.getLogger("stack")
ROOT = Path(__file__).resolve().parents[2]


@dataclass
class StackOptions:
    """Ports and switches; `make run` reads them from the environment."""

    workdir: Path = ROOT / ".devstack"
    api_port: int = 8000
    mqtt_port: int = 1883
    mqtt_service_port: int = 1884  # the listener of the cloud publisher, the bridge and observers
    ddb_port: int = 8001
    ddb_endpoint: str = ""  # set to use LocalStack or AWS instead of the embedded emulator
    schedule_interval_s: float = 60.0
    with_bridge: bool = True
    with_scheduler: bool = True
    jwt_secret: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    table_prefix: str = "fleet-local"

    @classmethod
    def from_env(cls) -> StackOptions:
        workdir = Path(os.environ.get("STACK_DIR", ROOT / ".devstack"))
        return cls(
            workdir=workdir,
            api_port=int(os.environ.get("API_PORT", 8000)),
            mqtt_port=int(os.environ.get("MQTT_PORT", 1883)),
            mqtt_service_port=int(os.environ.get("MQTT_SERVICE_PORT", 1884)),
            ddb_port=int(os.environ.get("DDB_PORT", 8001)),
            ddb_endpoint=os.environ.get("FLEET_DDB_ENDPOINT", ""),
            schedule_interval_s=float(os.environ.get("SCHEDULE_INTERVAL_S", 60)),
            jwt_secret=os.environ.get("FLEET_JWT_SECRET") or _local_secret(workdir / "secret"),
        )

    @classmethod
    def ephemeral(cls, workdir: Path) -> StackOptions:
        """Free ports everywhere: for benchmarks next to a running `make run`."""
        return cls(workdir=workdir, api_port=free_port(), mqtt_port=free_port(), mqtt_service_port=free_port(),
                   ddb_port=free_port(),
                   schedule_interval_s=3600)


def _local_secret(path: Path) -> str:
    """The local JWT secret, kept across restarts so `make token` output stays valid."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(32)
    path.write_text(secret)
    path.chmod(0o600)
    return secret


class LocalStack:
    """Owns every process and thread of the local stack."""

    def __init__(self, options: StackOptions) -> None:
        self.o = options
        self.children: list[Child] = []
        self.users = service_users()
        self.broker: Broker | None = None
        self.ddb: Child | None = None
        self.sync: Any = None
        self._threads: list[Any] = []

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.o.api_port}"

    def env(self) -> dict[str, str]:
        """The settings every component of the stack shares."""
        return {
            "AWS_ACCESS_KEY_ID": os.environ.get("AWS_ACCESS_KEY_ID", "local"),
            "AWS_SECRET_ACCESS_KEY": os.environ.get("AWS_SECRET_ACCESS_KEY", "local"),
            "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
            "FLEET_STAGE": "local",
            "FLEET_TABLE_PREFIX": self.o.table_prefix,
            "FLEET_DDB_ENDPOINT": self.o.ddb_endpoint or f"http://127.0.0.1:{self.o.ddb_port}",
            "FLEET_JWT_SECRET": self.o.jwt_secret,
            "FLEET_MQTT_BACKEND": "paho",
            "FLEET_MQTT_HOST": "127.0.0.1",
            "FLEET_MQTT_PORT": str(self.o.mqtt_service_port),
            "FLEET_MQTT_USERNAME": self.users["cloud"].username,
            "FLEET_MQTT_PASSWORD": self.users["cloud"].password,
            "BRIDGE_MQTT_HOST": "127.0.0.1",
            "BRIDGE_MQTT_PORT": str(self.o.mqtt_service_port),
            "BRIDGE_MQTT_USERNAME": self.users["bridge"].username,
            "BRIDGE_MQTT_PASSWORD": self.users["bridge"].password,
            "BRIDGE_INVOKER": "in-process",
            "PYTHONUNBUFFERED": "1",
        }

    def start(self) -> LocalStack:
        """Start everything in dependency order; on failure stop what already started."""
        self.o.workdir.mkdir(parents=True, exist_ok=True)
        logs = self.o.workdir / "logs"
        env = self.env()
        os.environ.update(env)
        try:
            if not self.o.ddb_endpoint:
                self.ddb = Child("dynamodb", python_module("infra.local.ddb_server", "--port", str(self.o.ddb_port)),
                                 logs / "dynamodb.log").start()
                wait_for_port("127.0.0.1", self.o.ddb_port, proc=self.ddb.proc)
            self.broker = Broker(self.o.workdir / "broker", self.o.mqtt_port, list(self.users.values()),
                                 service_port=self.o.mqtt_service_port).start()

            from chalicelib import wiring
            from chalicelib.storage import tables

            wiring.reset()
            tables.create_tables(wiring.settings())
            from infra.local.credential_sync import CredentialSync

            self.sync = CredentialSync(wiring.device_repository(), self.broker).start()
            self.sync.sync_once(force=True)
            self._threads.append(self.sync)

            api = Child("api", python_module("infra.local.api_server", "--port", str(self.o.api_port)),
                        logs / "api.log", env).start()
            self.children.append(api)
            wait_for_port("127.0.0.1", self.o.api_port, proc=api.proc)
            if self.o.with_bridge and (ROOT / "mqtt_bridge" / "__main__.py").exists():
                self.children.append(Child("bridge", python_module("mqtt_bridge"), logs / "bridge.log", env).start())
            if self.o.with_scheduler:
                from app import app
                from infra.local.scheduler import Scheduler

                self._threads.append(Scheduler(app, self.o.schedule_interval_s).start())
        except BaseException:
            self.stop()
            raise
        return self

    def operator_token(self, tenant_id: str) -> str:
        from chalicelib import wiring
        from chalicelib.services.operator_auth import issue_local_token

        return issue_local_token(wiring.settings(), tenant_id)

    def wait_healthy(self, timeout: float = 30.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        last: dict[str, Any] = {}
        while time.monotonic() < deadline:
            try:
                resp = requests.get(f"{self.api_url}/health", timeout=3)
                last = resp.json()
                if resp.status_code == 200:
                    return last
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise TimeoutError(f"API not healthy after {timeout}s: {last}")

    def processes(self) -> list[Child]:
        """Every child process currently owned, for liveness checks."""
        owned = [c for c in (self.ddb, self.broker.child if self.broker else None) if c is not None]
        return owned + self.children

    def stop(self) -> None:
        """Stop threads, then the API and bridge, then the broker, then the database."""
        for thread in reversed(self._threads):
            thread.stop()
        self._threads.clear()
        for child in reversed(self.children):
            child.stop()
        self.children.clear()
        if self.broker:
            self.broker.stop()
        if self.ddb:
            self.ddb.stop()
            self.ddb = None


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("botocore").setLevel(logging.WARNING)
    options = StackOptions.from_env()
    stack = LocalStack(options)
    stopping = threading.Event()

    def on_signal(signum: int, frame: Any) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    started = time.monotonic()
    stack.start()
    sims = []
    try:
        stack.wait_healthy()
        from infra.local.demo import print_banner, seed_demo, start_simulators

        info = seed_demo(stack)
        from infra.local.console import start_console

        start_console(stack, info)  # the operator console next to the API; adds console_url
        sims = start_simulators(stack, info)
        state_file = options.workdir / "stack.json"
        # It holds the operator token and every demo device's provision token: owner only.
        state_file.touch(mode=0o600)
        state_file.chmod(0o600)
        state_file.write_text(json.dumps(info, indent=2))
        print_banner(stack, info, state_file, time.monotonic() - started)
        while not stopping.wait(1.0):
            dead = [c.name for c in stack.processes() if not c.alive()]
            if dead:
                log.error("stopping: %s exited (see %s)", ", ".join(dead), options.workdir / "logs")
                break
    finally:
        for sim in sims:
            sim.stop()
        stack.stop()
        (options.workdir / "stack.json").unlink(missing_ok=True)
        print("local stack stopped")


if __name__ == "__main__":
    main()
