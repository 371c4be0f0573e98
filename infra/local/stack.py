"""`make run`: the whole product on loopback, with a demo tenant and simulated devices.

Starts the database (DynamoDB Local with its data under .devstack/dynamodb, or moto's
in-memory server with LOCAL_DDB=moto), Mosquitto (generated credentials and ACLs), the
API under chalice local, the MQTT bridge, a scheduler firing the per-minute functions,
and three simulated devices; writes .devstack/stack.json when everything is ready. A
process that dies is restarted with backoff (supervisor.py); Ctrl-C or SIGTERM stops
every process it started, and so does any failure on the way up.
"""
from __future__ import annotations

import json
import logging
import os
import signal
import socket
import threading
import time
from pathlib import Path
from typing import Any

import requests

from infra.local import broker_tls
from infra.local.broker import Broker, service_users
from infra.local.ddb_server import database_child, wait_ready
from infra.local.processes import Child, exit_text, python_module, wait_listening
from infra.local.s3_server import S3Server
from infra.local.stack_options import ROOT, StackOptions, reset_data
from infra.local.supervisor import Supervisor

log = logging.getLogger("stack")


class LocalStack:
    """Owns every process and thread of the local stack."""

    def __init__(self, options: StackOptions) -> None:
        self.o = options
        self.children: list[Child] = []
        self.users = service_users()
        self.broker: Broker | None = None
        self.ddb: Child | None = None
        self.s3: S3Server | None = None
        self.sync: Any = None
        self._threads: list[Any] = []
        self.supervisor = Supervisor(on_restart=self._restarted)
        self.on_restart: list[Any] = []  # callables(name, restarts), e.g. rewrite stack.json

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
            "FLEET_DDB_ENDPOINT": self.o.ddb_url,
            "FLEET_FIRMWARE_BUCKET": self.o.firmware_bucket,
            "FLEET_S3_ENDPOINT": self.o.s3_url,
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
            # Every process of ours logs JSON lines at this level (make logs shows them readably).
            "FLEET_CERTIFICATE_CA_DIR": str(self.o.ca_dir),
            "FLEET_LOG_LEVEL": self.o.log_level,
            "BRIDGE_LOG_LEVEL": self.o.log_level,
        }

    def start(self) -> LocalStack:
        """Start everything in dependency order; on failure stop what already started."""
        self.o.workdir.mkdir(parents=True, exist_ok=True)
        logs = self.o.workdir / "logs"
        env = self.env()
        os.environ.update(env)
        try:
            self._check_ports()
            if self.o.fresh:
                reset_data(self.o.workdir)
            if not self.o.ddb_endpoint:
                if self.o.engine == "moto":
                    # moto forgets everything: the broker must not remember more than the database.
                    reset_data(self.o.workdir)
                self.ddb = database_child(self.o.engine, self.o.ddb_port, self.o.workdir / "dynamodb",
                                          logs / "dynamodb.log").start()
                self._watch(self.ddb)
                wait_ready(self.o.ddb_url, self.ddb)
            self._start_s3(env, logs)
            tls, authority = broker_tls.prepare(self.o.ca_dir, self.o.workdir / "broker", self.o.mqtt_tls_port,
                                                self.o.mqtt_tls_token_port, self.o.mqtt_claim_port)
            broker = self.broker = Broker(self.o.workdir / "broker", self.o.mqtt_port, list(self.users.values()),
                                          service_port=self.o.mqtt_service_port, log_path=logs / "mosquitto.log",
                                          tls=tls)
            # Watched before it starts: a broker that fails its start-up is stopped with the rest.
            self.supervisor.add("mosquitto", broker.start, lambda: broker.child is not None and broker.child.alive(),
                                broker.stop, lambda: exit_text(broker.child))
            broker.start()

            from chalicelib.container import container, rebuild
            from chalicelib.core.storage import tables
            from chalicelib.features import all_models

            rebuild()
            tables.create_tables(container().settings, all_models())
            from infra.local.credential_sync import CredentialSync

            self.sync = CredentialSync(container().device_repository, broker,
                                       tls=broker_tls.TlsAccess(authority, tls, broker.tls_acl_path)).start()
            self.sync.sync_once(force=True)
            self._threads.append(self.sync)

            api = self._watch(Child("api", python_module("infra.local.api_server", "--port", str(self.o.api_port)),
                                    logs / "api.log", env).start())
            wait_listening(api, self.o.api_port)
            if self.o.with_bridge and (ROOT / "mqtt_bridge" / "__main__.py").exists():
                self._watch(Child("bridge", python_module("mqtt_bridge"), logs / "bridge.log", env).start())
            if self.o.with_scheduler:
                self._watch(Child("scheduler", python_module("infra.local.scheduler", "--interval",
                                                             str(self.o.schedule_interval_s)),
                                  logs / "schedules.log", env).start())
            self.supervisor.start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start_s3(self, env: dict[str, str], logs: Path) -> None:
        """SeaweedFS with its data under the work directory, supervised, and the stage's firmware bucket."""
        s3 = self.s3 = S3Server(self.o.workdir / "s3", logs / "s3.log", env["AWS_ACCESS_KEY_ID"],
                                env["AWS_SECRET_ACCESS_KEY"], s3_port=self.o.s3_port)
        self.supervisor.add("s3", s3.start, s3.alive, s3.stop, lambda: exit_text(s3.child))
        s3.start()
        s3.wait_ready()
        s3.ensure_bucket(self.o.firmware_bucket)

    def _check_ports(self) -> None:
        """Refuse to start next to whatever already listens on our ports (another stack, say)."""
        ports = {"API_PORT": self.o.api_port, "MQTT_PORT": self.o.mqtt_port,
                 "MQTT_SERVICE_PORT": self.o.mqtt_service_port, "CONSOLE_PORT": self.o.console_port,
                 "MQTT_TLS_PORT": self.o.mqtt_tls_port, "MQTT_TLS_TOKEN_PORT": self.o.mqtt_tls_token_port,
                 "MQTT_CLAIM_PORT": self.o.mqtt_claim_port,
                 "S3_PORT": self.o.s3_port}
        if not self.o.ddb_endpoint:
            ports["DDB_PORT"] = self.o.ddb_port
        for name, port in ports.items():
            with socket.socket() as probe:
                probe.settimeout(0.5)
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    raise RuntimeError(f"port {port} ({name}) is already in use: stop what listens there "
                                       f"or choose another {name}")

    def _watch(self, child: Child) -> Child:
        """Supervise a started child: restarted with backoff when it dies."""
        self.children.append(child)
        self.supervisor.add(child.name, child.start, child.alive, child.stop, lambda: exit_text(child))
        return child

    def _restarted(self, name: str, restarts: int) -> None:
        for hook in self.on_restart:
            hook(name, restarts)

    def restarts(self) -> dict[str, int]:
        """How many times each supervised process was restarted."""
        return self.supervisor.restarts()

    def state(self) -> dict[str, Any]:
        """What tools need to follow this stack (stack.json): its database, its restarts, its pid."""
        return {
            "database": {"engine": "external" if self.o.ddb_endpoint else self.o.engine,
                         "endpoint": self.o.ddb_url, "table_prefix": self.o.table_prefix},
            "s3": {"engine": "seaweedfs", "endpoint": self.o.s3_url, "bucket": self.o.firmware_bucket},
            "restarts": self.restarts(),
            "pid": os.getpid(),
            "processes": {c.name: c.pid for c in self.processes()},
        }

    def operator_token(self, tenant_id: str) -> str:
        from chalicelib.container import container
        from chalicelib.core.auth.operator import issue_local_token

        return issue_local_token(container().settings, tenant_id)

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
        broker = [self.broker.child] if self.broker and self.broker.child else []
        s3 = [self.s3.child] if self.s3 and self.s3.child else []
        return s3 + broker + self.children

    def child(self, name: str) -> Child:
        """The supervised child called `name` (dynamodb, api, bridge) or mosquitto."""
        if name == "mosquitto" and self.broker and self.broker.child:
            return self.broker.child
        if name == "s3" and self.s3 and self.s3.child:
            return self.s3.child
        return next(c for c in self.children if c.name == name)

    def stop(self) -> None:
        """Stop threads, then the bridge and API, then the broker, then the database."""
        for thread in reversed(self._threads):
            thread.stop()
        self._threads.clear()
        self.supervisor.stop()  # stops every supervised process, last started first
        self.children.clear()
        self.ddb = None
        self.s3 = None


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("botocore").setLevel(logging.WARNING)
    options = StackOptions.from_env()
    stack = LocalStack(options)
    stopping, up = threading.Event(), threading.Event()

    def on_signal(signum: int, frame: Any) -> None:
        stopping.set()
        if not up.is_set():
            raise SystemExit(128 + signum)  # interrupts start-up; the finally below stops what started

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    started = time.monotonic()
    state_file = options.workdir / "stack.json"
    sims: list[Any] = []
    try:
        stack.start()
        stack.wait_healthy()
        from infra.local.demo import print_banner, seed_demo, start_simulators

        info = seed_demo(stack)
        from infra.local.console import start_console

        start_console(stack, info)  # the operator console next to the API; adds console_url
        sims = start_simulators(stack, info)
        info.update(stack.state())
        _write_state(state_file, info)
        stack.on_restart.append(lambda name, n: _write_state(state_file, {**info, **stack.state()}))
        print_banner(stack, info, state_file, time.monotonic() - started)
        up.set()
        stopping.wait()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, signal.SIG_IGN)  # a second Ctrl-C must not cut the clean-up short
        for sim in sims:
            sim.stop()
        stack.stop()
        state_file.unlink(missing_ok=True)
        print("local stack stopped", flush=True)


def _write_state(path: Path, info: dict[str, Any]) -> None:
    tmp = path.with_suffix(".tmp")
    # It holds the operator token and every demo device's provision token: owner only, from the start.
    tmp.touch(mode=0o600)
    tmp.chmod(0o600)
    tmp.write_text(json.dumps(info, indent=2))
    tmp.replace(path)


if __name__ == "__main__":
    main()
