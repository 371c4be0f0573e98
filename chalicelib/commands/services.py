"""The commands feature's long-lived objects, built on first use from the core (see core/feature.py)."""
from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING

from chalicelib.core.delivery import References

if TYPE_CHECKING:
    from chalicelib.commands.batches.service import CommandBatchService
    from chalicelib.commands.delivery import CommandDispatcher, CommandExpiry
    from chalicelib.commands.device_service import DeviceCommandService
    from chalicelib.commands.service import CommandService
    from chalicelib.commands.store import CommandRepository
    from chalicelib.core.feature import Core
    from chalicelib.core.policies import CommandPolicy


class CommandServices:
    """Commands to one device, their delivery and expiry, and group and site commands (batches)."""

    def __init__(self, core: Core) -> None:
        self._core = core

    @property
    def command_policy(self) -> CommandPolicy:
        return self._core.settings.commands

    @cached_property
    def command_repository(self) -> CommandRepository:
        from chalicelib.commands.store import CommandRepository
        return CommandRepository(self._core.idempotency_store, self.command_policy.shards,
                                 self.command_policy.retention)

    @cached_property
    def command_dispatcher(self) -> CommandDispatcher:
        from chalicelib.commands.delivery import CommandDispatcher
        return CommandDispatcher(self.command_repository, self._core.publisher, self.command_policy,
                                 references=self._core.of(References).resolver)

    @cached_property
    def command_service(self) -> CommandService:
        from chalicelib.commands.service import CommandService
        from chalicelib.devices.services import DeviceServices
        return CommandService(self.command_repository, self._core.idempotency_store,
                              self._core.of(DeviceServices).device_repository, self.command_dispatcher,
                              self.command_policy, references=self._core.of(References).resolver)

    @cached_property
    def device_command_service(self) -> DeviceCommandService:
        from chalicelib.commands.device_service import DeviceCommandService
        return DeviceCommandService(self.command_repository, self.command_policy,
                                    references=self._core.of(References).resolver)

    @cached_property
    def command_expiry(self) -> CommandExpiry:
        from chalicelib.commands.delivery import CommandExpiry
        return CommandExpiry(self.command_repository, self.command_policy)

    @cached_property
    def command_batch_service(self) -> CommandBatchService:
        """Group and site commands: their members come from the groups and sites features."""
        from chalicelib.commands.batches.members import BatchMemberReader
        from chalicelib.commands.batches.schemas import BatchTarget
        from chalicelib.commands.batches.service import CommandBatchService, MemberSource
        from chalicelib.commands.batches.store import BatchRepository
        from chalicelib.commands.batches.targets import GroupMembers, SiteMembers
        from chalicelib.groups.services import GroupServices
        from chalicelib.jobs.targets import TargetReader
        from chalicelib.sites.services import SiteServices
        policy, sites = self._core.settings.command_batches, self._core.of(SiteServices)
        sources: dict[BatchTarget, MemberSource] = {
            BatchTarget.GROUP: GroupMembers(self._core.of(GroupServices).group_repository,
                                            TargetReader(policy.workers)),
            BatchTarget.SITE: SiteMembers(sites.site_repository, sites.site_device_repository),
        }
        return CommandBatchService(BatchRepository(self._core.idempotency_store, self.command_policy.retention),
                                   BatchMemberReader(), self.command_service, sources, policy,
                                   kick=self._command_batch_kick())

    def _command_batch_kick(self) -> Callable[[], None]:
        """Carry on a handed-over group command now: the batches function on AWS, else a thread here."""
        from chalicelib.core.background import LambdaKick, ThreadKick
        from chalicelib.core.clock import utcnow

        policy = self._core.settings.command_batches
        if policy.worker_function:
            return LambdaKick(policy.worker_function, self._core.settings.aws_region)
        return ThreadKick(lambda: self.command_batch_service.run_due(utcnow(), policy.sweep_budget_s),
                          "command-batches")
