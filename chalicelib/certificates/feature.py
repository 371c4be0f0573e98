"""Device certificates: operator routes to issue, list, deactivate, revoke and delete them."""
from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from chalicelib.certificates import routes
from chalicelib.certificates.services import CertificateServices
from chalicelib.core.feature import Feature, FunctionAccess

if TYPE_CHECKING:
    from pynamodb.models import Model

# What the AWS IoT authority calls (FLEET_CERTIFICATE_AUTHORITY=aws-iot): sign, bind to the thing
# and the device policy, change status, delete.
IOT_ACTIONS = ("iot:AttachPolicy", "iot:AttachThingPrincipal", "iot:CreateCertificateFromCsr",
               "iot:CreateKeysAndCertificate", "iot:CreateThing", "iot:DeleteCertificate", "iot:DescribeCertificate",
               "iot:DescribeThing", "iot:DetachPolicy", "iot:DetachThingPrincipal", "iot:UpdateCertificate")


def models() -> tuple[type[Model], ...]:
    """Certificates and the tombstones of deleted ones."""
    from chalicelib.certificates.store import CertificateModel
    return (CertificateModel,)


def access() -> Mapping[str, FunctionAccess]:
    """The API handler signs and updates certificates through AWS IoT on a deployed stage."""
    return {"api_handler": FunctionAccess(iot_actions=IOT_ACTIONS)}


FEATURE = Feature(name="certificates", blueprints=(routes.bp,), models=models, services=CertificateServices,
                  access=access)
