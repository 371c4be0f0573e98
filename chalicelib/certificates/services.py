"""The certificates feature's long-lived objects, built on first use from the core (see core/feature.py)."""
from __future__ import annotations

from datetime import timedelta
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chalicelib.certificates.ports import CertificateAuthority
    from chalicelib.certificates.service import CertificateService
    from chalicelib.certificates.store import CertificateRepository
    from chalicelib.core.feature import Core


class CertificateServices:
    """Device certificates, signed by the stage's authority (the local CA or AWS IoT)."""

    def __init__(self, core: Core) -> None:
        self._core = core

    @cached_property
    def certificate_repository(self) -> CertificateRepository:
        from chalicelib.certificates.store import CertificateRepository
        return CertificateRepository()

    @cached_property
    def certificate_authority(self) -> CertificateAuthority:
        policy = self._core.settings.certificates
        if policy.authority == "aws-iot":
            from chalicelib.certificates.aws_iot import AwsIotCertificateAuthority
            return AwsIotCertificateAuthority(self._core.settings.aws_region, policy.iot_policy_name)
        from chalicelib.certificates.local_ca import LocalCertificateAuthority
        return LocalCertificateAuthority(Path(policy.ca_dir or ".devstack/ca"))

    @cached_property
    def certificate_service(self) -> CertificateService:
        from chalicelib.certificates.service import CertificateService
        from chalicelib.devices.services import DeviceServices
        # A certificate belongs to a device of the registry; every change moves the registry's credential epoch.
        devices = self._core.of(DeviceServices).device_repository
        return CertificateService(self.certificate_repository, self.certificate_authority, devices.exists,
                                  devices.credentials_changed,
                                  timedelta(days=self._core.settings.certificates.validity_days))
