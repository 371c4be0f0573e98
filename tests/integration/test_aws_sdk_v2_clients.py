"""The SDK's request-response service clients (V2, MQTT 5), as its current shadow and jobs samples use them."""
from __future__ import annotations

import queue
from typing import Any

import awsiot
import pytest
from awscrt import mqtt_request_response
from awsiot import iotjobs, iotshadow

from tests.conftest import Stack
from tests.integration.aws_sdk_support import aws_bridge, request_response_options, sdk_device  # noqa: F401
from tests.integration.jobs_support import create_job
from tests.support import Api

# The bridge fixture is imported above so that every test here runs with one.
pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("aws_bridge")]



def test_the_shadow_sample_commands_work_unchanged(stack: Stack, api: Api) -> None:
    device_id, thing, client = sdk_device(stack, api, "aws-v2-shadow")
    shadow = iotshadow.IotShadowClientV2(client, request_response_options())
    deltas: queue.Queue[Any] = queue.Queue()
    stream = shadow.create_shadow_delta_updated_stream(
        iotshadow.ShadowDeltaUpdatedSubscriptionRequest(thing_name=thing), awsiot.ServiceStreamOptions(deltas.put))
    stream.open()
    try:
        # get on a shadow never written: the sample sees AWS's 404
        with pytest.raises(awsiot.V2ServiceException) as missing:
            shadow.get_shadow(iotshadow.GetShadowRequest(thing_name=thing)).result(10)
        assert missing.value.modeled_error.code == 404

        # update-desired and update-reported, as the sample's commands send them
        desired = shadow.update_shadow(iotshadow.UpdateShadowRequest(
            thing_name=thing, state=iotshadow.ShadowState(desired={"color": "green"}))).result(10)
        assert desired.state.desired == {"color": "green"} and desired.version == 1
        assert deltas.get(timeout=10).state == {"color": "green"}
        reported = shadow.update_shadow(iotshadow.UpdateShadowRequest(
            thing_name=thing, state=iotshadow.ShadowState(reported={"color": "green"}))).result(10)
        assert reported.version == 2
        twin = api.get(f"/customer/devices/{device_id}/twin").body
        assert twin["sync_status"] == "synced" and twin["desired"] == {"color": "green"}

        got = shadow.get_shadow(iotshadow.GetShadowRequest(thing_name=thing)).result(10)
        assert got.state.reported == {"color": "green"} and got.state.delta is None and got.version == 2

        deleted = shadow.delete_shadow(iotshadow.DeleteShadowRequest(thing_name=thing)).result(10)
        assert deleted.version == 3
        assert api.get(f"/customer/devices/{device_id}/twin").body["desired"] == {}
    finally:
        client.stop()


def test_the_jobs_sample_flow_works_unchanged(stack: Stack, api: Api) -> None:
    device_id, thing, client = sdk_device(stack, api, "aws-v2-jobs")
    jobs = iotjobs.IotJobsClientV2(client, request_response_options())
    changed: queue.Queue[Any] = queue.Queue()
    next_changed: queue.Queue[Any] = queue.Queue()
    statuses: queue.Queue[Any] = queue.Queue()
    failures: list[Any] = []
    # The sample's two event streams, opened before anything happens
    streams = [
        jobs.create_job_executions_changed_stream(
            iotjobs.JobExecutionsChangedSubscriptionRequest(thing_name=thing),
            awsiot.ServiceStreamOptions(changed.put, statuses.put, failures.append)),
        jobs.create_next_job_execution_changed_stream(
            iotjobs.NextJobExecutionChangedSubscriptionRequest(thing_name=thing),
            awsiot.ServiceStreamOptions(next_changed.put, statuses.put, failures.append)),
    ]
    for stream in streams:
        stream.open()
    established = mqtt_request_response.SubscriptionStatusEventType.SUBSCRIPTION_ESTABLISHED
    for _ in streams:  # each stream reports its subscription
        assert statuses.get(timeout=10).type == established
    try:
        job_id = create_job(api, target_device_id=device_id)["job_id"]
        assert next_changed.get(timeout=10).execution.job_id == job_id
        assert [j.job_id for j in changed.get(timeout=10).jobs["QUEUED"]] == [job_id], failures
        pending = jobs.get_pending_job_executions(iotjobs.GetPendingJobExecutionsRequest(thing_name=thing)).result(10)
        assert [j.job_id for j in pending.queued_jobs] == [job_id]

        started = jobs.start_next_pending_job_execution(
            iotjobs.StartNextPendingJobExecutionRequest(thing_name=thing)).result(10)
        assert started.execution.job_id == job_id and started.execution.status == "IN_PROGRESS"

        described = jobs.describe_job_execution(iotjobs.DescribeJobExecutionRequest(
            thing_name=thing, job_id=job_id, include_job_document=True)).result(10)
        assert described.execution.job_document == {"type": "reboot", "params": {}}

        jobs.update_job_execution(iotjobs.UpdateJobExecutionRequest(
            thing_name=thing, job_id=job_id, status="SUCCEEDED")).result(10)
        assert api.get(f"/customer/jobs/{job_id}").body["status"] == "COMPLETED"
        assert next_changed.get(timeout=10).execution is None
        assert changed.get(timeout=10).jobs == {}

        with pytest.raises(awsiot.V2ServiceException) as refused:
            jobs.update_job_execution(iotjobs.UpdateJobExecutionRequest(
                thing_name=thing, job_id=job_id, status="IN_PROGRESS")).result(10)
        assert refused.value.modeled_error.code == "InvalidStateTransition"
    finally:
        client.stop()
