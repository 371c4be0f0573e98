"""The provisioning-templates table: one item per template, with its enrolment counts and last refusal."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.expressions.update import Action
from pynamodb.models import Model

from chalicelib.core.errors import Conflict, NotFound
from chalicelib.core.ids import is_valid_id
from chalicelib.core.storage.base import table_meta
from chalicelib.core.storage.cursors import Page, query_page
from chalicelib.core.storage.errors import read_or_raise, written_or_raise
from chalicelib.core.storage.keys import TenantPartitioned
from chalicelib.provisioning.schemas import Template, TemplateBody


class TemplateModel(TenantPartitioned, Model):
    """One provisioning template of one tenant; what it says is `spec` (a TemplateBody)."""

    Meta = table_meta("provisioning-templates")

    template_name = UnicodeAttribute(range_key=True)
    spec = JSONAttribute()
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    provisioned_count = NumberAttribute(default=0)
    refused_count = NumberAttribute(default=0)
    last_refusal = JSONAttribute(null=True)

    def to_record(self) -> Template:
        return Template(tenant_id=self.tenant_id, template_name=self.template_name, **self.spec,
                        created_at=self.created_at, updated_at=self.updated_at,
                        provisioned_count=int(self.provisioned_count or 0),
                        refused_count=int(self.refused_count or 0), last_refusal=self.last_refusal)


class TemplateRepository:
    """All reads and writes of provisioning templates."""

    def create(self, tenant_id: str, name: str, body: TemplateBody, now: datetime) -> Template:
        """Store a new template; 409 when the name is taken."""
        model = TemplateModel(tenant_id, name, spec=_spec(body), created_at=now, updated_at=now,
                              provisioned_count=0, refused_count=0)
        written_or_raise(lambda: model.save(condition=TemplateModel.template_name.does_not_exist()),
                         Conflict(f"template {name} already exists", field="template_name"))
        return model.to_record()

    def get(self, tenant_id: str, name: str) -> Template:
        """One template of the tenant, or NotFound."""
        missing = NotFound(f"template {name} not found", field="template_name")
        if not is_valid_id(name):
            raise missing
        return read_or_raise(lambda: TemplateModel.get(tenant_id, name, consistent_read=True), missing).to_record()

    def list_page(self, tenant_id: str, limit: int, next_token: str | None) -> Page[Template]:
        """A page of the tenant's templates in name order."""
        return query_page(TemplateModel, tenant_id, limit, next_token).map(TemplateModel.to_record)

    def replace(self, tenant_id: str, name: str, body: TemplateBody, now: datetime) -> Template:
        """Replace what an existing template says (its counts stay)."""
        model = TemplateModel(tenant_id, name)
        written_or_raise(lambda: model.update(actions=[TemplateModel.spec.set(_spec(body)),
                                                       TemplateModel.updated_at.set(now)],
                                              condition=TemplateModel.template_name.exists()),
                         NotFound(f"template {name} not found", field="template_name"))
        return self.get(tenant_id, name)

    def delete(self, tenant_id: str, name: str) -> None:
        """Delete a template; NotFound when there is none."""
        written_or_raise(lambda: TemplateModel(tenant_id, name).delete(condition=TemplateModel.template_name.exists()),
                         NotFound(f"template {name} not found", field="template_name"))

    def count(self, tenant_id: str, name: str, provisioned: bool, refusal: dict[str, Any] | None = None) -> None:
        """Count one enrolment made, or one refused (keeping its reason as the last refusal)."""
        actions: list[Action]
        if provisioned:
            actions = [TemplateModel.provisioned_count.add(1)]
        else:
            actions = [TemplateModel.refused_count.add(1), TemplateModel.last_refusal.set(refusal)]
        written_or_raise(lambda: TemplateModel(tenant_id, name).update(
            actions=actions, condition=TemplateModel.template_name.exists()),
            NotFound(f"template {name} not found", field="template_name"))


def _spec(body: TemplateBody) -> dict[str, Any]:
    return body.model_dump(mode="json", exclude={"template_name"})
