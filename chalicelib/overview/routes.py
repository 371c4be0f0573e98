"""GET /customer/overview (the fleet at a glance) and GET /customer/commands (the commands behind it)."""
from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.core.auth.routes import OPERATOR, OperatorCall
from chalicelib.core.feature import provided
from chalicelib.core.http.route import route
from chalicelib.core.http.views import json_response, page_response
from chalicelib.overview.services import OverviewServices

bp = Blueprint(__name__)
_overview = provided(OverviewServices)


@route(bp, "/customer/overview", "GET", auth=OPERATOR)
def overview(call: OperatorCall) -> Response:
    return json_response(_overview().overview_service.overview(call.principal.tenant_id))


@route(bp, "/customer/commands", "GET", auth=OPERATOR)
def settled_commands(call: OperatorCall) -> Response:
    from chalicelib.overview.schemas import SettledQuery

    limit, token = call.page()
    query = call.query(SettledQuery)
    page = _overview().overview_service.settled(call.principal.tenant_id, query.outcome, query.hours, limit, token)
    return page_response("commands", page)
