"""Every feature of the app, in order: the composition root assembles the app from their declarations.

A feature says what it brings in its own `feature.py` (see chalicelib/core/feature.py): its
blueprints and schedules, tables, services, device-message handlers and IAM needs. This list
orders them; app.py registers their blueprints, the container builds their services, table
creation, the CloudFormation template and the IAM policies read their models and access.
"""
from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import TYPE_CHECKING, Any

from chalice import Chalice

if TYPE_CHECKING:
    from pynamodb.models import Model

    from chalicelib.core.feature import Feature, FunctionAccess


@cache
def all_features() -> tuple[Feature[Any], ...]:
    """Every feature, in registration order (device-message handlers are matched in this order)."""
    from chalicelib.apidocs.feature import FEATURE as apidocs
    from chalicelib.aws_iot.feature import FEATURE as aws_iot
    from chalicelib.broker_auth.feature import FEATURE as broker_auth
    from chalicelib.certificates.feature import FEATURE as certificates
    from chalicelib.commands.feature import FEATURE as commands
    from chalicelib.core.core_feature import CORE
    from chalicelib.devices.feature import FEATURE as devices
    from chalicelib.firmware.feature import FEATURE as firmware
    from chalicelib.groups.feature import FEATURE as groups
    from chalicelib.health.feature import FEATURE as health
    from chalicelib.imports.feature import FEATURE as imports
    from chalicelib.ingress.feature import FEATURE as ingress
    from chalicelib.jobs.feature import FEATURE as jobs
    from chalicelib.overview.feature import FEATURE as overview
    from chalicelib.provisioning.feature import FEATURE as provisioning
    from chalicelib.sites.feature import FEATURE as sites
    from chalicelib.twin.feature import FEATURE as twin

    return (CORE, apidocs, health, devices, groups, ingress, commands, twin, sites, jobs, firmware, overview,
            aws_iot, broker_auth, certificates, imports, provisioning)


def register_routes(app: Chalice) -> None:
    """Register every feature's blueprints and schedules on the app."""
    for feature in all_features():
        for blueprint in (*feature.blueprints, *feature.schedules):
            app.register_blueprint(blueprint)


def all_models() -> tuple[type[Model], ...]:
    """Every table of the product: tables are only ever created, templated and granted from this list."""
    return tuple(model for feature in all_features() for model in feature.models())


def function_access() -> Mapping[str, FunctionAccess]:
    """What each Lambda function touches, from the features' declarations (a shared function gets the union)."""
    merged: dict[str, FunctionAccess] = {}
    for feature in all_features():
        for function, access in feature.access().items():
            merged[function] = merged[function] | access if function in merged else access
    return merged
