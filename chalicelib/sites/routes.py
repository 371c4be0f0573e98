"""Operator routes of sites and of a device's place in one."""
from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.core.auth.routes import OPERATOR, OperatorCall
from chalicelib.core.feature import provided
from chalicelib.core.http.collections import collection_routes, delete_route
from chalicelib.core.http.route import route
from chalicelib.core.http.views import json_response
from chalicelib.sites.services import SiteServices

bp = Blueprint(__name__)
_sites = provided(SiteServices)


collection_routes(bp, "/customer/sites", "sites", ("chalicelib.sites.schemas", "CreateSite"),
                  lambda: _sites().site_service)
delete_route(bp, "/customer/sites/{site_id}", "site_id", lambda: _sites().site_service)


@route(bp, "/customer/sites/{site_id}", "GET", auth=OPERATOR)
def get_site(call: OperatorCall, site_id: str) -> Response:
    return json_response(_sites().site_service.get(call.principal.tenant_id, site_id))


@route(bp, "/customer/sites/{site_id}", "PATCH", auth=OPERATOR)
def update_site(call: OperatorCall, site_id: str) -> Response:
    from chalicelib.sites.schemas import UpdateSite

    who = call.principal
    change = _sites().site_service.update(who.tenant_id, site_id, call.body(UpdateSite), who.subject)
    return json_response({**change.site.model_dump(mode="json"), **change.model_dump(exclude={"site"})})


@route(bp, "/customer/devices/{device_id}/site", "PUT", auth=OPERATOR)
def map_device(call: OperatorCall, device_id: str) -> Response:
    from chalicelib.sites.schemas import MapDevice

    who = call.principal
    mapping = _sites().mapping_service.map(who.tenant_id, device_id, call.body(MapDevice).site_id, who.subject)
    return json_response({**mapping.device.model_dump(mode="json"), **mapping.model_dump(exclude={"device"})})


@route(bp, "/customer/devices/{device_id}/site", "DELETE", auth=OPERATOR)
def unmap_device(call: OperatorCall, device_id: str) -> Response:
    return json_response(_sites().mapping_service.unmap(call.principal.tenant_id, device_id))
