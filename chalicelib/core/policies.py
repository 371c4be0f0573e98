"""Each feature's knobs as one model: the settings section IS the policy the feature reads.

Every field reads its historical flat environment name (`FLEET_JOB_TTL_DEFAULT_H` is
`jobs.ttl_default_h`) through `validation_alias`, so deployed stages keep their variables;
code and tests may also pass the field's own name. A number given for a duration field is
in the unit its flat name states (`_min`, `_s`, `_h`, `_days`).
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from chalicelib.core.retry import RetryPolicy


def _in(unit: str) -> BeforeValidator:
    def convert(value: Any) -> Any:
        if isinstance(value, (int, float, str)) and not isinstance(value, bool):
            try:
                return timedelta(**{unit: float(value)})
            except OverflowError as exc:  # inf, or more than a timedelta holds: pydantic names the field
                raise ValueError(f"{value!r} {unit} is not a duration a clock can hold") from exc
        return value

    return BeforeValidator(convert)


Seconds = Annotated[timedelta, _in("seconds")]
Minutes = Annotated[timedelta, _in("minutes")]
Hours = Annotated[timedelta, _in("hours")]
Days = Annotated[timedelta, _in("days")]


class Section(BaseModel):
    """A settings section: validated from the whole flat mapping, keeping only its own names."""

    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="ignore")


class HttpLimits(Section):
    """The HTTP edge: body size and page sizes of every route."""

    max_body_bytes: int = Field(default=64 * 1024, ge=1024, validation_alias="max_body_bytes")
    page_size_default: int = Field(default=50, ge=1, le=1000, validation_alias="page_size_default")
    page_size_max: int = Field(default=200, ge=1, le=1000, validation_alias="page_size_max")


class DevicePolicy(Section):
    """Presence: how coarse last-seen writes are, and when a quiet device counts as away."""

    last_seen_resolution_s: int = Field(default=60, ge=0, validation_alias="last_seen_resolution_s")
    # A device not heard from for this long is away: its next message makes the cloud
    # republish its queued commands. Keep it above last_seen_resolution_s plus the heartbeat.
    away_after_s: int = Field(default=120, ge=1, validation_alias="device_away_after_s")
    # How long a device-message process trusts its last read of a device (status, last seen): an MQTT
    # ACK is then one write. 0 reads on every message. A disabled device's broker session is dropped
    # when the broker's credentials follow the registry; this bounds what a message already queued may do.
    presence_cache_s: int = Field(default=30, ge=0, le=300, validation_alias="device_presence_cache_s")
    # How long an HTTPS device route trusts its last read of a provision token (its device, enabled or
    # not): an HTTPS ACK is then one write. A device disabled, deleted or given a new token through
    # another process may be accepted for at most this long after that process's read; 0 reads every time.
    token_cache_s: int = Field(default=10, ge=0, le=60, validation_alias="device_token_cache_s")


class CommandPolicy(Section):
    """The stage's command knobs, in domain units."""

    ttl_default: Minutes = Field(default=timedelta(minutes=60), ge=timedelta(minutes=1),
                                 validation_alias="command_ttl_default_min")
    ttl_max: Minutes = Field(default=timedelta(days=7), ge=timedelta(minutes=1),
                             validation_alias="command_ttl_max_min")
    max_attempts: int = Field(default=3, ge=1, le=20, validation_alias="command_publish_max_attempts")
    retry_interval: Seconds = Field(default=timedelta(seconds=30), ge=timedelta(seconds=1),
                                    validation_alias="command_retry_interval_s")
    pending_limit: int = Field(default=100, ge=1, le=1000, validation_alias="command_pending_limit")
    sweep_limit: int = Field(default=1000, ge=25, le=10000, validation_alias="command_sweep_limit")
    retention: Days = Field(default=timedelta(days=90), ge=timedelta(days=1),
                            validation_alias="command_retention_days")
    idempotency_ttl: Hours = Field(default=timedelta(hours=24), ge=timedelta(hours=1),
                                   validation_alias="idempotency_ttl_h")
    shards: int = Field(default=4, ge=1, le=64, validation_alias="schedule_shards")

    def next_attempt(self, now: datetime, attempts_made: int) -> datetime | None:
        """When to try publishing again after `attempts_made` attempts; None when exhausted."""
        return now + self.retry_interval if attempts_made < self.max_attempts else None


