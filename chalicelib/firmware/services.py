"""The firmware feature's long-lived objects, built on first use from the core (see core/feature.py).

Each is built on first use and imports its module then: a function that never touches
firmware loads neither boto3's S3 client nor these modules.
"""
from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chalicelib.core.delivery import DocumentResolver
    from chalicelib.core.feature import Core
    from chalicelib.core.storage.objects import S3ObjectStore
    from chalicelib.firmware.service import FirmwareService
    from chalicelib.firmware.store import FirmwareRepository
    from chalicelib.firmware.versions import FirmwareVersions


class FirmwareServices:
    """Artifacts, their bucket, the resolver of references in documents, the version counters."""

    def __init__(self, core: Core) -> None:
        self._core = core

    @cached_property
    def firmware_repository(self) -> FirmwareRepository:
        from chalicelib.firmware.store import FirmwareRepository
        return FirmwareRepository()

    @cached_property
    def firmware_objects(self) -> S3ObjectStore:
        """The stage's firmware bucket (a stage without one answers 503 when firmware is used)."""
        from chalicelib.core.storage.objects import S3ObjectStore
        settings = self._core.settings
        policy = settings.firmware
        return S3ObjectStore(policy.bucket, settings.aws_region, policy.s3_endpoint, policy.s3_public_endpoint)

    @cached_property
    def firmware_service(self) -> FirmwareService:
        from chalicelib.firmware.service import FirmwareService
        return FirmwareService(self.firmware_repository, self.firmware_objects, self._core.settings.firmware)

    @cached_property
    def document_resolver(self) -> DocumentResolver:
        """Firmware references in job documents and command parameters.

        The bucket is reached only when a reference is signed: a stage without one still
        refuses references (there is nothing they could name) instead of passing them on.
        """
        from chalicelib.firmware.resolver import FirmwareResolver
        return FirmwareResolver(self.firmware_repository, lambda: self.firmware_objects, self._core.settings.firmware)

    @cached_property
    def firmware_versions(self) -> FirmwareVersions:
        from chalicelib.firmware.versions import FirmwareVersions
        from chalicelib.groups.services import GroupServices
        groups = self._core.of(GroupServices).group_repository
        return FirmwareVersions(self.firmware_repository, groups.groups_of, groups.get)
