"""AWS IoT compatibility: named-shadow routes, and the `$aws/things/...` shadow and jobs topics."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib.aws_iot import named_shadow_routes
from chalicelib.aws_iot.services import AwsIotServices
from chalicelib.aws_iot.topics import JOBS_ROUTE, SHADOW_ROUTE
from chalicelib.core.feature import DeviceMessages, Feature

if TYPE_CHECKING:
    from pynamodb.models import Model


def models() -> tuple[type[Model], ...]:
    """Named shadows (the classic shadow is the twin)."""
    from chalicelib.aws_iot.named_shadow_store import NamedShadowModel
    return (NamedShadowModel,)


def device_messages(router: DeviceMessages, aws: AwsIotServices) -> None:
    """AWS IoT's reserved shadow and jobs topics, where this stage serves them."""
    if aws.serves_topics:
        shadows, aws_jobs = aws.shadow_service, aws.aws_jobs_service
        router.register(f"{SHADOW_ROUTE}/*", shadows.on_message, reject=shadows.reject)
        router.register(f"{JOBS_ROUTE}/*", aws_jobs.on_message, reject=aws_jobs.reject)


FEATURE = Feature(name="aws_iot", blueprints=(named_shadow_routes.bp,), models=models, services=AwsIotServices,
                  device_messages=device_messages)