class TwinLimits(Section):
    """Bounds on the desired and reported documents, and on write retries under contention."""

    max_doc_bytes: int = Field(default=8 * 1024, ge=64, validation_alias="twin_max_doc_bytes")
    max_depth: int = Field(default=6, ge=1, le=32, validation_alias="twin_max_depth")
    stale_after: Seconds = Field(default=timedelta(hours=1), ge=timedelta(seconds=1),
                                 validation_alias="twin_stale_after_s")
    # Optimistic-concurrency retries of one twin write; each failure means another write won.
    write_attempts: int = Field(default=25, ge=1, le=100, validation_alias="twin_write_attempts")

    @property
    def write_retry(self) -> RetryPolicy:
        """Retries of a conditional write lost to a concurrent one: short waits, full jitter."""
        return RetryPolicy(min_s=0.005, max_s=0.2, max_attempts=self.write_attempts, jitter=1.0)


class JobLimits(Section):
    """The knobs of job creation, cancel, fan-out and sweeps."""

    ttl_default_h: int = Field(default=24, ge=1, validation_alias="job_ttl_default_h")
    ttl_max_h: int = Field(default=24 * 30, ge=1, validation_alias="job_ttl_max_h")
    document_max_bytes: int = Field(default=16 * 1024, ge=256, le=300 * 1024,
                                    validation_alias="job_document_max_bytes")
    shards: int = Field(default=4, ge=1, le=64, validation_alias="schedule_shards")
    cancel_budget_s: float = Field(default=10.0, ge=0, le=25, validation_alias="job_cancel_budget_s")
    # How long a create holding a client_token is trusted to be alive: above the API timeout.
    create_lease_s: float = Field(default=120.0, ge=1, validation_alias="job_create_lease_s")
    fanout_workers: int = Field(default=4, ge=1, le=32, validation_alias="job_fanout_workers")
    pending_limit: int = Field(default=100, ge=1, le=1000, validation_alias="job_pending_limit")
    # Up to this many target devices, each `jobs/notify` carries the device's full pending
    # list (one Query per device); above it, only the new job, so big fan-outs stay cheap.
    notify_full_list_max: int = Field(default=100, ge=0, le=10_000, validation_alias="job_notify_full_list_max")
    sweep_chunk: int = Field(default=500, ge=25, le=5000, validation_alias="job_sweep_chunk")
    sweep_budget_s: float = Field(default=40.0, gt=0, le=840, validation_alias="job_sweep_budget_s")
    # Counter items per new job that device updates spread over (0: the job item alone, the old layout).
    counter_shards: int = Field(default=8, ge=0, le=100, validation_alias="job_counter_shards")
    # How long a process trusts a job it read (layout, timeout, creation time) and the executions
    # it last read or wrote, so a non-final device update is one write; the write's conditions
    # re-check all of it, so this bounds memory and staleness-retries, not correctness (0: always read).
    state_cache_s: float = Field(default=60.0, ge=0, le=3600, validation_alias="job_state_cache_s")
    # Also notify on AWS IoT's `$aws/things/{thing}/jobs/notify` and `notify-next`: derived
    # from the messaging settings (`Settings.serves_aws_iot_topics`), not a variable of its own.
    aws_iot_topics: bool = False


class FanoutPolicy(Section):
    """How a site's schedule change is cut up, handed over and bounded in time."""

    shards: int = Field(default=4, ge=1, le=64, validation_alias="schedule_shards")
    # Devices per chunk: one index page, their wake writes, their commands.
    chunk: int = Field(default=500, ge=1, le=5000, validation_alias="site_fanout_chunk")
    # The per-minute schedule takes over a fan-out whose runner has been silent this long.
    lease: Seconds = Field(default=timedelta(seconds=120), ge=timedelta(seconds=1),
                           validation_alias="site_fanout_lease_s")
    # Parallel UpdateItems when a schedule change rewrites its devices' next wake (they share
    # the DynamoDB connection pool, ddb_max_pool_connections).
    workers: int = Field(default=8, ge=1, le=32, validation_alias="site_fanout_workers")
    # The PATCH works for at most budget_s; the schedule spends at most sweep_budget_s a run.
    budget_s: float = Field(default=20.0, ge=0, validation_alias="site_fanout_budget_s")
    sweep_budget_s: float = Field(default=40.0, ge=1, validation_alias="site_fanout_sweep_budget_s")


