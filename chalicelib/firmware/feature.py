"""Firmware: artifacts in the stage's bucket, references to them resolved per device at delivery, and the
fleet's reported versions."""
from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from chalicelib.core.feature import Feature, FunctionAccess, TableAccess
from chalicelib.firmware import routes
from chalicelib.firmware.services import FirmwareServices

if TYPE_CHECKING:
    from pynamodb.models import Model

# Signing a download URL needs the actions it grants (presigning itself sends no request): URLs name the
# version that was measured, which S3 authorises as GetObjectVersion.
SIGN_DOWNLOADS = ("s3:GetObject", "s3:GetObjectVersion")


def models() -> tuple[type[Model], ...]:
    """Artifacts, and the counters of reported versions."""
    from chalicelib.firmware.store import FirmwareModel, VersionCountModel
    return (FirmwareModel, VersionCountModel)


def access() -> Mapping[str, FunctionAccess]:
    """Every function that delivers documents resolves references (reads the artifact, signs a URL)."""
    from chalicelib.firmware.store import FirmwareModel, VersionCountModel
    from chalicelib.groups.store import MembershipModel
    resolve = TableAccess(FirmwareModel, ("BatchGetItem",))
    return {
        # A reported firmware version moves the fleet's and the device's groups' counters (a new one counts
        # the scope's rows first, an emptied one is deleted); a device asking
        # for its queued commands (`commands/request`) gets its update_firmware URL made then.
        "device_message": FunctionAccess(tables=(
            TableAccess(VersionCountModel, ("UpdateItem", "Query", "DeleteItem")),
            TableAccess(MembershipModel, ("Query",), ("by_device",)),
            resolve), bucket_objects=SIGN_DOWNLOADS),
        "commands_retry": FunctionAccess(tables=(resolve,), bucket_objects=SIGN_DOWNLOADS),
        # A rollout's next minute is notified with each device's URL.
        "jobs_sweep": FunctionAccess(tables=(resolve,), bucket_objects=SIGN_DOWNLOADS),
        # A group's update_firmware: the artifact is held until the batch expires, then signed per device.
        "command_batches": FunctionAccess(tables=(TableAccess(FirmwareModel, ("GetItem", "BatchGetItem",
                                                                             "UpdateItem")),),
                                          bucket_objects=SIGN_DOWNLOADS),
    }


FEATURE = Feature(name="firmware", blueprints=(routes.bp,), models=models, services=FirmwareServices,
                  access=access)
