"""`make localstack`: LocalStack Community on this machine without Docker, and the `localstack` stage's broker.

    make localstack          # LOCALSTACK_PORT (4566), MQTT_PORT (1883), MQTT_SERVICE_PORT (1884); Ctrl-C stops
    make deploy-local        # in another terminal: package the template and deploy it into this LocalStack

LocalStack runs from its own virtualenv (`.venv-localstack`, Python 3.12+) on loopback with
its data under `.devstack/localstack/`; its Lambda functions run as host processes (our
plugin, infra/localstack/host_lambda) under this interpreter's base Python, the version
`chalice package` builds the zip for. Mosquitto follows the registry's device credentials
in LocalStack's DynamoDB, and the bridge invokes the deployed `device_message` through
LocalStack, as in the compose file. `localstack.json` in the data folder says where
everything listens (`make deploy-local` and the tests read it).
"""
from __future__ import annotations

import json
import logging
import os
import secrets
import shutil
import signal
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.local.broker import Broker, ServiceUser, bridge_acl, cloud_acl, observer_acl
from infra.local.processes import Child, python_module
from infra.local.supervisor import Supervisor
from infra.localstack import host_files
from infra.localstack.stage import STAGE, stage_variables

log = logging.getLogger("localstack-host")
ROOT = Path(__file__).resolve().parents[2]
SERVICES = "dynamodb,lambda,apigateway,iam,sts,events,logs,sqs,cloudformation,s3,kms"
REGION = "us-east-1"


@dataclass
class HostOptions:
    """Where LocalStack and the broker listen and keep their data."""

    workdir: Path = ROOT / ".devstack" / "localstack"
    venv: Path = ROOT / ".venv-localstack"
    port: int = 4566
    mqtt_port: int = 1883
    mqtt_service_port: int = 1884

    @classmethod
    def from_env(cls, env: dict[str, str]) -> HostOptions:
        return cls(workdir=Path(env.get("LOCALSTACK_DIR", str(cls.workdir))),
                   venv=Path(env.get("LOCALSTACK_VENV", str(cls.venv))),
                   port=int(env.get("LOCALSTACK_PORT", 4566)), mqtt_port=int(env.get("MQTT_PORT", 1883)),
                   mqtt_service_port=int(env.get("MQTT_SERVICE_PORT", 1884)))

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def function_python() -> str:
    """The interpreter the functions run under: this one's base (the venv's packages stay out)."""
    return str(getattr(sys, "_base_executable", sys.executable))


def localstack_env(o: HostOptions) -> dict[str, str]:
    """LocalStack's configuration: on the host, on loopback, nothing downloaded, functions as processes."""
    return {
        "OVERRIDE_IN_DOCKER": "0",
        "FILESYSTEM_ROOT": str(o.workdir / "filesystem"),
        "GATEWAY_LISTEN": f"127.0.0.1:{o.port}",
        "LOCALSTACK_HOST": f"127.0.0.1:{o.port}",
        "SERVICES": SERVICES,
        "SKIP_SSL_CERT_DOWNLOAD": "1",
        "DNS_ADDRESS": "0",  # no DNS server on port 53
        "DISABLE_EVENTS": "1",  # no analytics
        "EAGER_SERVICE_LOADING": "1",  # services load at start (while the template is packaged), not on first use
        "LAMBDA_RUNTIME_EXECUTOR": "host",
        "HOST_LAMBDA_PYTHON": function_python(),
        "PYTHONUNBUFFERED": "1",
    }


def service_users(variables: dict[str, str]) -> dict[str, ServiceUser]:
    """The stage's publisher (its password is the stage's), the bridge and test observers (fresh ones)."""
    return {
        "cloud": ServiceUser(variables["FLEET_MQTT_USERNAME"], variables["FLEET_MQTT_PASSWORD"], cloud_acl()),
        "bridge": ServiceUser("svc-bridge", secrets.token_urlsafe(16), bridge_acl()),
        "observer": ServiceUser("svc-observer", secrets.token_urlsafe(16), observer_acl()),
    }