class BatchPolicy(Section):
    """How a group or site command is cut up, handed over and bounded in time."""

    shards: int = Field(default=4, ge=1, le=64, validation_alias="schedule_shards")
    # Members per chunk: one listing page, one round of batch writes, one publish round.
    chunk: int = Field(default=500, ge=1, le=5000, validation_alias="command_batch_chunk")
    # The POST's own chunk; 0 (the default): the POST sends nothing and answers at once, handing the whole
    # walk to a run started now (a thread here, an asynchronous invoke on AWS).
    first_chunk: int = Field(default=0, ge=0, le=5000, validation_alias="command_batch_first_chunk")
    # The per-minute schedule takes over a batch whose runner has been silent this long.
    lease: Seconds = Field(default=timedelta(seconds=120), ge=timedelta(seconds=1),
                           validation_alias="command_batch_lease_s")
    # The POST works for at most budget_s (then answers `sending`); the schedule spends at most sweep_budget_s a run.
    budget_s: float = Field(default=0.5, ge=0, validation_alias="command_batch_budget_s")
    sweep_budget_s: float = Field(default=40.0, ge=1, validation_alias="command_batch_sweep_budget_s")
    # BatchGetItem requests in flight when a chunk of group members' statuses is read.
    workers: int = Field(default=4, ge=1, le=32, validation_alias="command_batch_workers")
    # The function the API invokes (asynchronously) to carry on a handed-over walk now; empty: a thread.
    worker_function: str = Field(default="", validation_alias="command_batch_function")
    idempotency_ttl: Hours = Field(default=timedelta(hours=24), ge=timedelta(hours=1),
                                   validation_alias="idempotency_ttl_h")


class ImportPolicy(Section):
    """How a device import is bounded, cut up, handed over and how long its credentials wait for a download."""

    max_rows: int = Field(default=10_000, ge=1, le=100_000, validation_alias="device_import_max_rows")
    # The body of one import (CSV or JSON lines); API Gateway takes up to 10 MB, a Lambda 6 MB.
    max_body_bytes: int = Field(default=4 * 1024 * 1024, ge=1024, le=6 * 1024 * 1024,
                                validation_alias="device_import_max_body_bytes")
    # Rows per chunk: one item of rows, its reads, its transactions and one progress write.
    chunk: int = Field(default=500, ge=1, le=2000, validation_alias="device_import_chunk")
    shards: int = Field(default=4, ge=1, le=64, validation_alias="schedule_shards")
    # The per-minute schedule takes over an import whose runner has been silent this long.
    lease: Seconds = Field(default=timedelta(seconds=120), ge=timedelta(seconds=1),
                           validation_alias="device_import_lease_s")
    # The POST works for at most budget_s (then answers `running`); the schedule spends at most sweep_budget_s a run.
    budget_s: float = Field(default=20.0, ge=0, validation_alias="device_import_budget_s")
    sweep_budget_s: float = Field(default=40.0, ge=1, validation_alias="device_import_sweep_budget_s")
    # The created devices' provision tokens wait this long for their one download, then are erased.
    credentials_ttl: Hours = Field(default=timedelta(hours=24), ge=timedelta(hours=1), le=timedelta(days=7),
                                   validation_alias="device_import_credentials_ttl_h")
    # An import's record and per-row results are kept this long.
    retention: Days = Field(default=timedelta(days=30), ge=timedelta(days=1),
                            validation_alias="device_import_retention_days")
    idempotency_ttl: Hours = Field(default=timedelta(hours=24), ge=timedelta(hours=1),
                                   validation_alias="idempotency_ttl_h")


class CertificatePolicy(Section):
    """Device certificates: who signs them and for how long."""

    # `local`: a CA in ca_dir (the local stack's); `aws-iot`: AWS IoT Core signs and enforces status.
    authority: Literal["local", "aws-iot"] = Field(default="local", validation_alias="certificate_authority")
    ca_dir: str = Field(default="", validation_alias="certificate_ca_dir")
    validity_days: int = Field(default=365, ge=1, le=3650, validation_alias="certificate_validity_days")
    # The AWS IoT policy attached to every certificate (the stage's device policy); empty attaches none.
    iot_policy_name: str = Field(default="", validation_alias="certificate_iot_policy")


class FirmwarePolicy(Section):
    """Where firmware images live and how long the URLs to them are good for."""

    # One private bucket per stage; empty: firmware is off (the routes answer 503).
    bucket: str = Field(default="", validation_alias="firmware_bucket")
    # Empty: real S3. The local stack and LocalStack give their own endpoint.
    s3_endpoint: str = Field(default="", validation_alias="s3_endpoint")
    # The endpoint devices and operators reach, when it differs from the functions' one
    # (a container network, say); the URLs are signed for this host.
    s3_public_endpoint: str = Field(default="", validation_alias="s3_public_endpoint")
    # A device's download URL: made when the document is delivered, good for this long.
    url_ttl_s: int = Field(default=900, ge=60, le=3600, validation_alias="firmware_url_ttl_s")
    # The operator's upload URL.
    upload_ttl_s: int = Field(default=900, ge=60, le=3600, validation_alias="firmware_upload_ttl_s")
    # The largest image an operator may declare.
    max_size_bytes: int = Field(default=256 * 1024 * 1024, ge=1024, le=5 * 1024 ** 3,
                                validation_alias="firmware_max_size_bytes")
