"""Operator routes of sites and of a device's place in its lifecycle (site, enable, disable)."""
from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib import wiring
from chalicelib.core.auth.routes import operator, operator_auth
from chalicelib.core.http.views import endpoint, json_response, page_args, page_body, parse_body, path_id
from chalicelib.sites.schemas import CreateSite, MapDevice, UpdateSite

bp = Blueprint(__name__)


@bp.route("/customer/sites", methods=["POST"], authorizer=operator_auth)
@endpoint
def create_site() -> Any:
    tenant = operator(bp.current_request).tenant_id
    body = parse_body(bp.current_request, CreateSite, wiring.settings().max_body_bytes)
    return json_response(wiring.site_service().create(tenant, body), 201)


@bp.route("/customer/sites", methods=["GET"], authorizer=operator_auth)
@endpoint
def list_sites() -> Any:
    s = wiring.settings()
    tenant = operator(bp.current_request).tenant_id
    limit, token = page_args(bp.current_request, s.page_size_default, s.page_size_max)
    page = wiring.site_service().list_page(tenant, limit, token)
    return json_response(page_body("sites", page.items, page.next_token))


@bp.route("/customer/sites/{site_id}", methods=["GET"], authorizer=operator_auth)
@endpoint
def get_site(site_id: str) -> Any:
    tenant = operator(bp.current_request).tenant_id
    return json_response(wiring.site_service().get(tenant, path_id(site_id, "site_id")))


@bp.route("/customer/sites/{site_id}", methods=["PATCH"], authorizer=operator_auth)
@endpoint
def update_site(site_id: str) -> Any:
    who = operator(bp.current_request)
    body = parse_body(bp.current_request, UpdateSite, wiring.settings().max_body_bytes)
    change = wiring.site_service().update(who.tenant_id, path_id(site_id, "site_id"), body, who.subject)
    return json_response({**change.site.model_dump(mode="json"), **change.model_dump(exclude={"site"})})


@bp.route("/customer/sites/{site_id}", methods=["DELETE"], authorizer=operator_auth)
@endpoint
def delete_site(site_id: str) -> Any:
    tenant = operator(bp.current_request).tenant_id
    wiring.site_service().delete(tenant, path_id(site_id, "site_id"))
    return json_response({"site_id": site_id, "deleted": True})


@bp.route("/customer/devices/{device_id}/site", methods=["PUT"], authorizer=operator_auth)
@endpoint
def map_device(device_id: str) -> Any:
    who = operator(bp.current_request)
    body = parse_body(bp.current_request, MapDevice, wiring.settings().max_body_bytes)
    mapping = wiring.mapping_service().map(who.tenant_id, path_id(device_id, "device_id"), body.site_id, who.subject)
    return json_response({**mapping.device.model_dump(mode="json"), **mapping.model_dump(exclude={"device"})})


@bp.route("/customer/devices/{device_id}/site", methods=["DELETE"], authorizer=operator_auth)
@endpoint
def unmap_device(device_id: str) -> Any:
    tenant = operator(bp.current_request).tenant_id
    return json_response(wiring.mapping_service().unmap(tenant, path_id(device_id, "device_id")))


@bp.route("/customer/devices/{device_id}/disable", methods=["POST"], authorizer=operator_auth)
@endpoint
def disable_device(device_id: str) -> Any:
    who = operator(bp.current_request)
    return json_response(wiring.mapping_service().set_enabled(who.tenant_id, path_id(device_id, "device_id"),
                                                              False, who.subject))


@bp.route("/customer/devices/{device_id}/enable", methods=["POST"], authorizer=operator_auth)
@endpoint
def enable_device(device_id: str) -> Any:
    who = operator(bp.current_request)
    return json_response(wiring.mapping_service().set_enabled(who.tenant_id, path_id(device_id, "device_id"),
                                                              True, who.subject))