def wait_healthy(endpoint: str, child: Child, timeout: float = 120.0) -> None:
    """Until LocalStack's health endpoint answers (its services start lazily on first use)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not child.alive():
            raise RuntimeError(f"LocalStack exited with {child.returncode}: see {child.log_path}")
        try:
            with urllib.request.urlopen(f"{endpoint}/_localstack/health", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise TimeoutError(f"LocalStack not healthy after {timeout}s: see {child.log_path}")


class HostLocalStack:
    """LocalStack, Mosquitto, the credential sync and the bridge, supervised; `stop()` ends all of them."""

    def __init__(self, o: HostOptions) -> None:
        self.o = o
        self.variables = stage_variables()
        self.users = service_users(self.variables)
        self.supervisor = Supervisor()
        self.children: list[Child] = []
        self.broker: Broker | None = None
        self._stop = threading.Event()
        self._sync_thread: threading.Thread | None = None

    def env(self) -> dict[str, str]:
        """What this process and the bridge run with: LocalStack's DynamoDB and Lambda, dummy credentials."""
        return {
            "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": REGION,
            "FLEET_AWS_REGION": REGION,
            "FLEET_TABLE_PREFIX": self.variables["FLEET_TABLE_PREFIX"],
            "FLEET_DDB_ENDPOINT": self.o.endpoint,
            "BRIDGE_MQTT_HOST": "127.0.0.1",
            "BRIDGE_MQTT_PORT": str(self.o.mqtt_service_port),
            "BRIDGE_MQTT_USERNAME": self.users["bridge"].username,
            "BRIDGE_MQTT_PASSWORD": self.users["bridge"].password,
            "BRIDGE_INVOKER": "lambda",
            "BRIDGE_LAMBDA_FUNCTION_NAME": f"fleet-control-plane-{STAGE}-device_message",
            "BRIDGE_LAMBDA_ENDPOINT": self.o.endpoint,
            "BRIDGE_AWS_REGION": REGION,
            "PYTHONUNBUFFERED": "1",
        }

    def start(self) -> HostLocalStack:
        """Start LocalStack, then the broker, then the bridge; on failure stop what started."""
        python = self.o.venv / "bin" / "python"
        if not python.exists():
            raise SystemExit(f"{python} is missing: run `make localstack-venv` (LocalStack's own virtualenv)")
        logs = self.o.workdir / "logs"
        env = self.env()
        os.environ.update(env)
        try:
            # LocalStack keeps its state in memory: what its last run left in tmp (unzipped code) is garbage.
            shutil.rmtree(self.o.workdir / "filesystem" / "tmp", ignore_errors=True)
            host_files.prepare(self.o.workdir / "filesystem")
            localstack = self._watch(Child("localstack", [str(python), "-m", "localstack.runtime.main"],
                                           logs / "localstack.log", localstack_env(self.o)).start())
            wait_healthy(self.o.endpoint, localstack)
            broker = self.broker = Broker(self.o.workdir / "broker", self.o.mqtt_port, list(self.users.values()),
                                          service_port=self.o.mqtt_service_port, log_path=logs / "mosquitto.log")
            self.supervisor.add("mosquitto", broker.start, lambda: broker.child is not None and broker.child.alive(),
                                broker.stop)
            broker.start()
            self._watch(Child("bridge", python_module("mqtt_bridge"), logs / "bridge.log", env).start())
            self._sync_thread = threading.Thread(target=self._sync_credentials, name="credential-sync", daemon=True)
            self._sync_thread.start()
            self.supervisor.start()
        except BaseException:
            self.stop()
            raise
        return self

    def _watch(self, child: Child) -> Child:
        self.children.append(child)
        self.supervisor.add(child.name, child.start, child.alive, child.stop)
        return child

    def _sync_credentials(self) -> None:
        """Device credentials into the broker once `make deploy-local` has created the tables."""
        from chalicelib.container import container
        from infra.local.credential_sync import CredentialSync

        assert self.broker is not None
        sync = CredentialSync(container().device_repository, self.broker)
        while not self._stop.wait(1.0):
            try:
                sync.sync_once()
            except Exception as exc:  # no tables before the first deploy; LocalStack restarting
                log.debug("credential sync: %s", exc)

    def state(self) -> dict[str, Any]:
        """localstack.json: where LocalStack and the broker listen, and who this is."""
        return {"endpoint": self.o.endpoint, "region": REGION, "pid": os.getpid(),
                "mqtt": {"host": "127.0.0.1", "port": self.o.mqtt_port, "service_port": self.o.mqtt_service_port},
                "observer": {"username": self.users["observer"].username,
                             "password": self.users["observer"].password}}

    def write_state(self) -> Path:
        path = self.o.workdir / "localstack.json"
        tmp = path.with_suffix(".tmp")
        tmp.touch(mode=0o600)
        tmp.write_text(json.dumps(self.state(), indent=2))
        tmp.replace(path)
        return path

    def stop(self) -> None:
        """Stop the credential sync, then every process (bridge, broker, LocalStack and its functions)."""
        self._stop.set()
        if self._sync_thread is not None:
            self._sync_thread.join(5)
        self.supervisor.stop()
        (self.o.workdir / "localstack.json").unlink(missing_ok=True)


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    o = HostOptions.from_env(dict(os.environ))
    stack = HostLocalStack(o)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    stack.start()
    path = stack.write_state()
    print(f"LocalStack on {o.endpoint}, Mosquitto on 127.0.0.1:{o.mqtt_port} (devices) and "
          f"{o.mqtt_service_port} (services); logs in {o.workdir / 'logs'}; state in {path}", flush=True)
    print("deploy with `make deploy-local`; Ctrl-C stops everything", flush=True)
    try:
        done.wait()
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
