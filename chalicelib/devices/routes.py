"""Operator routes of the device registry."""
from __future__ import annotations

from typing import Any

from chalice import Blueprint
from pydantic import BaseModel, ConfigDict, Field

from chalicelib import wiring
from chalicelib.core.auth.routes import operator, operator_auth
from chalicelib.core.http.views import endpoint, json_response, page_args, page_body, parse_body, parse_query, path_id
from chalicelib.core.ids import ResourceId
from chalicelib.devices.schemas import CreateDevice, DeviceStatus, UpdateDevice

bp = Blueprint(__name__)


class DeviceListQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")
    group_id: ResourceId | None = Field(default=None)
    site_id: ResourceId | None = Field(default=None)
    status: DeviceStatus | None = Field(default=None)


@bp.route("/customer/devices", methods=["POST"], authorizer=operator_auth)
@endpoint
def create_device() -> Any:
    tenant = operator(bp.current_request).tenant_id
    body = parse_body(bp.current_request, CreateDevice, wiring.settings().max_body_bytes)
    created = wiring.device_service().create(tenant, body)
    return json_response({**created.device.model_dump(mode="json"), "provision_token": created.provision_token}, 201)


@bp.route("/customer/devices", methods=["GET"], authorizer=operator_auth)
@endpoint
def list_devices() -> Any:
    s = wiring.settings()
    tenant = operator(bp.current_request).tenant_id
    limit, token = page_args(bp.current_request, s.page_size_default, s.page_size_max)
    query = parse_query(bp.current_request, DeviceListQuery)
    page = wiring.device_service().list_page(tenant, limit, token, group_id=query.group_id, site_id=query.site_id,
                                             status=query.status)
    return json_response(page_body("devices", page.items, page.next_token))


@bp.route("/customer/devices/{device_id}", methods=["GET"], authorizer=operator_auth)
@endpoint
def get_device(device_id: str) -> Any:
    tenant = operator(bp.current_request).tenant_id
    return json_response(wiring.device_service().get(tenant, path_id(device_id, "device_id")))


@bp.route("/customer/devices/{device_id}", methods=["PATCH"], authorizer=operator_auth)
@endpoint
def update_device(device_id: str) -> Any:
    tenant = operator(bp.current_request).tenant_id
    body = parse_body(bp.current_request, UpdateDevice, wiring.settings().max_body_bytes)
    return json_response(wiring.device_service().update(tenant, path_id(device_id, "device_id"), body))


@bp.route("/customer/devices/{device_id}", methods=["DELETE"], authorizer=operator_auth)
@endpoint
def delete_device(device_id: str) -> Any:
    tenant = operator(bp.current_request).tenant_id
    wiring.device_service().delete(tenant, path_id(device_id, "device_id"))
    return json_response({"device_id": device_id, "deleted": True})


@bp.route("/customer/devices/{device_id}/token", methods=["POST"], authorizer=operator_auth)
@endpoint
def rotate_token(device_id: str) -> Any:
    tenant = operator(bp.current_request).tenant_id
    token = wiring.device_service().rotate_token(tenant, path_id(device_id, "device_id"))
    return json_response({"device_id": device_id, "provision_token": token}, 201)
