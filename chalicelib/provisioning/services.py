"""The provisioning feature's long-lived objects, built on first use from the core (see core/feature.py)."""
from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chalicelib.core.feature import Core
    from chalicelib.provisioning.service import TemplateService


class ProvisioningServices:
    """Provisioning templates and the enrolment decision (parameters, allow-list, pre-provisioning hook)."""

    def __init__(self, core: Core) -> None:
        self._core = core

    @cached_property
    def template_service(self) -> TemplateService:
        from chalicelib.provisioning.hook import HttpsHook
        from chalicelib.provisioning.service import TemplateService
        from chalicelib.provisioning.store import TemplateRepository
        hosts = self._core.settings.provisioning_hook_insecure_hosts
        return TemplateService(TemplateRepository(), HttpsHook([h.strip() for h in hosts.split(",") if h.strip()]))
