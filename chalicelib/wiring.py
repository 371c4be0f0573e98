"""The only place objects are built. Factories are cached so Lambda containers reuse them."""
from __future__ import annotations

from datetime import timedelta
from functools import lru_cache
from typing import Any

from chalicelib.aws_iot.jobs import AwsJobsService
from chalicelib.aws_iot.named_shadow_store import NamedShadowRepository
from chalicelib.aws_iot.shadow import ShadowService
from chalicelib.aws_iot.topics import JOBS_ROUTE, SHADOW_ROUTE
from chalicelib.commands.delivery import CommandDispatcher, CommandExpiry, CommandPolicy
from chalicelib.commands.device_service import DeviceCommandService
from chalicelib.commands.service import CommandService
from chalicelib.commands.store import CommandRepository
from chalicelib.core.auth.operator import OperatorAuthenticator
from chalicelib.core.config import Settings, get_settings
from chalicelib.core.messaging.base import Publisher, RecordingPublisher
from chalicelib.core.storage import tables
from chalicelib.core.storage.batch import BatchWriter, model_sender
from chalicelib.core.storage.idempotency import IdempotencyStore
from chalicelib.core.topics import COMMANDS_REQUEST_SUFFIX
from chalicelib.devices.service import DeviceService
from chalicelib.devices.store import DeviceRepository
from chalicelib.groups.service import GroupService
from chalicelib.groups.store import GroupRepository
from chalicelib.health.service import HealthService
from chalicelib.ingress.router import DeviceMessageRouter
from chalicelib.jobs.execution_store import ExecutionModel, ExecutionRepository
from chalicelib.jobs.executions import ExecutionService
from chalicelib.jobs.service import JobLimits, JobService
from chalicelib.jobs.store import JobRepository
from chalicelib.jobs.sweeps import JobSweeper
from chalicelib.jobs.targets import TargetReader
from chalicelib.sites.device_store import SiteDeviceRepository
from chalicelib.sites.fanout import FanoutPolicy
from chalicelib.sites.mapping import MappingService
from chalicelib.sites.service import SiteService
from chalicelib.sites.store import SiteRepository
from chalicelib.sites.welcome import WelcomeSender
from chalicelib.sites.welcome_commands import CommandWelcomeSender
from chalicelib.twin.service import REPORTED_SUFFIX, TwinLimits, TwinService
from chalicelib.twin.store import TwinRepository


@lru_cache(maxsize=1)
def settings() -> Settings:
    """Settings, with the models bound to this stage's tables on first use."""
    s = get_settings()
    tables.bind(s)
    return s


@lru_cache(maxsize=1)
def publisher() -> Publisher:
    """The configured publisher adapter."""
    s = settings()
    if s.mqtt_backend == "paho":
        from chalicelib.core.messaging.paho import PahoPublisher

        return PahoPublisher(s.mqtt_host, s.mqtt_port, s.mqtt_username, s.mqtt_password,
                             s.mqtt_client_id, s.mqtt_publish_timeout_s)
    if s.mqtt_backend == "iot-data":
        from chalicelib.core.messaging.iot_data import IotDataPublisher

        return IotDataPublisher(s.iot_data_endpoint, s.aws_region)
    return RecordingPublisher(reachable=False)


@lru_cache(maxsize=1)
def device_repository() -> DeviceRepository:
    settings()
    return DeviceRepository()


@lru_cache(maxsize=1)
def group_repository() -> GroupRepository:
    settings()
    return GroupRepository()


@lru_cache(maxsize=1)
def operator_authenticator() -> OperatorAuthenticator:
    return OperatorAuthenticator(settings())


@lru_cache(maxsize=1)
def device_service() -> DeviceService:
    return DeviceService(device_repository(), group_repository(), settings().last_seen_resolution_s,
                         publisher=publisher(), wake_lookup=_site_schedule,
                         on_deleted=named_shadow_repository().delete_all,
                         away_after_s=settings().device_away_after_s)


def _site_schedule(tenant_id: str, site_id: str) -> tuple[str, str] | None:
    site = site_repository().find(tenant_id, site_id)
    return (site.wake_schedule_cron, site.timezone) if site else None


@lru_cache(maxsize=1)
def group_service() -> GroupService:
    return GroupService(group_repository())


@lru_cache(maxsize=1)
def health_service() -> HealthService:
    commands = command_repository()
    return HealthService(settings().version, publisher(), device_repository().credentials_epoch,
                         {"command_queue": lambda: {"awaiting_publish": commands.awaiting_publish()}})


@lru_cache(maxsize=1)
def idempotency_store() -> IdempotencyStore:
    settings()
    return IdempotencyStore()


@lru_cache(maxsize=1)
def command_policy() -> CommandPolicy:
    return CommandPolicy.from_settings(settings())


@lru_cache(maxsize=1)
def command_repository() -> CommandRepository:
    s = settings()
    return CommandRepository(idempotency_store(), s.schedule_shards, timedelta(days=s.command_retention_days))


@lru_cache(maxsize=1)
def command_dispatcher() -> CommandDispatcher:
    return CommandDispatcher(command_repository(), publisher(), command_policy())


@lru_cache(maxsize=1)
def command_service() -> CommandService:
    return CommandService(command_repository(), idempotency_store(), device_repository(), command_dispatcher(),
                          command_policy())


@lru_cache(maxsize=1)
def device_command_service() -> DeviceCommandService:
    return DeviceCommandService(command_repository(), command_policy())


@lru_cache(maxsize=1)
def command_expiry() -> CommandExpiry:
    return CommandExpiry(command_repository(), command_policy())


@lru_cache(maxsize=1)
def twin_repository() -> TwinRepository:
    settings()
    return TwinRepository()


