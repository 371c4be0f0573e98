"""Operator routes of jobs."""
from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib import wiring
from chalicelib.core.auth.routes import operator, operator_auth
from chalicelib.core.http.views import endpoint, json_response, page_args, page_body, parse_body, parse_query, path_id
from chalicelib.jobs.schemas import CreateJob, JobListQuery

bp = Blueprint(__name__)


@bp.route("/customer/jobs", methods=["POST"], authorizer=operator_auth)
@endpoint
def create_job() -> Any:
    principal = operator(bp.current_request)
    body = parse_body(bp.current_request, CreateJob, wiring.settings().max_body_bytes)
    created = wiring.job_service().create(principal.tenant_id, body, created_by=principal.subject)
    return json_response(created.job, 200 if created.replayed else 201)


@bp.route("/customer/jobs", methods=["GET"], authorizer=operator_auth)
@endpoint
def list_jobs() -> Any:
    s = wiring.settings()
    tenant = operator(bp.current_request).tenant_id
    limit, token = page_args(bp.current_request, s.page_size_default, s.page_size_max)
    query = parse_query(bp.current_request, JobListQuery)
    page = wiring.job_service().list_page(tenant, query.status, limit, token)
    return json_response(page_body("jobs", page.items, page.next_token))


@bp.route("/customer/jobs/{job_id}", methods=["GET"], authorizer=operator_auth)
@endpoint
def get_job(job_id: str) -> Any:
    s = wiring.settings()
    tenant = operator(bp.current_request).tenant_id
    job_id = path_id(job_id, "job_id")
    limit, token = page_args(bp.current_request, s.page_size_default, s.page_size_max)
    service = wiring.job_service()
    job = service.get(tenant, job_id)
    executions = service.executions(tenant, job_id, limit, token)
    return json_response({**job.model_dump(mode="json"), "executions": executions.items,
                          "next_token": executions.next_token})


@bp.route("/customer/jobs/{job_id}", methods=["DELETE"], authorizer=operator_auth)
@endpoint
def cancel_job(job_id: str) -> Any:
    tenant = operator(bp.current_request).tenant_id
    return json_response(wiring.job_service().cancel(tenant, path_id(job_id, "job_id")))
