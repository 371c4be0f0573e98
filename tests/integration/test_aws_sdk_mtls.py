"""AWS IoT Device SDK v2 devices on the mutual-TLS listener, connected exactly as the SDK's samples connect.

The samples (shadow MQTT 3 and MQTT 5, jobs) call `mtls_from_path(endpoint, port=8883, cert,
key, ca, client_id)` with metrics on: the broker takes the username from the certificate's CN,
and the client id is the thing's name (the samples' `--client_id`), as the certificate listener requires.
"""
from __future__ import annotations

import queue
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest
from awscrt import mqtt, mqtt5
from awsiot import iotjobs, iotshadow, mqtt5_client_builder, mqtt_connection_builder

from tests.conftest import Stack
from tests.integration.aws_sdk_support import aws_bridge, request_response_options  # noqa: F401
from tests.integration.jobs_support import create_job
from tests.support import Api

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("aws_bridge")]
QOS = mqtt.QoS.AT_LEAST_ONCE


def _certificate(stack: Stack, api: Api, device_id: str, folder: Path) -> dict[str, str]:
    """The files a sample is given: --cert, --key, --ca_file (the answer of POST .../certificates)."""
    api.create_device(device_id)
    made = api.post(f"/customer/devices/{device_id}/certificates", {}).body
    stack.sync.sync_once()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "cert.pem").write_text(made["certificate_pem"])
    (folder / "key.pem").write_text(made["private_key_pem"])
    assert stack.broker.tls is not None
    return {"cert": str(folder / "cert.pem"), "key": str(folder / "key.pem"), "ca": str(stack.broker.tls.ca_file),
            "port": str(stack.broker.tls.mtls_port), "thing": f"{api.tenant_id}.{device_id}"}


def _mqtt5(files: dict[str, str]) -> mqtt5.Client:
    connected: Future[bool] = Future()
    client = mqtt5_client_builder.mtls_from_path(
        endpoint="localhost", port=int(files["port"]), cert_filepath=files["cert"], pri_key_filepath=files["key"],
        ca_filepath=files["ca"], client_id=files["thing"], clean_session=True, keep_alive_secs=30,
        on_lifecycle_connection_success=lambda event: connected.done() or connected.set_result(True),
        on_lifecycle_connection_failure=lambda event: connected.done() or connected.set_exception(
            ConnectionError(str(event.exception))))
    client.start()
    connected.result(10)
    return client


def test_the_mqtt3_shadow_sample_connection_reaches_update_accepted(stack: Stack, api: Api, tmp_path: Path) -> None:
    files = _certificate(stack, api, "sdk-mtls-3", tmp_path)
    thing = files["thing"]
    connection = mqtt_connection_builder.mtls_from_path(
        endpoint="localhost", port=int(files["port"]), cert_filepath=files["cert"], pri_key_filepath=files["key"],
        ca_filepath=files["ca"], client_id=files["thing"], clean_session=False, keep_alive_secs=30)
    connection.connect().result(10)
    try:
        shadow = iotshadow.IotShadowClient(connection)
        accepted: queue.Queue[Any] = queue.Queue()
        subscribed, _ = shadow.subscribe_to_update_shadow_accepted(
            iotshadow.UpdateShadowSubscriptionRequest(thing_name=thing), QOS, accepted.put)
        subscribed.result(10)
        shadow.publish_update_shadow(iotshadow.UpdateShadowRequest(
            thing_name=thing, state=iotshadow.ShadowState(reported={"color": "blue"})), QOS).result(10)
        assert accepted.get(timeout=10).state.reported == {"color": "blue"}
        assert api.get("/customer/devices/sdk-mtls-3/twin").body["reported"] == {"color": "blue"}
    finally:
        connection.disconnect().result(10)


def test_the_mqtt5_shadow_sample_connection_reaches_update_accepted(stack: Stack, api: Api, tmp_path: Path) -> None:
    files = _certificate(stack, api, "sdk-mtls-5", tmp_path)
    client = _mqtt5(files)
    try:
        shadow = iotshadow.IotShadowClientV2(client, request_response_options())
        answer = shadow.update_shadow(iotshadow.UpdateShadowRequest(
            thing_name=files["thing"], state=iotshadow.ShadowState(reported={"color": "green"}))).result(10)
        assert answer.state.reported == {"color": "green"}
        assert api.get("/customer/devices/sdk-mtls-5/twin").body["reported"] == {"color": "green"}
    finally:
        client.stop()


def test_the_jobs_sample_connection_completes_an_operator_job(stack: Stack, api: Api, tmp_path: Path) -> None:
    files = _certificate(stack, api, "sdk-mtls-jobs", tmp_path)
    client = _mqtt5(files)
    try:
        jobs = iotjobs.IotJobsClientV2(client, request_response_options())
        job_id = create_job(api, target_device_id="sdk-mtls-jobs")["job_id"]
        started = jobs.start_next_pending_job_execution(
            iotjobs.StartNextPendingJobExecutionRequest(thing_name=files["thing"])).result(10)
        assert started.execution.job_id == job_id
        jobs.update_job_execution(iotjobs.UpdateJobExecutionRequest(
            thing_name=files["thing"], job_id=job_id, status="SUCCEEDED")).result(10)
        assert api.get(f"/customer/jobs/{job_id}").body["status"] == "COMPLETED"
    finally:
        client.stop()


def test_a_revoked_certificate_cannot_connect_the_sdk(stack: Stack, api: Api, tmp_path: Path) -> None:
    files = _certificate(stack, api, "sdk-mtls-revoked", tmp_path)
    cid = api.get("/customer/devices/sdk-mtls-revoked/certificates").body["certificates"][0]["certificate_id"]
    api.patch(f"/customer/devices/sdk-mtls-revoked/certificates/{cid}", {"status": "REVOKED"})
    stack.sync.sync_once()
    with pytest.raises(ConnectionError):
        _mqtt5(files)
