"""Operator routes of the device registry, and of a device's enabled flag."""
from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.core.auth.routes import OPERATOR, OperatorCall
from chalicelib.core.feature import provided
from chalicelib.core.http.collections import delete_route
from chalicelib.core.http.route import route
from chalicelib.core.http.views import json_response, page_response
from chalicelib.devices.services import DeviceServices
from chalicelib.sites.services import SiteServices

bp = Blueprint(__name__)
_devices = provided(DeviceServices)
_sites = provided(SiteServices)

# Each view imports the request models it parses (pydantic) when it runs: registering the
# routes, which every function's cold start does, loads none of them.


@route(bp, "/customer/devices", "POST", auth=OPERATOR)
def create_device(call: OperatorCall) -> Response:
    from chalicelib.devices.schemas import CreateDevice

    created = _devices().device_service.create(call.principal.tenant_id, call.body(CreateDevice))
    return json_response({**created.device.model_dump(mode="json"), "provision_token": created.provision_token}, 201)


@route(bp, "/customer/devices", "GET", auth=OPERATOR)
def list_devices(call: OperatorCall) -> Response:
    from chalicelib.devices.schemas import DeviceListQuery

    limit, token = call.page()
    query = call.query(DeviceListQuery)
    page = _devices().device_service.list_page(call.principal.tenant_id, limit, token, group_id=query.group_id,
                                                site_id=query.site_id, status=query.status,
                                                presence=query.presence, twin_pending=query.twin == "pending")
    return page_response("devices", page)


@route(bp, "/customer/devices/{device_id}", "GET", auth=OPERATOR)
def get_device(call: OperatorCall, device_id: str) -> Response:
    return json_response(_devices().device_service.get(call.principal.tenant_id, device_id))


@route(bp, "/customer/devices/{device_id}", "PATCH", auth=OPERATOR)
def update_device(call: OperatorCall, device_id: str) -> Response:
    from chalicelib.devices.schemas import UpdateDevice

    return json_response(_devices().device_service.update(call.principal.tenant_id, device_id,
                                                           call.body(UpdateDevice)))


delete_route(bp, "/customer/devices/{device_id}", "device_id", lambda: _devices().device_service)


@route(bp, "/customer/devices/{device_id}/token", "POST", auth=OPERATOR)
def rotate_token(call: OperatorCall, device_id: str) -> Response:
    token = _devices().device_service.rotate_token(call.principal.tenant_id, device_id)
    return json_response({"device_id": device_id, "provision_token": token}, 201)


# Enabling re-sends the device's site welcome, hence the mapping service.
@route(bp, "/customer/devices/{device_id}/disable", "POST", auth=OPERATOR)
def disable_device(call: OperatorCall, device_id: str) -> Response:
    who = call.principal
    return json_response(_sites().mapping_service.set_enabled(who.tenant_id, device_id, False, who.subject))


@route(bp, "/customer/devices/{device_id}/enable", "POST", auth=OPERATOR)
def enable_device(call: OperatorCall, device_id: str) -> Response:
    who = call.principal
    return json_response(_sites().mapping_service.set_enabled(who.tenant_id, device_id, True, who.subject))