def twin_limits() -> TwinLimits:
    s = settings()
    return TwinLimits(max_doc_bytes=s.twin_max_doc_bytes, max_depth=s.twin_max_depth,
                      stale_after=timedelta(seconds=s.twin_stale_after_s), write_attempts=s.twin_write_attempts)


@lru_cache(maxsize=1)
def twin_service() -> TwinService:
    # Operator PATCHes and project-topic reports reach AWS IoT devices as shadow events.
    events = shadow_service().twin_written if settings().serves_aws_iot_topics() else None
    return TwinService(twin_repository(), publisher(), twin_limits(), on_written=events)


@lru_cache(maxsize=1)
def named_shadow_repository() -> NamedShadowRepository:
    settings()
    return NamedShadowRepository()


@lru_cache(maxsize=1)
def shadow_service() -> ShadowService:
    """AWS IoT shadows: the classic one is the twin, named ones have their own table."""
    return ShadowService(twin_repository(), named_shadow_repository(), publisher(), twin_limits())


@lru_cache(maxsize=1)
def site_repository() -> SiteRepository:
    settings()
    return SiteRepository()


@lru_cache(maxsize=1)
def site_device_repository() -> SiteDeviceRepository:
    return SiteDeviceRepository(settings().site_fanout_workers)


@lru_cache(maxsize=1)
def welcome_sender() -> WelcomeSender:
    """set_wake_schedule through the command channel."""
    s = settings()
    return CommandWelcomeSender(command_service(), s.command_ttl_default_min, s.command_ttl_max_min)


@lru_cache(maxsize=1)
def site_service() -> SiteService:
    s = settings()
    policy = FanoutPolicy(s.schedule_shards, s.site_fanout_chunk, timedelta(seconds=s.site_fanout_lease_s))
    return SiteService(site_repository(), site_device_repository(), welcome_sender(), policy=policy,
                       budget_s=s.site_fanout_budget_s)


@lru_cache(maxsize=1)
def mapping_service() -> MappingService:
    return MappingService(site_repository(), site_device_repository(), device_service(), welcome_sender())


@lru_cache(maxsize=1)
def job_repository() -> JobRepository:
    settings()
    return JobRepository()


@lru_cache(maxsize=1)
def execution_repository() -> ExecutionRepository:
    s = settings()
    return ExecutionRepository(BatchWriter(model_sender(ExecutionModel), workers=s.job_fanout_workers))


@lru_cache(maxsize=1)
def job_sweeper() -> JobSweeper:
    s = settings()
    return JobSweeper(job_repository(), execution_repository(), s.schedule_shards, s.job_sweep_chunk)


@lru_cache(maxsize=1)
def job_service() -> JobService:
    s = settings()
    limits = JobLimits(ttl_default_h=s.job_ttl_default_h, ttl_max_h=s.job_ttl_max_h,
                       document_max_bytes=s.job_document_max_bytes, shards=s.schedule_shards,
                       cancel_budget_s=s.job_cancel_budget_s, create_lease_s=s.job_create_lease_s,
                       fanout_workers=s.job_fanout_workers, pending_limit=s.job_pending_limit,
                       notify_full_list_max=s.job_notify_full_list_max, aws_iot_topics=s.serves_aws_iot_topics())
    return JobService(job_repository(), execution_repository(), device_repository(), group_repository(),
                      TargetReader(s.job_fanout_workers), idempotency_store(), publisher(), job_sweeper(),
                      limits)


@lru_cache(maxsize=1)
def execution_service() -> ExecutionService:
    # Resolved at call time: the AWS jobs service itself runs on this execution service.
    def aws_events(*change: Any) -> None:
        aws_jobs_service().execution_updated(*change)

    return ExecutionService(job_repository(), execution_repository(), settings().job_pending_limit,
                            on_updated=aws_events if settings().serves_aws_iot_topics() else None)


@lru_cache(maxsize=1)
def aws_jobs_service() -> AwsJobsService:
    """AWS IoT's jobs topics on the same executions."""
    return AwsJobsService(execution_service(), execution_repository(), publisher())


@lru_cache(maxsize=1)
def device_message_router() -> DeviceMessageRouter:
    """The router with every feature's device-to-cloud handler registered."""
    router = DeviceMessageRouter(device_service(), settings().max_body_bytes)
    router.register("commands/ack", device_command_service().handle_mqtt_ack)
    # A device back from being away, or asking, gets its queued commands again (offline delivery).
    router.register(COMMANDS_REQUEST_SUFFIX, command_dispatcher().handle_request)
    router.on_return(command_dispatcher().redeliver, unless_suffix=COMMANDS_REQUEST_SUFFIX)
    router.register(REPORTED_SUFFIX, twin_service().on_reported_message)
    router.register("jobs/*/update", execution_service().handle_mqtt_update)
    if settings().serves_aws_iot_topics():
        shadows, aws_jobs = shadow_service(), aws_jobs_service()
        router.register(f"{SHADOW_ROUTE}/*", shadows.on_message, reject=shadows.reject)
        router.register(f"{JOBS_ROUTE}/*", aws_jobs.on_message, reject=aws_jobs.reject)
    return router


def reset() -> None:
    """Forget every built object (tests change settings between sessions)."""
    get_settings.cache_clear()
    for factory in (settings, publisher, device_repository, group_repository, operator_authenticator,
                    device_service, group_service, health_service, device_message_router,
                    idempotency_store, command_policy, command_repository, command_dispatcher, command_service,
                    device_command_service, command_expiry, twin_repository, twin_service,
                    site_repository, site_device_repository, welcome_sender, site_service, mapping_service,
                    job_repository, execution_repository, job_sweeper, job_service, execution_service,
                    named_shadow_repository, shadow_service, aws_jobs_service):
        factory.cache_clear()
