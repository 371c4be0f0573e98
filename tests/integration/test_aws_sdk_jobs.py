"""Devices written for AWS IoT: the SDK's own jobs client runs a job created by an operator."""
from __future__ import annotations

import time
from typing import Any

import pytest
from awsiot import iotjobs

from chalicelib.core.identity import mqtt_username
from tests.conftest import Stack
from tests.integration.aws_sdk_support import QOS, Inbox, aws_bridge, sdk_connection  # noqa: F401
from tests.integration.jobs_support import create_job
from tests.support import Api

# The bridge fixture is imported above so that every test here runs with one.
pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("aws_bridge")]


def _jobs_client(stack: Stack, api: Api, device_id: str, token: str) -> tuple[Any, iotjobs.IotJobsClient, Inbox, str]:
    stack.sync.sync_once()
    thing = mqtt_username(api.tenant_id, device_id)
    connection = sdk_connection(stack, thing, token)
    client = iotjobs.IotJobsClient(connection)
    inbox = Inbox()
    futures = [
        client.subscribe_to_next_job_execution_changed_events(
            iotjobs.NextJobExecutionChangedSubscriptionRequest(thing_name=thing), QOS,
            inbox.callback("notify-next"))[0],
        client.subscribe_to_job_executions_changed_events(
            iotjobs.JobExecutionsChangedSubscriptionRequest(thing_name=thing), QOS, inbox.callback("notify"))[0],
        client.subscribe_to_start_next_pending_job_execution_accepted(
            iotjobs.StartNextPendingJobExecutionSubscriptionRequest(thing_name=thing), QOS,
            inbox.callback("start-next/accepted"))[0],
        client.subscribe_to_get_pending_job_executions_accepted(
            iotjobs.GetPendingJobExecutionsSubscriptionRequest(thing_name=thing), QOS,
            inbox.callback("get/accepted"))[0],
    ]
    for f in futures:
        f.result(10)
    return connection, client, inbox, thing


def _subscribe_update(client: iotjobs.IotJobsClient, inbox: Inbox, thing: str, job_id: str) -> None:
    request = iotjobs.UpdateJobExecutionSubscriptionRequest(thing_name=thing, job_id=job_id)
    client.subscribe_to_update_job_execution_accepted(request, QOS, inbox.callback("update/accepted"))[0].result(10)
    client.subscribe_to_update_job_execution_rejected(request, QOS, inbox.callback("update/rejected"))[0].result(10)


def _job_status(api: Api, job_id: str, status: str, timeout: float = 10.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        job = api.get(f"/customer/jobs/{job_id}").body
        if job["status"] == status or time.monotonic() > deadline:
            return dict(job)
        time.sleep(0.05)


def test_a_job_runs_with_the_sdk_jobs_client(stack: Stack, api: Api) -> None:
    device_id, token = api.create_device("aws-job")
    connection, client, inbox, thing = _jobs_client(stack, api, device_id, token)
    try:
        # When the operator creates a job for the device, notify-next carries it with its document
        job = create_job(api, target_device_id=device_id, document_params={"delay_s": 5})
        job_id = job["job_id"]
        event = inbox.next("notify-next")
        assert event.execution.job_id == job_id and event.execution.status == "QUEUED"
        assert event.execution.job_document == {"type": "reboot", "params": {"delay_s": 5}}
        assert event.execution.thing_name == thing
        assert [s.job_id for s in inbox.next("notify").jobs["QUEUED"]] == [job_id]

        # jobs/get lists it as queued
        client.publish_get_pending_job_executions(
            iotjobs.GetPendingJobExecutionsRequest(thing_name=thing, client_token="g-1"), QOS).result(5)
        pending = inbox.next("get/accepted")
        assert [s.job_id for s in pending.queued_jobs] == [job_id] and pending.in_progress_jobs == []
        assert pending.client_token == "g-1"

        # start-next moves it to IN_PROGRESS and answers with the document
        _subscribe_update(client, inbox, thing, job_id)
        client.publish_start_next_pending_job_execution(iotjobs.StartNextPendingJobExecutionRequest(
            thing_name=thing, client_token="s-1", status_details={"step": "downloading"}), QOS).result(5)
        started = inbox.next("start-next/accepted")
        assert started.client_token == "s-1" and started.execution.job_id == job_id
        assert started.execution.status == "IN_PROGRESS" and started.execution.version_number == 2
        assert started.execution.status_details == {"step": "downloading"}
        assert started.execution.job_document == {"type": "reboot", "params": {"delay_s": 5}}

        # A stale expected version is rejected with the current state
        client.publish_update_job_execution(iotjobs.UpdateJobExecutionRequest(
            thing_name=thing, job_id=job_id, status="SUCCEEDED", expected_version=1, client_token="u-0"),
            QOS).result(5)
        stale = inbox.next("update/rejected")
        assert stale.code == "VersionMismatch" and stale.execution_state.version_number == 2

        # update SUCCEEDED is accepted, the operator sees the job COMPLETED, and nothing is next
        client.publish_update_job_execution(iotjobs.UpdateJobExecutionRequest(
            thing_name=thing, job_id=job_id, status="SUCCEEDED", expected_version=2, client_token="u-1",
            include_job_execution_state=True, status_details={"result": "ok"}), QOS).result(5)
        done = inbox.next("update/accepted")
        assert done.client_token == "u-1" and done.execution_state.status == "SUCCEEDED"
        assert _job_status(api, job_id, "COMPLETED")["status"] == "COMPLETED"
        last = inbox.next("notify-next")
        assert last.execution is None

        # A final execution cannot move again
        client.publish_update_job_execution(iotjobs.UpdateJobExecutionRequest(
            thing_name=thing, job_id=job_id, status="IN_PROGRESS", client_token="u-2"), QOS).result(5)
        assert inbox.next("update/rejected").code == "InvalidStateTransition"
    finally:
        connection.disconnect().result(5)
