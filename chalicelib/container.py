"""The composition root: every long-lived object, built on first use from one `Settings`.

One `Container` per process (a Lambda container keeps it across invocations). Building
it binds the PynamoDB models to the stage's tables, once; each object is made the first
time something asks for it, so a function builds only what its handler touches, and
imports only what it builds: feature modules are imported inside the properties (the
routes import this module, so an eager import here would load every feature, PynamoDB
and botocore into every function's cold start). Tests
that change the environment call `rebuild()`: a fresh container, nothing to forget by hand.
"""
from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from chalicelib.core.messaging.base import Message, Publisher, RecordingPublisher
from chalicelib.firmware.parts import FirmwareParts
from chalicelib.jobs.parts import JobParts

if TYPE_CHECKING:
    from chalicelib.aws_iot.named_shadow_store import NamedShadowRepository
    from chalicelib.aws_iot.shadow import ShadowService
    from chalicelib.commands.batches.service import CommandBatchService
    from chalicelib.commands.delivery import CommandDispatcher, CommandExpiry
    from chalicelib.commands.device_service import DeviceCommandService
    from chalicelib.commands.service import CommandService
    from chalicelib.commands.store import CommandRepository
    from chalicelib.core.auth.operator import OperatorAuthenticator
    from chalicelib.core.config import Settings
    from chalicelib.core.delivery import Document
    from chalicelib.core.policies import CommandPolicy
    from chalicelib.core.storage.idempotency import IdempotencyStore
    from chalicelib.devices.service import DeviceService
    from chalicelib.devices.store import DeviceRepository
    from chalicelib.groups.service import GroupService
    from chalicelib.groups.store import GroupRepository
    from chalicelib.health.service import HealthService
    from chalicelib.ingress.router import DeviceMessageRouter
    from chalicelib.sites.device_store import SiteDeviceRepository
    from chalicelib.sites.mapping import MappingService
    from chalicelib.sites.service import SiteService
    from chalicelib.sites.store import SiteRepository
    from chalicelib.sites.welcome import WelcomeSender
    from chalicelib.twin.schemas import Twin
    from chalicelib.twin.service import TwinService
    from chalicelib.twin.store import TwinRepository


