"""A request on a malformed `$aws/things/...` topic is answered on its `/rejected` topic, as AWS IoT does.

Without an answer the SDK's request-response clients wait for their operation timeout.
"""
from __future__ import annotations

import awsiot
import pytest
from awsiot import iotjobs, iotshadow

from tests.conftest import Stack
from tests.integration.aws_sdk_support import aws_bridge, request_response_options, sdk_device  # noqa: F401
from tests.support import Api

# The bridge fixture is imported above so that every test here runs with one.
pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("aws_bridge")]

TOO_LONG_NAME = "s" * 65



def test_a_shadow_name_over_64_characters_is_rejected_with_400(stack: Stack, api: Api) -> None:
    device_id, thing, client = sdk_device(stack, api, "aws-bad-shadow")
    shadow = iotshadow.IotShadowClientV2(client, request_response_options())
    try:
        # When the SDK asks for, writes and deletes a named shadow whose name AWS does not allow
        for call in (
                lambda: shadow.get_named_shadow(iotshadow.GetNamedShadowRequest(
                    thing_name=thing, shadow_name=TOO_LONG_NAME)),
                lambda: shadow.update_named_shadow(iotshadow.UpdateNamedShadowRequest(
                    thing_name=thing, shadow_name=TOO_LONG_NAME, state=iotshadow.ShadowState(desired={"a": 1}))),
                lambda: shadow.delete_named_shadow(iotshadow.DeleteNamedShadowRequest(
                    thing_name=thing, shadow_name=TOO_LONG_NAME))):
            # Then each is answered on its /rejected topic with AWS's 400 (not left to time out)
            with pytest.raises(awsiot.V2ServiceException) as refused:
                call().result(10)
            error = refused.value.modeled_error
            assert error is not None and error.code == 400 and "shadow name" in error.message
        # And nothing was stored under the name
        assert api.get(f"/customer/devices/{device_id}/shadows").body["shadows"] == []
    finally:
        client.stop()


def test_next_is_refused_as_an_invalid_topic_for_an_update(stack: Stack, api: Api) -> None:
    _, thing, client = sdk_device(stack, api, "aws-bad-jobs")
    jobs = iotjobs.IotJobsClientV2(client, request_response_options())
    try:
        # When the SDK updates the execution `$next` (AWS accepts `$next` for DescribeJobExecution only)
        with pytest.raises(awsiot.V2ServiceException) as refused:
            jobs.update_job_execution(iotjobs.UpdateJobExecutionRequest(
                thing_name=thing, job_id="$next", status="IN_PROGRESS")).result(10)
        # Then the answer is AWS's InvalidTopic on the update's /rejected topic
        error = refused.value.modeled_error
        assert error is not None and error.code == "InvalidTopic"
        # And a job id AWS would never issue is an invalid request, answered too
        with pytest.raises(awsiot.V2ServiceException) as bad_id:
            jobs.describe_job_execution(iotjobs.DescribeJobExecutionRequest(
                thing_name=thing, job_id="j" * 65)).result(10)
        assert bad_id.value.modeled_error is not None and bad_id.value.modeled_error.code == "InvalidRequest"
    finally:
        client.stop()
