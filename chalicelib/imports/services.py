"""The imports feature's long-lived objects, built on first use from the core (see core/feature.py)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chalicelib.core.feature import Core
    from chalicelib.imports.chunks import Joined
    from chalicelib.imports.service import DeviceImportService
    from chalicelib.sites.welcome import WelcomeSender


def _nobody(tenant_id: str, device_ids: list[str], members: dict[str, list[str]]) -> None:
    return None


@dataclass(frozen=True)
class ImportHooks:
    """What an import needs of other features, wired by the composition root: the welcome of mapped
    devices (the command channel) and the continuous jobs new devices join."""

    welcome_sender: WelcomeSender
    joined: Joined = _nobody


class ImportServices:
    """Bulk device imports: chunks of rows created in transactions, resumed by the schedule."""

    def __init__(self, core: Core) -> None:
        self._core = core

    @cached_property
    def device_import_service(self) -> DeviceImportService:
        from chalicelib.certificates.services import CertificateServices
        from chalicelib.devices.services import DeviceServices
        from chalicelib.imports.certs import AuthorityIssuer
        from chalicelib.imports.chunks import ChunkRunner
        from chalicelib.imports.device_store import BulkDeviceWriter
        from chalicelib.imports.service import DeviceImportService
        from chalicelib.imports.store import ImportRepository
        core, hooks = self._core, self._core.of(ImportHooks)
        imports = ImportRepository(core.idempotency_store)
        issuer = AuthorityIssuer(core.of(CertificateServices).certificate_authority,
                                 timedelta(days=core.settings.certificates.validity_days))
        chunks = ChunkRunner(imports, BulkDeviceWriter(), hooks.welcome_sender,
                             core.of(DeviceServices).device_repository, issuer, joined=hooks.joined)
        return DeviceImportService(imports, chunks, core.idempotency_store, core.settings.device_imports)
