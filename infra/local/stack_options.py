"""The local stack's options (ports, engine, switches) and its data directory."""
from __future__ import annotations

import os
import secrets
import shutil
from dataclasses import dataclass, field, fields
from pathlib import Path

from chalicelib.core.observability.log import log_level
from infra.local.ddb_server import engine_from_env
from infra.local.processes import free_port, reserve_ports

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class StackOptions:
    """Ports and switches; `make run` reads them from the environment."""

    workdir: Path = ROOT / ".devstack"
    api_port: int = 8000
    mqtt_port: int = 1883
    mqtt_service_port: int = 1884  # the listener of the cloud publisher, the bridge and observers
    mqtt_tls_port: int = 8883  # devices with a client certificate of the stack CA (mutual TLS)
    mqtt_tls_token_port: int = 8884  # devices with a provision token, over server-side TLS
    mqtt_claim_port: int = 8885  # boards enrolling with a claim certificate (fleet provisioning by claim)
    ddb_port: int = 8001
    s3_port: int = 8002  # SeaweedFS's S3 API (firmware images); its other parts take free ports
    console_port: int = 8080  # the operator console (a built frontend/dist)
    ddb_endpoint: str = ""  # set to use LocalStack or AWS instead of the embedded engine
    engine: str = "dynamodb-local"  # or "moto" (in memory, for machines without Java)
    fresh: bool = False  # start from an empty database and broker
    schedule_interval_s: float = 60.0
    with_bridge: bool = True
    with_scheduler: bool = True
    jwt_secret: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    table_prefix: str = "fleet-local"
    log_level: str = "INFO"  # of every process of ours: FLEET_LOG_LEVEL (or LOG_LEVEL) DEBUG, INFO, WARNING, ERROR

    def __post_init__(self) -> None:
        # Bound later, one component after another: no free_port of this process may answer one.
        reserve_ports(getattr(self, f.name) for f in fields(self) if f.name.endswith("_port"))

    @classmethod
    def from_env(cls) -> StackOptions:
        workdir = Path(os.environ.get("STACK_DIR", ROOT / ".devstack"))
        return cls(
            workdir=workdir,
            api_port=int(os.environ.get("API_PORT", 8000)),
            mqtt_port=int(os.environ.get("MQTT_PORT", 1883)),
            mqtt_service_port=int(os.environ.get("MQTT_SERVICE_PORT", 1884)),
            mqtt_tls_port=int(os.environ.get("MQTT_TLS_PORT", 8883)),
            mqtt_tls_token_port=int(os.environ.get("MQTT_TLS_TOKEN_PORT", 8884)),
            mqtt_claim_port=int(os.environ.get("MQTT_CLAIM_PORT", 8885)),
            ddb_port=int(os.environ.get("DDB_PORT", 8001)),
            s3_port=int(os.environ.get("S3_PORT", 8002)),
            console_port=int(os.environ.get("CONSOLE_PORT", 8080)),
            ddb_endpoint=os.environ.get("FLEET_DDB_ENDPOINT", ""),
            engine=engine_from_env(),
            fresh=os.environ.get("FRESH", "") not in ("", "0"),
            schedule_interval_s=float(os.environ.get("SCHEDULE_INTERVAL_S", 60)),
            jwt_secret=os.environ.get("FLEET_JWT_SECRET") or _local_secret(workdir / "secret"),
            table_prefix=os.environ.get("FLEET_TABLE_PREFIX") or "fleet-local",
            log_level=log_level(),
        )

    @classmethod
    def ephemeral(cls, workdir: Path, engine: str | None = None) -> StackOptions:
        """Free ports everywhere: for benchmarks next to a running `make run`."""
        return cls(workdir=workdir, api_port=free_port(), mqtt_port=free_port(), mqtt_service_port=free_port(),
                   mqtt_tls_port=free_port(), mqtt_tls_token_port=free_port(), mqtt_claim_port=free_port(),
                   ddb_port=free_port(),
                   s3_port=free_port(), console_port=free_port(),
                   engine=engine or engine_from_env(), schedule_interval_s=3600,
                   log_level=log_level())  # the bench's quiet default; the stack would put INFO into os.environ

    @property
    def ca_dir(self) -> Path:
        """The stack CA (its key 0600): kept across restarts, deleted by `make reset`."""
        return self.workdir / "ca"

    @property
    def s3_url(self) -> str:
        return f"http://127.0.0.1:{self.s3_port}"

    @property
    def firmware_bucket(self) -> str:
        return f"{self.table_prefix}-firmware"

    @property
    def ddb_url(self) -> str:
        return self.ddb_endpoint or f"http://127.0.0.1:{self.ddb_port}"


def reset_data(workdir: Path) -> None:
    """Forget the database, the firmware images, the broker's retained messages and sessions, and the CA, together.

    The CA goes with the database: certificates of a forgotten registry must not log in.
    """
    for path in (workdir / "dynamodb", workdir / "s3", workdir / "broker" / "data", workdir / "ca"):
        shutil.rmtree(path, ignore_errors=True)
    (workdir / "demo-tokens.json").unlink(missing_ok=True)


def _local_secret(path: Path) -> str:
    """The local JWT secret, kept across restarts so `make token` output stays valid."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(32)
    path.write_text(secret)
    path.chmod(0o600)
    return secret
