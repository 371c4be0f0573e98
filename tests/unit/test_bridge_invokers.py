"""The Lambda invoker maps every failure to a retry and returns the function's answer."""
from __future__ import annotations

import base64
import io
import json
from typing import Any

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber

from mqtt_bridge.config import BridgeSettings
from mqtt_bridge.invokers import InvokeError, LambdaInvoker, build_invoker, device_event

FUNCTION = "fleet-control-plane-prod-device_message"
EVENT = device_event("tenant/t1/device/d1/status", b'{"battery": 80}')


def body(data: bytes) -> StreamingBody:
    return StreamingBody(io.BytesIO(data), len(data))


def expected_params() -> dict[str, Any]:
    return {"FunctionName": FUNCTION, "InvocationType": "RequestResponse", "Payload": json.dumps(EVENT).encode()}


@pytest.fixture
def stubbed() -> tuple[LambdaInvoker, Stubber]:
    client = boto3.client("lambda", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    stubber = Stubber(client)
    stubber.activate()
    return LambdaInvoker(FUNCTION, client), stubber


def test_event_carries_topic_and_base64_payload() -> None:
    assert EVENT["topic"] == "tenant/t1/device/d1/status"
    assert base64.b64decode(EVENT["payload_b64"]) == b'{"battery": 80}'


def test_successful_invoke_returns_the_function_result(stubbed: tuple[LambdaInvoker, Stubber]) -> None:
    invoker, stubber = stubbed
    answer = {"accepted": True, "reason": "", "result": {"seen": True}}
    stubber.add_response("invoke", {"StatusCode": 200, "Payload": body(json.dumps(answer).encode())},
                         expected_params())
    assert invoker.invoke(EVENT) == answer
    stubber.assert_no_pending_responses()


def test_permanent_rejection_is_returned_not_raised(stubbed: tuple[LambdaInvoker, Stubber]) -> None:
    invoker, stubber = stubbed
    answer = {"accepted": False, "reason": "payload is not JSON", "result": None}
    stubber.add_response("invoke", {"StatusCode": 200, "Payload": body(json.dumps(answer).encode())})
    assert invoker.invoke(EVENT)["accepted"] is False


def test_function_error_raises_so_the_message_is_retried(stubbed: tuple[LambdaInvoker, Stubber]) -> None:
    invoker, stubber = stubbed
    error = {"errorMessage": "Throughput exceeded", "errorType": "ProvisionedThroughputExceededException"}
    stubber.add_response("invoke", {"StatusCode": 200, "FunctionError": "Unhandled",
                                    "Payload": body(json.dumps(error).encode())})
    with pytest.raises(InvokeError, match="Unhandled"):
        invoker.invoke(EVENT)


@pytest.mark.parametrize("code", ["TooManyRequestsException", "ResourceNotFoundException", "ServiceException"])
def test_client_errors_raise_so_the_message_is_retried(stubbed: tuple[LambdaInvoker, Stubber], code: str) -> None:
    invoker, stubber = stubbed
    stubber.add_client_error("invoke", service_error_code=code, http_status_code=429)
    with pytest.raises(InvokeError, match=code):
        invoker.invoke(EVENT)


def test_a_result_that_is_not_a_json_object_raises(stubbed: tuple[LambdaInvoker, Stubber]) -> None:
    invoker, stubber = stubbed
    stubber.add_response("invoke", {"StatusCode": 200, "Payload": body(b"not json")})
    stubber.add_response("invoke", {"StatusCode": 200, "Payload": body(b"[1, 2]")})
    with pytest.raises(InvokeError, match="non-JSON"):
        invoker.invoke(EVENT)
    with pytest.raises(InvokeError, match="not an object"):
        invoker.invoke(EVENT)


def test_unreachable_endpoint_raises_invoke_error() -> None:
    # Given a client pointed at a port nobody listens on
    settings = BridgeSettings(invoker="lambda", lambda_endpoint="http://127.0.0.1:9", lambda_timeout_s=1)
    invoker = build_invoker(settings)
    assert isinstance(invoker, LambdaInvoker)
    # Then the connection failure is a transient error, not a crash
    with pytest.raises(InvokeError, match="lambda invoke failed"):
        invoker.invoke(EVENT)
