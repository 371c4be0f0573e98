"""The provisioning feature's long-lived objects, built on first use from the core (see core/feature.py)."""
from __future__ import annotations

from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chalicelib.certificates.claim_store import ClaimRepository
    from chalicelib.core.feature import Core
    from chalicelib.provisioning.claims import ClaimService
    from chalicelib.provisioning.fleet import FleetProvisioning
    from chalicelib.provisioning.service import TemplateService


class ProvisioningServices:
    """Provisioning templates and the enrolment decision (parameters, allow-list, pre-provisioning hook),
    claim certificates, and the fleet-provisioning MQTT API boards enrol through."""

    def __init__(self, core: Core) -> None:
        self._core = core

    @cached_property
    def template_service(self) -> TemplateService:
        from chalicelib.devices.services import DeviceServices
        from chalicelib.provisioning.hook import HttpsHook
        from chalicelib.provisioning.service import TemplateService
        from chalicelib.provisioning.store import TemplateRepository
        hosts = self._core.settings.provisioning_hook_insecure_hosts
        epoch = self._core.of(DeviceServices).device_repository
        return TemplateService(TemplateRepository(), HttpsHook([h.strip() for h in hosts.split(",") if h.strip()]),
                               on_changed=epoch.credentials_changed)

    @cached_property
    def claim_repository(self) -> ClaimRepository:
        from chalicelib.certificates.claim_store import ClaimRepository
        return ClaimRepository()

    @cached_property
    def claim_service(self) -> ClaimService:
        from chalicelib.certificates.services import CertificateServices
        from chalicelib.devices.services import DeviceServices
        from chalicelib.provisioning.claims import ClaimService
        authority = self._core.of(CertificateServices).certificate_authority
        # Every claim change moves the registry's credential epoch: the broker's claim ACL and CRL follow.
        epoch = self._core.of(DeviceServices).device_repository
        return ClaimService(self.claim_repository, self.template_service, authority.create_keys_and_certificate,
                            epoch.credentials_changed)

    @cached_property
    def fleet_provisioning(self) -> FleetProvisioning:
        from chalicelib.certificates.services import CertificateServices
        from chalicelib.devices.services import DeviceServices
        from chalicelib.imports.device_store import BulkDeviceWriter
        from chalicelib.imports.services import ImportHooks
        from chalicelib.provisioning.enrol import Enroller
        from chalicelib.provisioning.fleet import FleetProvisioning
        core = self._core
        epoch = core.of(DeviceServices).device_repository
        enroller = Enroller(BulkDeviceWriter(), core.of(ImportHooks))
        return FleetProvisioning(self.claim_repository, core.of(CertificateServices).certificate_authority,
                                 self.template_service, enroller, core.publisher, epoch.credentials_changed,
                                 timedelta(days=core.settings.certificates.validity_days))
