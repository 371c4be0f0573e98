"""Operator routes of group and site commands and of the batches that follow them."""
from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib import wiring
from chalicelib.commands.batches.schemas import BatchTarget
from chalicelib.commands.schemas import CreateCommand
from chalicelib.core.auth.routes import operator, operator_auth
from chalicelib.core.http.views import endpoint, json_response, page_args, page_body, parse_body, path_id

bp = Blueprint(__name__)


def _send(target: BatchTarget, target_id: str, field: str) -> Any:
    who = operator(bp.current_request)
    body = parse_body(bp.current_request, CreateCommand, wiring.settings().max_body_bytes)
    sent = wiring.command_batch_service().send(who.tenant_id, target, path_id(target_id, field), body, who.subject)
    # 202: the batch may still be sending (the schedule finishes what the request had no time for).
    return json_response(sent.batch, 200 if sent.replayed else 202)


@bp.route("/customer/groups/{group_id}/commands", methods=["POST"], authorizer=operator_auth)
@endpoint
def send_group_command(group_id: str) -> Any:
    return _send(BatchTarget.GROUP, group_id, "group_id")


@bp.route("/customer/sites/{site_id}/commands", methods=["POST"], authorizer=operator_auth)
@endpoint
def send_site_command(site_id: str) -> Any:
    return _send(BatchTarget.SITE, site_id, "site_id")


@bp.route("/customer/command-batches", methods=["GET"], authorizer=operator_auth)
@endpoint
def list_batches() -> Any:
    s = wiring.settings()
    tenant = operator(bp.current_request).tenant_id
    limit, token = page_args(bp.current_request, s.page_size_default, s.page_size_max)
    page = wiring.command_batch_service().list_page(tenant, limit, token)
    return json_response(page_body("batches", page.items, page.next_token))


@bp.route("/customer/command-batches/{batch_id}", methods=["GET"], authorizer=operator_auth)
@endpoint
def get_batch(batch_id: str) -> Any:
    s = wiring.settings()
    tenant = operator(bp.current_request).tenant_id
    limit, token = page_args(bp.current_request, s.page_size_default, s.page_size_max)
    return json_response(wiring.command_batch_service().get(tenant, path_id(batch_id, "batch_id"), limit, token))
