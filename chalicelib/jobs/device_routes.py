"""Device routes of jobs: the pending list and the device's own executions."""
from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib import wiring
from chalicelib.core.auth.routes import device
from chalicelib.core.http.views import endpoint, json_response, parse_body, path_id
from chalicelib.jobs.schemas import UpdateExecution

bp = Blueprint(__name__)


@bp.route("/device/v1/jobs/pending", methods=["GET"])
@endpoint
def pending_jobs() -> Any:
    principal = device(bp.current_request)
    return json_response({"jobs": wiring.execution_service().pending(principal.tenant_id, principal.device_id)})


@bp.route("/device/v1/jobs/{job_id}/execution", methods=["GET"])
@endpoint
def get_execution(job_id: str) -> Any:
    principal = device(bp.current_request)
    service = wiring.execution_service()
    return json_response(service.describe(principal.tenant_id, principal.device_id, path_id(job_id, "job_id")))


@bp.route("/device/v1/jobs/{job_id}/execution", methods=["PUT"])
@endpoint
def update_execution(job_id: str) -> Any:
    principal = device(bp.current_request)
    body = parse_body(bp.current_request, UpdateExecution, wiring.settings().max_body_bytes)
    execution = wiring.execution_service().update(principal.tenant_id, principal.device_id,
                                                  path_id(job_id, "job_id"), body)
    return json_response(execution)
