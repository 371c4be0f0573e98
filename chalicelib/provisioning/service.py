"""Provisioning templates: their CRUD, and the enrolment check every enrolment (and a dry run) goes through."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from chalicelib.core.clock import Clock, iso, utcnow
from chalicelib.core.errors import NotFound
from chalicelib.core.observability.log import logger
from chalicelib.core.observability.metrics import metrics
from chalicelib.core.storage.cursors import Page
from chalicelib.provisioning import rules
from chalicelib.provisioning.errors import ProvisioningRefused
from chalicelib.provisioning.hook import Hook
from chalicelib.provisioning.schemas import CreateTemplate, DryRunResult, Enrolment, Template, TemplateBody
from chalicelib.provisioning.store import TemplateRepository


class TemplateService:
    """Templates of a tenant and the decision whether an enrolment with given parameters may make its device."""

    def __init__(self, templates: TemplateRepository, hook: Hook, clock: Clock = utcnow,
                 on_changed: Callable[[], None] = lambda: None) -> None:
        self._templates = templates
        self._hook = hook
        self._clock = clock
        # A template disabled, enabled again or deleted changes which claims the broker lets in.
        self._on_changed = on_changed

    def create(self, tenant_id: str, request: CreateTemplate) -> Template:
        """Store a new template (409 when the name is taken)."""
        return self._templates.create(tenant_id, request.template_name, request, self._clock())

    def get(self, tenant_id: str, name: str) -> Template:
        """One template (404 for a foreign or missing one)."""
        return self._templates.get(tenant_id, name)

    def get_or_refused(self, tenant_id: str, name: str) -> Template:
        """The template an enrolment goes through; a missing one refuses it (404 ResourceNotFound, AWS's terms)."""
        try:
            return self._templates.get(tenant_id, name)
        except NotFound as exc:
            raise ProvisioningRefused(f"template {name} not found (deleted?): no board enrols through it",
                                      status_code=404, error_code="ResourceNotFound", field="template_name") from exc

    def list_page(self, tenant_id: str, limit: int, next_token: str | None) -> Page[Template]:
        """The tenant's templates in name order."""
        return self._templates.list_page(tenant_id, limit, next_token)

    def replace(self, tenant_id: str, name: str, body: TemplateBody) -> Template:
        """Replace what a template says; enrolments already made are not touched."""
        replaced = self._templates.replace(tenant_id, name, body, self._clock())
        self._on_changed()
        return replaced

    def delete(self, tenant_id: str, name: str) -> None:
        """Delete a template: enrolments through it are refused from now on."""
        self._templates.delete(tenant_id, name)
        self._on_changed()

    def decide(self, tenant_id: str, name: str, parameters: Mapping[str, object], context: Mapping[str, Any],
               call_hook: bool = True, template: Template | None = None) -> Enrolment:
        """The enrolment these parameters make, or ProvisioningRefused saying what to fix (counted, logged).

        In order: the template exists and is enabled; the parameters are declared, present and
        match their patterns (after normalisation); the allow-list has the device; the hook
        allows it (its overrides are checked like the device's own parameters); the device
        id renders to an id. `template` is the template when the caller has just read it.
        """
        if template is None or (template.tenant_id, template.template_name) != (tenant_id, name):
            template = self.get_or_refused(tenant_id, name)
        try:
            if not template.enabled:
                raise ProvisioningRefused(f"template {name} is disabled", status_code=403, error_code="AccessDenied",
                                          field="enabled")
            values = rules.checked_parameters(template, parameters)
            rules.check_allow_list(template, values)
            hook = template.pre_provisioning_hook
            if hook is not None and call_hook:
                answer = self._hook.ask(hook.url, hook.timeout_s, {**context, "templateName": name,
                                                                   "parameters": values})
                if not answer.allowed:
                    raise ProvisioningRefused("the pre-provisioning hook refused this device (allowProvisioning "
                                              "false): no device was made", status_code=403,
                                              error_code="AccessDenied", field="pre_provisioning_hook")
                values = rules.checked_parameters(template, {**values, **answer.overrides})
            return rules.enrolment(template, values)
        except ProvisioningRefused as refused:
            self.refused(tenant_id, name, refused)
            raise

    def refused(self, tenant_id: str, name: str, refused: ProvisioningRefused) -> None:
        """Count and log a refusal against its template, keeping its reason as the template's last refusal."""
        logger.warning("enrolment refused", tenant=tenant_id, template=name, error_code=refused.error_code,
                       reason=refused.message, outcome="refused")
        metrics.count("EnrolmentsRefused")
        try:
            self._templates.count(tenant_id, name, False, {"at": iso(self._clock()), "error_code": refused.error_code,
                                                           "message": refused.message})
        except Exception:  # the refusal stands whether or not it could be counted
            logger.warning("refusal not counted", tenant=tenant_id, template=name, outcome="failed", exc_info=True)

    def provisioned(self, tenant_id: str, name: str) -> None:
        """Count one enrolment that made (or re-credentialed) its device."""
        metrics.count("EnrolmentsMade")
        self._templates.count(tenant_id, name, True)

    def dry_run(self, tenant_id: str, name: str, parameters: Mapping[str, object], call_hook: bool) -> DryRunResult:
        """What an enrolment with these parameters would do; nothing is made (refusals are counted)."""
        self._templates.get(tenant_id, name)  # 404 for a foreign or missing template, as every operator route
        try:
            made = self.decide(tenant_id, name, parameters, {"dryRun": True}, call_hook)
        except ProvisioningRefused as refused:
            return DryRunResult(allowed=False, status_code=refused.status_code, error_code=refused.error_code,
                                error_message=refused.message)
        return DryRunResult(allowed=True, enrolment=made)
