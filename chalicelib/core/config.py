"""Settings from the environment, validated once per process."""
from __future__ import annotations

import os
from collections.abc import Mapping
from functools import lru_cache
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from chalicelib.core.policies import (
    BatchPolicy,
    CertificatePolicy,
    CommandPolicy,
    DevicePolicy,
    FanoutPolicy,
    FirmwarePolicy,
    HttpLimits,
    ImportPolicy,
    JobLimits,
    Section,
    TwinLimits,
)

PREFIX = "FLEET_"
SECTIONS = ("http", "devices", "commands", "twin", "jobs", "sites", "command_batches", "device_imports",
            "certificates", "firmware")


class Settings(BaseModel):
    """Every knob the functions read: shared ones flat, each feature's in its own section.

    Built from the `FLEET_*` variables of `.chalice/config.json` by `from_env`; a flat
    keyword (`Settings(job_ttl_max_h=48)`) lands in its section the same way.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    stage: str = "local"
    version: str = "0.1.0"
    aws_region: str = "us-east-1"

    # Storage. An empty endpoint means real DynamoDB.
    table_prefix: str = "fleet-local"
    ddb_endpoint: str = ""
    ddb_max_retries: int = Field(default=5, ge=0, le=20)
    ddb_max_pool_connections: int = Field(default=32, ge=1, le=512)

    # Operator auth. HS256 with a shared secret locally, RS256 against a JWKS URL in prod.
    jwt_secret: str = Field(default="", repr=False)  # never shown
    jwt_algorithms: str = "HS256"
    jwt_jwks_url: str = ""
    jwt_issuer: str = ""
    jwt_audience: str = ""
    jwt_tenant_claim: str = "tenant_id"
    jwt_subject_claim: str = "sub"

    # Messaging.
    mqtt_backend: Literal["paho", "iot-data", "none"] = "paho"
    mqtt_host: str = "127.0.0.1"
    mqtt_port: int = 1883
    mqtt_username: str = ""
    mqtt_password: str = Field(default="", repr=False)  # never shown
    mqtt_client_id: str = ""
    mqtt_publish_timeout_s: float = Field(default=2.0, gt=0, le=30)
    iot_data_endpoint: str = ""
    # Serve AWS IoT's reserved shadow and jobs topics ($aws/things/...) for devices written for
    # AWS IoT. Unset: on with a self-hosted broker (paho), off on AWS IoT Core (iot-data),
    # which serves those topics itself and refuses publishes to them.
    aws_iot_topics: bool | None = None

    def serves_aws_iot_topics(self) -> bool:
        """Whether the `$aws/things/...` shadow and jobs topics are served by this stage."""
        return self.mqtt_backend == "paho" if self.aws_iot_topics is None else self.aws_iot_topics
    # Shared secret a self-hosted broker sends to /broker/authn and /broker/authz; empty disables them.
    broker_auth_secret: str = Field(default="", repr=False)  # never shown

    # Hosts a provisioning template's pre-provisioning hook may reach over plain HTTP or at a non-public
    # address (comma-separated; empty: HTTPS to public addresses only).
    provisioning_hook_insecure_hosts: str = ""

    # Sharding of the sparse "due" indexes the schedules query (each section reads it too).
    schedule_shards: int = Field(default=4, ge=1, le=64)

    # Each feature's own section; every field still reads its flat FLEET_ variable.
    http: HttpLimits = HttpLimits()
    devices: DevicePolicy = DevicePolicy()
    commands: CommandPolicy = CommandPolicy()
    twin: TwinLimits = TwinLimits()
    jobs: JobLimits = JobLimits()
    sites: FanoutPolicy = FanoutPolicy()
    command_batches: BatchPolicy = BatchPolicy()
    device_imports: ImportPolicy = ImportPolicy()
    certificates: CertificatePolicy = CertificatePolicy()
    firmware: FirmwarePolicy = FirmwarePolicy()

    @model_validator(mode="before")
    @classmethod
    def _sections_from_flat_names(cls, data: Any) -> Any:
        """Hand the flat mapping to each section not given explicitly; each keeps its own names."""
        if not isinstance(data, dict):
            return data
        flat = {str(k).lower(): v for k, v in data.items()}
        return {**flat, **{name: flat for name in SECTIONS if name not in flat}}

    @model_validator(mode="after")
    def _derived(self) -> Settings:
        """Jobs notify on AWS IoT's topics exactly when this stage serves them."""
        served = self.serves_aws_iot_topics()
        if self.jobs.aws_iot_topics != served:
            object.__setattr__(self, "jobs", self.jobs.model_copy(update={"aws_iot_topics": served}))
        return self

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """The settings of the `FLEET_*` variables (case-insensitive); others are ignored."""
        source = os.environ if environ is None else environ
        # A section is not a variable: FLEET_JOBS and the like were never read, so they are ignored.
        flat = {k[len(PREFIX):].lower(): v for k, v in source.items() if k.upper().startswith(PREFIX)}
        return cls.model_validate({k: v for k, v in flat.items() if k not in SECTIONS})

    @classmethod
    def env_names(cls) -> set[str]:
        """Every `FLEET_*` variable a setting reads."""
        flat = {name for name, info in cls.model_fields.items() if name not in SECTIONS}
        for name in SECTIONS:
            section = cls.model_fields[name].annotation
            assert isinstance(section, type) and issubclass(section, Section)
            flat |= {str(info.validation_alias) for info in section.model_fields.values() if info.validation_alias}
        return {f"{PREFIX}{name.upper()}" for name in flat}

    def table_name(self, suffix: str) -> str:
        """Physical name of one of our tables."""
        return f"{self.table_prefix}-{suffix}"


class MisconfiguredStage(RuntimeError):
    """The stage's FLEET_* variables do not validate: a fault of the deployment, never of a caller."""


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings; tests clear the cache after changing env.

    They load on a function's first call, inside the route edge: a ValidationError there
    would read as the caller's 400 naming a setting, so it is raised as what it is.
    """
    try:
        return Settings.from_env()
    except ValidationError as exc:
        # Each setting and what is wrong with it, never the value: a value may be a secret.
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors(include_input=False))
        raise MisconfiguredStage(f"the FLEET_* settings do not validate: {problems}") from None
