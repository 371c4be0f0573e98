"""What the composition root wires between features: the hooks each feature declares for what
other features do on its events, so that no feature imports the one it notifies.

Each entry builds one feature's hooks from the container; the feature asks for them by type
(`core.of(DeviceHooks)`), like it asks for another feature's services.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from chalicelib.aws_iot.services import AwsIotServices, ShadowHooks
from chalicelib.certificates.services import CertificateServices
from chalicelib.commands.services import CommandServices
from chalicelib.core.delivery import References
from chalicelib.core.messaging.base import Message
from chalicelib.core.observability.log import logger
from chalicelib.devices.services import DeviceHooks
from chalicelib.firmware.services import FirmwareServices
from chalicelib.groups.services import GroupHooks
from chalicelib.health.services import HealthHooks
from chalicelib.imports.services import ImportHooks
from chalicelib.ingress.services import IngressHooks
from chalicelib.jobs.services import JobHooks, JobServices
from chalicelib.sites.services import SiteHooks, SiteServices
from chalicelib.twin.services import TwinHooks

if TYPE_CHECKING:
    from chalicelib.core.feature import Core, DeviceMessages, Feature


def device_hooks(c: Core) -> DeviceHooks:
    """A new device joins the continuous jobs that target it; a deleted one loses its named shadows and
    its certificates (one made again under its id must not inherit them); a device placed in a site wakes
    on the site's schedule."""
    def deleted(tenant_id: str, device_id: str) -> None:
        c.of(AwsIotServices).named_shadow_repository.delete_all(tenant_id, device_id)
        c.of(CertificateServices).certificate_service.revoke_all(tenant_id, device_id)

    return DeviceHooks(
        wake_lookup=lambda tenant_id, site_id: c.of(SiteServices).wake_schedule(tenant_id, site_id),
        on_created=lambda tenant_id, device_id: c.of(JobServices).continuous_jobs.device_joined(tenant_id, device_id),
        on_deleted=deleted,
    )


def group_hooks(c: Core) -> GroupHooks:
    """A device joining a group joins the continuous jobs that target the group."""
    return GroupHooks(on_joined=lambda tenant_id, group_id, device_id: c.of(JobServices).continuous_jobs.device_joined(
        tenant_id, device_id, group_id))


def health_hooks(c: Core) -> HealthHooks:
    """The detailed health report counts the tenant's commands still waiting for the broker (up to a cap)."""
    def command_queue(tenant_id: str) -> dict[str, Any]:
        return c.of(CommandServices).command_repository.publish_backlog(tenant_id)

    return HealthHooks(backlogs={"command_queue": command_queue})


def site_hooks(c: Core) -> SiteHooks:
    """A site's welcome (set_wake_schedule) goes out as an ordinary command."""
    from chalicelib.sites.welcome_commands import CommandWelcomeSender
    policy = c.settings.commands
    return SiteHooks(welcome_sender=CommandWelcomeSender(
        c.of(CommandServices).command_service, int(policy.ttl_default.total_seconds() // 60),
        int(policy.ttl_max.total_seconds() // 60)))


def import_hooks(c: Core) -> ImportHooks:
    """Imported devices mapped to a site get its welcome; new devices join the continuous jobs of the fleet
    and of their groups (one Query per target and chunk, not per device)."""
    def joined(tenant_id: str, device_ids: list[str], members: dict[str, list[str]]) -> None:
        continuous = c.of(JobServices).continuous_jobs
        continuous.devices_joined(tenant_id, device_ids)
        for group_id, joiners in members.items():
            continuous.devices_joined(tenant_id, joiners, group_id)

    return ImportHooks(welcome_sender=c.of(SiteServices).welcome_sender, joined=joined)


def twin_hooks(c: Core) -> TwinHooks:
    """Reported firmware versions are counted for the fleet view; operator PATCHes and project-topic reports
    reach AWS IoT devices as shadow events (where served)."""
    aws = c.settings.serves_aws_iot_topics()

    listeners: list[Callable[[], Callable[..., list[Message]]]] = [
        lambda: c.of(FirmwareServices).firmware_versions.twin_written]
    if aws:
        listeners.append(lambda: c.of(AwsIotServices).shadow_service.twin_written)
    return TwinHooks(on_written=each_listener(listeners))


def shadow_hooks(c: Core) -> ShadowHooks:
    """Versions reported on AWS IoT's classic shadow are counted like those reported on the twin's own paths."""
    return ShadowHooks(on_written=lambda *change: c.of(FirmwareServices).firmware_versions.twin_written(*change))


def each_listener(listeners: list[Callable[[], Callable[..., list[Message]]]]) -> Callable[..., list[Message]]:
    """One listener of many: each runs whatever the one before did (a failure is logged, not passed on)."""
    def written(*change: Any) -> list[Message]:
        messages: list[Message] = []
        for listener in listeners:
            try:
                messages.extend(listener()(*change))
            except Exception:  # the write is stored; one listener's failure must not cost the others' events
                after = change[1] if len(change) > 1 else None
                logger.warning("twin write listener failed", tenant=getattr(after, "tenant_id", None),
                               device=getattr(after, "device_id", None), outcome="listener_failed", exc_info=True)
        return messages
    return written


def references(c: Core) -> References:
    """References in job documents and command parameters are firmware images, resolved per device."""
    return References(c.of(FirmwareServices).document_resolver)


def job_hooks(c: Core) -> JobHooks:
    """Execution updates reach AWS IoT devices as jobs events (where served)."""
    if not c.settings.serves_aws_iot_topics():
        return JobHooks()
    # Resolved at call time: the AWS jobs service itself runs on the execution service.
    return JobHooks(on_updated=lambda *change: c.of(AwsIotServices).aws_jobs_service.execution_updated(*change))


def ingress_hooks(features: tuple[Feature[Any], ...]) -> Callable[[Core], IngressHooks]:
    """Every feature registers its device-to-cloud handlers with its own services, in the features' order."""
    def build(c: Core) -> IngressHooks:
        def register(router: DeviceMessages) -> None:
            for feature in features:
                if feature.device_messages is not None and feature.services is not None:
                    feature.device_messages(router, c.of(feature.services))
        return IngressHooks(register=register)
    return build


def wiring(features: tuple[Feature[Any], ...]) -> dict[type[Any], Callable[[Core], object]]:
    """Every hook the features ask for, by its type."""
    return {DeviceHooks: device_hooks, GroupHooks: group_hooks, HealthHooks: health_hooks, SiteHooks: site_hooks,
            TwinHooks: twin_hooks, ShadowHooks: shadow_hooks, JobHooks: job_hooks,
            IngressHooks: ingress_hooks(features), References: references, ImportHooks: import_hooks}
