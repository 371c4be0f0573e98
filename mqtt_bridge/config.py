"""Bridge settings from the environment (prefix BRIDGE_), validated once at start."""
from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class BridgeSettings(BaseSettings):
    """Every knob of the bridge; defaults suit the local stack."""

    model_config = SettingsConfigDict(env_prefix="BRIDGE_", extra="ignore")

    # Broker. The client id is fixed so the persistent session (and what the broker
    # queued for it while the bridge was down) survives restarts. Two bridges must not
    # share one id: the broker would disconnect the older one each time.
    mqtt_host: str = "127.0.0.1"
    mqtt_port: int = Field(default=1883, ge=1, le=65535)
    mqtt_username: str = ""
    mqtt_password: str = ""
    mqtt_tls: bool = False
    # No '.': a device's client id is always `{tenant}.{device}`, so none can ever equal it; and a
    # prefix the broker's claim listener reserves, so no board enrolling by claim can take it over.
    client_id: str = Field(default="fleet-mqtt-bridge", min_length=1, max_length=64,
                           pattern=r"^(fleet|svc)-[A-Za-z0-9_-]+$")
    keepalive_s: int = Field(default=30, ge=5, le=3600)
    reconnect_min_s: int = Field(default=1, ge=1, le=60)
    reconnect_max_s: int = Field(default=30, ge=1, le=600)

    # Where messages go: the Chalice function in this process, or Lambda Invoke.
    invoker: Literal["in-process", "lambda"] = "in-process"
    lambda_function_name: str = "fleet-control-plane-prod-device_message"
    lambda_endpoint: str = ""  # empty: AWS; set for LocalStack
    aws_region: str = "us-east-1"
    lambda_timeout_s: float = Field(default=30.0, gt=0, le=900)

    # Transient failures are retried with capped exponential backoff. 0 attempts means
    # retry until it works: nothing that reached the broker may be lost.
    retry_min_s: float = Field(default=0.2, gt=0, le=60)
    retry_max_s: float = Field(default=30.0, gt=0, le=3600)
    max_attempts: int = Field(default=0, ge=0)

    # Payloads above this are dropped (acknowledged) unforwarded; the function's own bound
    # (FLEET_MAX_BODY_BYTES) is lower and refuses them with a logged reason.
    # (At most 4 MiB: the event carries it base64-encoded, and Lambda Invoke takes 6 MB.)
    max_payload_bytes: int = Field(default=256 * 1024, ge=1024, le=4 * 1024 * 1024)

    # Concurrency: messages of one device stay in order on one worker.
    workers: int = Field(default=8, ge=1, le=64)
    # Batching: a worker hands the function up to batch_max messages in one invoke, waiting
    # at most batch_wait_ms for more after the first; the function answers per message.
    batch_max: int = Field(default=25, ge=1, le=500)
    batch_wait_ms: float = Field(default=5.0, ge=0, le=1000)
    # Scale-out: bridges with the same share group (and distinct client ids) split the
    # messages through MQTT shared subscriptions ($share/<group>/...); empty: none.
    share_group: str = Field(default="", max_length=64, pattern=r"^[A-Za-z0-9_-]*$")
    shutdown_grace_s: float = Field(default=10.0, ge=0, le=300)
    # Health: the status file rewritten every health_every_s (empty: none; the container
    # sets one); `python -m mqtt_bridge.health` reports unhealthy when it is older than
    # health_max_age_s or says disconnected.
    health_file: str = ""
    health_every_s: float = Field(default=5.0, gt=0, le=60)
    health_max_age_s: float = Field(default=30.0, gt=0, le=600)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    @model_validator(mode="after")
    def _bounds_are_ordered(self) -> BridgeSettings:
        if self.retry_max_s < self.retry_min_s:
            raise ValueError("retry_max_s must be >= retry_min_s")
        if self.reconnect_max_s < self.reconnect_min_s:
            raise ValueError("reconnect_max_s must be >= reconnect_min_s")
        return self
