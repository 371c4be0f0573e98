"""Device routes of jobs: the pending list and the device's own executions."""
from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.core.feature import provided
from chalicelib.core.http.route import route
from chalicelib.core.http.views import json_response
from chalicelib.devices.auth import DEVICE, DeviceCall
from chalicelib.jobs.services import JobServices

bp = Blueprint(__name__)
_jobs = provided(JobServices)


@route(bp, "/device/v1/jobs/pending", "GET", auth=DEVICE)
def pending_jobs(call: DeviceCall) -> Response:
    me = call.principal
    return json_response({"jobs": _jobs().execution_service.pending(me.tenant_id, me.device_id)})


@route(bp, "/device/v1/jobs/{job_id}/execution", "GET", auth=DEVICE)
def get_execution(call: DeviceCall, job_id: str) -> Response:
    me = call.principal
    return json_response(_jobs().execution_service.describe(me.tenant_id, me.device_id, job_id))


@route(bp, "/device/v1/jobs/{job_id}/execution", "PUT", auth=DEVICE)
def update_execution(call: DeviceCall, job_id: str) -> Response:
    from chalicelib.jobs.schemas import UpdateExecution

    me, body = call.principal, call.body(UpdateExecution)
    return json_response(_jobs().execution_service.update(me.tenant_id, me.device_id, job_id, body))
