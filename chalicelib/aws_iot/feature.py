"""AWS IoT compatibility: named-shadow routes, and the `$aws/things/...` shadow and jobs topics."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib.aws_iot import named_shadow_routes
from chalicelib.aws_iot.topics import JOBS_ROUTE, SHADOW_ROUTE
from chalicelib.features import Feature

if TYPE_CHECKING:
    from chalicelib.container import Container
    from chalicelib.ingress.router import DeviceMessageRouter


def device_messages(router: DeviceMessageRouter, c: Container) -> None:
    """AWS IoT's reserved shadow and jobs topics, where this stage serves them."""
    if c.settings.serves_aws_iot_topics():
        shadows, aws_jobs = c.shadow_service, c.aws_jobs_service
        router.register(f"{SHADOW_ROUTE}/*", shadows.on_message, reject=shadows.reject)
        router.register(f"{JOBS_ROUTE}/*", aws_jobs.on_message, reject=aws_jobs.reject)


FEATURE = Feature(blueprints=(named_shadow_routes.bp,), device_messages=device_messages)
