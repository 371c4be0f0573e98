"""Provisioning templates and provisioning by claim: operator routes, their table, the fleet-provisioning MQTT API."""
from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from chalicelib.core.feature import DeviceMessages, Feature, FunctionAccess, TableAccess
from chalicelib.provisioning import claim_routes, routes
from chalicelib.provisioning.services import ProvisioningServices

if TYPE_CHECKING:
    from pynamodb.models import Model


def models() -> tuple[type[Model], ...]:
    """The templates."""
    from chalicelib.provisioning.store import TemplateModel
    return (TemplateModel,)


def access() -> Mapping[str, FunctionAccess]:
    """The device-message function answers boards enrolling by claim: claims and pending certificates read and
    moved, the template read and counted, the device made like an imported row (token, memberships, group and
    site counts), its site's welcome command, continuous jobs it joins."""
    from chalicelib.certificates.store import CertificateModel
    from chalicelib.core.topics import CLAIM_REPLIES_ROOT
    from chalicelib.imports.device_store import bulk_write_access
    from chalicelib.provisioning.store import TemplateModel
    return {"device_message": FunctionAccess(
        tables=(
            TableAccess(CertificateModel, ("GetItem", "Query", "PutItem", "UpdateItem", "DeleteItem")),
            TableAccess(TemplateModel, ("GetItem", "UpdateItem")),
            *bulk_write_access(),
        ),
        publishes=True, extra_topics=(f"{CLAIM_REPLIES_ROOT}/*",),
    )}


def device_messages(router: DeviceMessages, services: ProvisioningServices) -> None:
    """Boards enrolling by claim: the broker's claim listener forwards their requests under `$fleet/claims/`."""
    from chalicelib.provisioning.claim_rules import CLAIMS_ROOT
    router.register_topic_root(CLAIMS_ROOT, lambda topic, payload: services.fleet_provisioning.handle(topic, payload))


FEATURE = Feature(name="provisioning", blueprints=(routes.bp, claim_routes.bp), models=models,
                  services=ProvisioningServices, device_messages=device_messages, access=access)