class Container(JobParts, FirmwareParts):
    """Every service and repository of one stage, each built once, on first use."""

    def __init__(self, settings: Settings) -> None:
        from chalicelib.core.storage import tables

        self.settings = settings
        tables.bind(settings)

    @cached_property
    def publisher(self) -> Publisher:
        """The configured publisher adapter."""
        s = self.settings
        if s.mqtt_backend == "paho":
            from chalicelib.core.messaging.paho import PahoPublisher

            return PahoPublisher(s.mqtt_host, s.mqtt_port, s.mqtt_username, s.mqtt_password,
                                 s.mqtt_client_id, s.mqtt_publish_timeout_s)
        if s.mqtt_backend == "iot-data":
            from chalicelib.core.messaging.iot_data import IotDataPublisher

            return IotDataPublisher(s.iot_data_endpoint, s.aws_region)
        return RecordingPublisher(reachable=False)

    @cached_property
    def operator_authenticator(self) -> OperatorAuthenticator:
        from chalicelib.core.auth.operator import OperatorAuthenticator
        return OperatorAuthenticator(self.settings)

    @cached_property
    def idempotency_store(self) -> IdempotencyStore:
        from chalicelib.core.storage.idempotency import IdempotencyStore
        return IdempotencyStore()

    # Devices and groups

    @cached_property
    def device_repository(self) -> DeviceRepository:
        from chalicelib.devices.store import DeviceRepository
        return DeviceRepository()

    @cached_property
    def group_repository(self) -> GroupRepository:
        from chalicelib.groups.store import GroupRepository
        return GroupRepository()

    @cached_property
    def device_service(self) -> DeviceService:
        from chalicelib.devices.service import DeviceService
        policy = self.settings.devices
        return DeviceService(self.device_repository, self.group_repository, policy.last_seen_resolution_s,
                             publisher=self.publisher, wake_lookup=self._site_schedule,
                             on_deleted=self.named_shadow_repository.delete_all, away_after_s=policy.away_after_s,
                             on_created=lambda tenant_id, device_id: self.continuous_jobs.device_joined(
                                 tenant_id, device_id))

    def _site_schedule(self, tenant_id: str, site_id: str) -> tuple[str, str] | None:
        site = self.site_repository.find(tenant_id, site_id)
        return (site.wake_schedule_cron, site.timezone) if site else None

    @cached_property
    def group_service(self) -> GroupService:
        from chalicelib.groups.service import GroupService
        return GroupService(self.group_repository, on_joined=lambda tenant_id, group_id, device_id:
                            self.continuous_jobs.device_joined(tenant_id, device_id, group_id))

    @cached_property
    def health_service(self) -> HealthService:
        from chalicelib.health.service import HealthService
        commands = self.command_repository
        return HealthService(self.settings.version, self.publisher, self.device_repository.credentials_epoch,
                             {"command_queue": lambda tenant: {"awaiting_publish": commands.awaiting_publish(tenant)}})

    # Commands

    @property
    def command_policy(self) -> CommandPolicy:
        return self.settings.commands

    @cached_property
    def command_repository(self) -> CommandRepository:
        from chalicelib.commands.store import CommandRepository
        return CommandRepository(self.idempotency_store, self.command_policy.shards, self.command_policy.retention)

    @cached_property
    def command_dispatcher(self) -> CommandDispatcher:
        from chalicelib.commands.delivery import CommandDispatcher
        return CommandDispatcher(self.command_repository, self.publisher, self.command_policy,
                                 references=self.document_resolver)

    @cached_property
    def command_service(self) -> CommandService:
        from chalicelib.commands.service import CommandService
        return CommandService(self.command_repository, self.idempotency_store, self.device_repository,
                              self.command_dispatcher, self.command_policy, references=self.document_resolver)

    @cached_property
    def device_command_service(self) -> DeviceCommandService:
        from chalicelib.commands.device_service import DeviceCommandService
        return DeviceCommandService(self.command_repository, self.command_policy, references=self.document_resolver)

    @cached_property
    def command_expiry(self) -> CommandExpiry:
        from chalicelib.commands.delivery import CommandExpiry
        return CommandExpiry(self.command_repository, self.command_policy)

    @cached_property
    def command_batch_service(self) -> CommandBatchService:
        """Group and site commands."""
        from chalicelib.commands.batches.members import BatchMemberReader
        from chalicelib.commands.batches.schemas import BatchTarget
        from chalicelib.commands.batches.service import CommandBatchService, MemberSource
        from chalicelib.commands.batches.store import BatchRepository
        from chalicelib.commands.batches.targets import GroupMembers, SiteMembers
        from chalicelib.jobs.targets import TargetReader
        policy = self.settings.command_batches
        sources: dict[BatchTarget, MemberSource] = {
            BatchTarget.GROUP: GroupMembers(self.group_repository, TargetReader(policy.workers)),
            BatchTarget.SITE: SiteMembers(self.site_repository, self.site_device_repository),
        }
        return CommandBatchService(BatchRepository(self.idempotency_store, self.command_policy.retention),
                                   BatchMemberReader(), self.command_service, sources, policy)

    # Twin and AWS IoT shadows

    @cached_property
    def twin_repository(self) -> TwinRepository:
        from chalicelib.twin.store import TwinRepository
        return TwinRepository()

    @cached_property
    def twin_service(self) -> TwinService:
        from chalicelib.twin.service import TwinService
        # Operator PATCHes and project-topic reports reach AWS IoT devices as shadow events.
        aws_events = self.shadow_service.twin_written if self.settings.serves_aws_iot_topics() else None
        versions = self.firmware_versions

        # Reported firmware versions are counted for the fleet view (a change moves one counter per scope).
        def written(before: Twin, after: Twin, desired: Document | None, reported: Document | None) -> list[Message]:
            versions.twin_written(before, after, desired, reported)
            return aws_events(before, after, desired, reported) if aws_events else []

        return TwinService(self.twin_repository, self.publisher, self.settings.twin, on_written=written)

    @cached_property
    def named_shadow_repository(self) -> NamedShadowRepository:
        from chalicelib.aws_iot.named_shadow_store import NamedShadowRepository
        return NamedShadowRepository()

    @cached_property
    def shadow_service(self) -> ShadowService:
        """AWS IoT shadows: the classic one is the twin, named ones have their own table."""
        from chalicelib.aws_iot.shadow import ShadowService
        return ShadowService(self.twin_repository, self.named_shadow_repository, self.publisher, self.settings.twin)

    # Sites

    @cached_property
    def site_repository(self) -> SiteRepository:
        from chalicelib.sites.store import SiteRepository
        return SiteRepository()

    @cached_property
    def site_device_repository(self) -> SiteDeviceRepository:
        from chalicelib.sites.device_store import SiteDeviceRepository
        return SiteDeviceRepository(self.settings.sites.workers)

    @cached_property
    def welcome_sender(self) -> WelcomeSender:
        """set_wake_schedule through the command channel."""
        from chalicelib.sites.welcome_commands import CommandWelcomeSender
        policy = self.command_policy
        return CommandWelcomeSender(self.command_service, int(policy.ttl_default.total_seconds() // 60),
                                    int(policy.ttl_max.total_seconds() // 60))

    @cached_property
    def site_service(self) -> SiteService:
        from chalicelib.sites.service import SiteService
        policy = self.settings.sites
        return SiteService(self.site_repository, self.site_device_repository, self.welcome_sender, policy=policy,
                           budget_s=policy.budget_s)

    @cached_property
    def mapping_service(self) -> MappingService:
        from chalicelib.sites.mapping import MappingService
        return MappingService(self.site_repository, self.site_device_repository, self.device_service,
                              self.welcome_sender)

    # Device-to-cloud messages

    @cached_property
    def device_message_router(self) -> DeviceMessageRouter:
        """The router with every feature's device-to-cloud handlers registered by the feature."""
        from chalicelib.features import register_device_messages  # the features import this module
        from chalicelib.ingress.router import DeviceMessageRouter
        router = DeviceMessageRouter(self.device_service, self.settings.http.max_body_bytes)
        register_device_messages(router, self)
        return router


_current: Container | None = None


def container() -> Container:
    """This process's container, built on first use."""
    global _current
    if _current is None:
        # Settings (pydantic) load here, on the first request, not when the routes register.
        from chalicelib.core.config import get_settings

        _current = Container(get_settings())
    return _current


def rebuild() -> None:
    """Drop this process's container: the next `container()` is built from the environment as it is then."""
    from chalicelib.core.config import get_settings

    global _current
    get_settings.cache_clear()
    _current = None
