"""Making the device an enrolment names: one device (never a second), seed 002's lifecycle, the welcome.

The device is written like an imported row (the imports feature's bulk writer: device, token,
memberships and group and site counts in one transaction, conditioned on the device not
existing), so an enrolled device is exactly what an import or a POST makes: `pending_mapping`
unless its template maps it to a site, in which case it is `active` and gets the site's welcome.
"""
from __future__ import annotations

from datetime import datetime

from chalicelib.core.auth import tokens
from chalicelib.core.ids import new_id
from chalicelib.core.observability.log import logger
from chalicelib.devices.schemas import Device, DeviceStatus
from chalicelib.imports.device_store import BulkDeviceWriter, NewDevice
from chalicelib.imports.services import ImportHooks
from chalicelib.provisioning.errors import ProvisioningRefused
from chalicelib.provisioning.schemas import Enrolment, ReEnrolment
from chalicelib.sites.rules import next_wake, welcome_params
from chalicelib.sites.schemas import Site


class Enroller:
    """Makes (or, when the template allows it, finds again) the device of an enrolment."""

    def __init__(self, writer: BulkDeviceWriter, hooks: ImportHooks) -> None:
        self._writer = writer
        self._hooks = hooks

    def enrol(self, tenant_id: str, made: Enrolment, re_enrolment: ReEnrolment,
              now: datetime) -> DeviceStatus | None:
        """The new device's status, or None when it existed and re-enrols; ProvisioningRefused when it may not."""
        device_id = made.device_id
        site, refusal = self._site_and_groups(tenant_id, made)
        if refusal is not None:
            # Only a refusal reads the device first (the transaction below is conditioned on it not
            # existing and says when it did), so an enrolled device still re-enrols, or is refused as
            # enrolled, when the template's groups or site have gone since.
            if device_id in self._writer.existing(tenant_id, [device_id]):
                return self._again(made, re_enrolment)
            raise refusal
        wake = next_wake(site.wake_schedule_cron, site.timezone, now) if site else None
        mapping_id = new_id() if site else None
        device = Device(tenant_id=tenant_id, device_id=device_id, name=made.name, attributes=made.attributes,
                        created_at=now, status=DeviceStatus.ACTIVE if site else DeviceStatus.PENDING_MAPPING,
                        site_id=site.site_id if site else None, next_wake_at=wake)
        # The provision token is made and forgotten: this device logs in with its certificate.
        written = self._writer.create(tenant_id, [NewDevice(device, tokens.new_token(), tuple(made.groups),
                                                            site.schedule_version if site else None,
                                                            mapping_id)], now)
        if device_id in written.existed:  # a board racing with the same parameters made it first
            return self._again(made, re_enrolment)
        if device_id in written.refused:
            reason, field = written.refused[device_id]
            raise ProvisioningRefused(f"{reason}; retry the enrolment", status_code=409, error_code="ResourceConflict",
                                      field=field)
        # No epoch bump here: the caller moves it once the certificate is bound (the device's own token is unknown).
        if site is not None and wake is not None:
            self._hooks.welcome_sender.send_many(tenant_id, [(device_id, welcome_params(site, wake, mapping_id))],
                                                 f"provisioning:{made.template_name}")
        try:
            self._hooks.joined(tenant_id, [device_id], {g: [device_id] for g in made.groups})
        except Exception:  # the device exists; continuous jobs' own sweep takes it in later
            logger.warning("continuous jobs did not take the enrolled device in", tenant=tenant_id,
                           device=device_id, outcome="failed", exc_info=True)
        return device.status

    def _site_and_groups(self, tenant_id: str, made: Enrolment) -> tuple[Site | None, ProvisioningRefused | None]:
        """The template's site (when it maps one), or why its groups or site refuse the enrolment."""
        missing = sorted(set(made.groups) - self._writer.groups(tenant_id, sorted(set(made.groups))))
        if missing:
            return None, ProvisioningRefused(f"template {made.template_name} names group {missing[0]}, which does "
                                             "not exist: create it or fix the template", status_code=404,
                                             error_code="ResourceNotFound", field="groups")
        if made.site_id is None:
            return None, None
        site = self._writer.sites(tenant_id, [made.site_id]).get(made.site_id)
        if site is None:
            return None, ProvisioningRefused(f"template {made.template_name} maps to site {made.site_id}, which "
                                             "does not exist: create it or fix the template", status_code=404,
                                             error_code="ResourceNotFound", field="site_id")
        return site, None

    @staticmethod
    def _again(made: Enrolment, re_enrolment: ReEnrolment) -> None:
        if re_enrolment is not ReEnrolment.NEW_CREDENTIAL:
            raise ProvisioningRefused(
                f"device {made.device_id} is enrolled already and template {made.template_name} does not allow "
                "re-enrolment: delete the device first, or set the template's re_enrolment to new_credential",
                status_code=409, error_code="ResourceConflict", field="device_id")
        # The existing device keeps everything it has; only a certificate is added.
