"""Settings from the environment, validated once per process."""
from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every knob the functions read; names match `.chalice/config.json`."""

    model_config = SettingsConfigDict(env_prefix="FLEET_", extra="ignore")

    stage: str = "local"
    version: str = "0.1.0"
    aws_region: str = "us-east-1"

    # Storage. An empty endpoint means real DynamoDB.
    table_prefix: str = "fleet-local"
    ddb_endpoint: str = ""
    ddb_max_retries: int = Field(default=5, ge=0, le=20)
    ddb_max_pool_connections: int = Field(default=32, ge=1, le=512)

    # Operator auth. HS256 with a shared secret locally, RS256 against a JWKS URL in prod.
    jwt_secret: str = ""
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
    mqtt_password: str = ""
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
    broker_auth_secret: str = ""

    # HTTP edge.
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    page_size_default: int = Field(default=50, ge=1, le=1000)
    page_size_max: int = Field(default=200, ge=1, le=1000)

    # Devices.
    last_seen_resolution_s: int = Field(default=60, ge=0)
    # A device not heard from for this long is away: its next message makes the cloud
    # republish its queued commands. Keep it above last_seen_resolution_s plus the heartbeat.
    device_away_after_s: int = Field(default=120, ge=1)

    # Commands.
    command_ttl_default_min: int = Field(default=60, ge=1)
    command_ttl_max_min: int = Field(default=7 * 24 * 60, ge=1)
    command_publish_max_attempts: int = Field(default=3, ge=1, le=20)
    command_retry_interval_s: int = Field(default=30, ge=1)
    command_pending_limit: int = Field(default=100, ge=1, le=1000)
    command_sweep_limit: int = Field(default=1000, ge=25, le=10000)
    command_retention_days: int = Field(default=90, ge=1)
    idempotency_ttl_h: int = Field(default=24, ge=1)

    # Twin.
    twin_max_doc_bytes: int = Field(default=8 * 1024, ge=64)
    twin_max_depth: int = Field(default=6, ge=1, le=32)
    twin_stale_after_s: int = Field(default=3600, ge=1)
    # Optimistic-concurrency retries of one twin write; each failure means another write won.
    twin_write_attempts: int = Field(default=25, ge=1, le=100)

    # Jobs.
    job_ttl_default_h: int = Field(default=24, ge=1)
    job_ttl_max_h: int = Field(default=24 * 30, ge=1)
    job_sweep_chunk: int = Field(default=500, ge=25, le=5000)
    job_document_max_bytes: int = Field(default=16 * 1024, ge=256, le=300 * 1024)
    job_fanout_workers: int = Field(default=4, ge=1, le=32)
    job_cancel_budget_s: float = Field(default=10.0, ge=0, le=25)
    job_sweep_budget_s: float = Field(default=40.0, gt=0, le=840)
    job_pending_limit: int = Field(default=100, ge=1, le=1000)
    # Counter items per new job that device updates spread over (0: the job item alone).
    job_counter_shards: int = Field(default=8, ge=0, le=100)
    # How long a create holding a client_token is trusted to be alive: above the API timeout.
    job_create_lease_s: float = Field(default=120.0, ge=1)
    # Up to this many target devices, each `jobs/notify` carries the device's full pending
    # list (one Query per device); above it, only the new job, so big fan-outs stay cheap.
    job_notify_full_list_max: int = Field(default=100, ge=0, le=10_000)

    # Sites: parallel UpdateItems when a schedule change rewrites its devices' next wake
    # (they share the DynamoDB connection pool, ddb_max_pool_connections).
    site_fanout_workers: int = Field(default=8, ge=1, le=32)
    # A schedule change is sent in chunks of this many devices; the PATCH works for at most
    # budget_s, the per-minute schedule takes over a fan-out whose runner has been silent
    # for lease_s, and spends at most sweep_budget_s a run.
    site_fanout_chunk: int = Field(default=500, ge=1, le=5000)
    site_fanout_budget_s: float = Field(default=20.0, ge=0)
    site_fanout_lease_s: float = Field(default=120.0, ge=1)
    site_fanout_sweep_budget_s: float = Field(default=40.0, ge=1)

    # Sharding of the sparse "due" indexes the schedules query.
    schedule_shards: int = Field(default=4, ge=1, le=64)

    def table_name(self, suffix: str) -> str:
        """Physical name of one of our tables."""
        return f"{self.table_prefix}-{suffix}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings; tests clear the cache after changing env."""
    return Settings()
