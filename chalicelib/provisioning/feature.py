"""Provisioning templates: operator routes and their table."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib.core.feature import Feature
from chalicelib.provisioning import routes
from chalicelib.provisioning.services import ProvisioningServices

if TYPE_CHECKING:
    from pynamodb.models import Model


def models() -> tuple[type[Model], ...]:
    """The templates."""
    from chalicelib.provisioning.store import TemplateModel
    return (TemplateModel,)


FEATURE = Feature(name="provisioning", blueprints=(routes.bp,), models=models, services=ProvisioningServices)
