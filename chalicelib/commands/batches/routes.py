"""Operator routes of group and site commands and of the batches that follow them."""
from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.commands.services import CommandServices
from chalicelib.core.auth.routes import OPERATOR, OperatorCall
from chalicelib.core.feature import provided
from chalicelib.core.http.collections import list_route
from chalicelib.core.http.route import route
from chalicelib.core.http.views import json_response

bp = Blueprint(__name__)
_commands = provided(CommandServices)


def _send(call: OperatorCall, target: str, target_id: str) -> Response:
    from chalicelib.commands.batches.schemas import BatchTarget
    from chalicelib.commands.schemas import CreateCommand

    who, body = call.principal, call.body(CreateCommand)
    sent = _commands().command_batch_service.send(who.tenant_id, BatchTarget(target), target_id, body, who.subject)
    # 202: the batch may still be sending (the schedule finishes what the request had no time for).
    return json_response(sent.batch, 200 if sent.replayed else 202)


@route(bp, "/customer/groups/{group_id}/commands", "POST", auth=OPERATOR)
def send_group_command(call: OperatorCall, group_id: str) -> Response:
    return _send(call, "group", group_id)


@route(bp, "/customer/sites/{site_id}/commands", "POST", auth=OPERATOR)
def send_site_command(call: OperatorCall, site_id: str) -> Response:
    return _send(call, "site", site_id)


list_route(bp, "/customer/command-batches", "batches", lambda: _commands().command_batch_service)


@route(bp, "/customer/command-batches/{batch_id}", "GET", auth=OPERATOR)
def get_batch(call: OperatorCall, batch_id: str) -> Response:
    return json_response(_commands().command_batch_service.get(call.principal.tenant_id, batch_id, *call.page()))
