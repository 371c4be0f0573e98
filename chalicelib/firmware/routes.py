"""Operator routes of firmware artifacts and of the fleet's firmware versions."""
from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.core.auth.routes import OPERATOR, OperatorCall
from chalicelib.core.feature import provided
from chalicelib.core.http.collections import delete_route
from chalicelib.core.http.route import route
from chalicelib.core.http.views import json_response, page_response
from chalicelib.firmware.services import FirmwareServices

bp = Blueprint(__name__)
_firmware = provided(FirmwareServices)


@route(bp, "/customer/firmware", "POST", auth=OPERATOR)
def create_firmware(call: OperatorCall) -> Response:
    from chalicelib.firmware.schemas import CreateFirmware

    who = call.principal
    ticket = _firmware().firmware_service.create(who.tenant_id, call.body(CreateFirmware), created_by=who.subject)
    return json_response(ticket, 201)


@route(bp, "/customer/firmware", "GET", auth=OPERATOR)
def list_firmware(call: OperatorCall) -> Response:
    from chalicelib.firmware.schemas import FirmwareListQuery

    limit, token = call.page()
    status = call.query(FirmwareListQuery).status
    return page_response("firmware", _firmware().firmware_service.list_page(
        call.principal.tenant_id, limit, token, status))


@route(bp, "/customer/firmware/{firmware_id}", "GET", auth=OPERATOR)
def get_firmware(call: OperatorCall, firmware_id: str) -> Response:
    return json_response(_firmware().firmware_service.get(call.principal.tenant_id, firmware_id))


@route(bp, "/customer/firmware/{firmware_id}/complete", "POST", auth=OPERATOR)
def complete_firmware(call: OperatorCall, firmware_id: str) -> Response:
    return json_response(_firmware().firmware_service.complete(call.principal.tenant_id, firmware_id))


delete_route(bp, "/customer/firmware/{firmware_id}", "firmware_id", lambda: _firmware().firmware_service)


@route(bp, "/customer/firmware-versions", "GET", auth=OPERATOR)
def firmware_versions(call: OperatorCall) -> Response:
    from chalicelib.firmware.schemas import VersionsQuery

    group_id = call.query(VersionsQuery).group_id
    return json_response(_firmware().firmware_versions.counts(call.principal.tenant_id, group_id))
