"""Operator routes of jobs."""
from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.core.auth.routes import OPERATOR, OperatorCall
from chalicelib.core.feature import provided
from chalicelib.core.http.route import route
from chalicelib.core.http.views import json_response, page_response
from chalicelib.jobs.services import JobServices

bp = Blueprint(__name__)
_jobs = provided(JobServices)


@route(bp, "/customer/jobs", "POST", auth=OPERATOR)
def create_job(call: OperatorCall) -> Response:
    from chalicelib.jobs.schemas import CreateJob

    who = call.principal
    created = _jobs().job_service.create(who.tenant_id, call.body(CreateJob), created_by=who.subject)
    return json_response(created.job, 200 if created.replayed else 201)


@route(bp, "/customer/jobs", "GET", auth=OPERATOR)
def list_jobs(call: OperatorCall) -> Response:
    from chalicelib.jobs.schemas import JobListQuery

    limit, token = call.page()
    status = call.query(JobListQuery).status
    page = _jobs().job_service.list_page(call.principal.tenant_id, status, limit, token)
    return page_response("jobs", page)


@route(bp, "/customer/jobs/{job_id}", "GET", auth=OPERATOR)
def get_job(call: OperatorCall, job_id: str) -> Response:
    tenant, service, (limit, token) = call.principal.tenant_id, _jobs().job_service, call.page()
    job = service.get(tenant, job_id)
    return page_response("executions", service.executions(tenant, job_id, limit, token), record=job)


@route(bp, "/customer/jobs/{job_id}", "DELETE", auth=OPERATOR)
def cancel_job(call: OperatorCall, job_id: str) -> Response:
    return json_response(_jobs().job_service.cancel(call.principal.tenant_id, job_id))
