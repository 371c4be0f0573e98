"""Firmware artifacts against a real S3 (SeaweedFS, as `make run` starts it) and DynamoDB Local.

What S3 refuses is asked of S3 itself: expired URLs, another device's URL, a changed key,
an upload bigger than signed for or with another checksum.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import botocore.auth
import pytest
import requests

from chalicelib.aws_iot.jobs import AwsJobsService
from chalicelib.aws_iot.topics import JOBS_ROUTE
from chalicelib.container import container
from chalicelib.core.identity import mqtt_username
from chalicelib.core.messaging.base import RecordingPublisher
from chalicelib.jobs.store import JobModel
from tests.conftest import S3
from tests.integration.firmware_support import create_firmware, download, put_image, ready_firmware
from tests.integration.jobs_support import create_job
from tests.support import Api

IMAGE = b"\x7fFW" + bytes(range(256)) * 40


@pytest.fixture(autouse=True)
def _s3(s3: S3) -> Iterator[S3]:
    """Every test here runs on a stage with a firmware bucket."""
    yield s3


def pending_document(api: Api, token: str) -> dict[str, object]:
    resp = api.device_call("GET", "/device/v1/jobs/pending", token)
    assert resp.status == 200, resp.body
    return resp.body["jobs"][0]["document"]


def test_an_upload_is_measured_and_becomes_ready_with_the_platforms_checksum(api: Api) -> None:
    # Given an artifact and its upload URL
    ticket = create_firmware(api, "2.1.0", notes="first")
    assert ticket["firmware"]["status"] == "pending_upload" and "upload_url" in ticket
    # When the image is uploaded and the upload completed
    assert put_image(ticket, IMAGE).status_code == 200
    done = api.post(f"/customer/firmware/{ticket['firmware']['firmware_id']}/complete")
    # Then the platform vouches for its size and SHA-256
    assert done.status == 200 and done.body["status"] == "ready"
    assert done.body["sha256"] == hashlib.sha256(IMAGE).hexdigest() and done.body["size_bytes"] == len(IMAGE)
    listed = api.get("/customer/firmware?status=ready").body["firmware"]
    assert [f["firmware_id"] for f in listed] == [ticket["firmware"]["firmware_id"]]
    assert "upload_url" not in json.dumps(api.get(f"/customer/firmware/{done.body['firmware_id']}").body)


def test_an_upload_bigger_than_the_declared_maximum_never_becomes_ready(api: Api, s3: S3) -> None:
    ticket = create_firmware(api, max_size_bytes=1024)
    assert put_image(ticket, IMAGE).status_code == 200  # a presigned PUT cannot carry a range: S3 takes it
    done = api.post(f"/customer/firmware/{ticket['firmware']['firmware_id']}/complete")
    assert done.status == 200 and done.body["status"] == "rejected"
    assert "more than the declared maximum of 1024" in done.body["reason"]
    # And the rejected image is gone from the bucket, and completing again changes nothing
    key = f"{api.tenant_id}/{done.body['firmware_id']}/1.0.0.bin"
    assert s3.server.client().list_objects_v2(Bucket=s3.bucket, Prefix=key).get("KeyCount") == 0  # type: ignore
    assert api.post(f"/customer/firmware/{done.body['firmware_id']}/complete").body["status"] == "rejected"


def test_s3_refuses_an_upload_of_another_size_or_checksum_than_declared(api: Api) -> None:
    sized = create_firmware(api, size_bytes=len(IMAGE))
    assert put_image(sized, IMAGE + b"extra").status_code == 403
    checked = create_firmware(api, sha256=hashlib.sha256(IMAGE).hexdigest())
    tampered = bytearray(IMAGE)
    tampered[10] ^= 0xFF
    assert put_image(checked, bytes(tampered)).status_code in (400, 403)
    # Nothing was stored: completing is refused and the artifact stays pending, never ready
    for ticket in (sized, checked):
        firmware_id = ticket["firmware"]["firmware_id"]
        assert api.post(f"/customer/firmware/{firmware_id}/complete").status == 409
        assert api.get(f"/customer/firmware/{firmware_id}").body["status"] == "pending_upload"


def test_an_image_with_another_checksum_than_declared_is_rejected(api: Api, s3: S3) -> None:
    # Given an image that reached the bucket without S3 checking it (another client, another store)
    declared = hashlib.sha256(b"what the operator built").hexdigest()
    ticket = create_firmware(api, sha256=declared)
    firmware_id = ticket["firmware"]["firmware_id"]
    s3.server.client().put_object(Bucket=s3.bucket, Key=f"{api.tenant_id}/{firmware_id}/1.0.0.bin",  # type: ignore
                                  Body=IMAGE)
    # When the upload is completed, then the platform's own digest rejects it
    done = api.post(f"/customer/firmware/{firmware_id}/complete").body
    assert done["status"] == "rejected" and done["reason"].startswith("checksum mismatch")
    job = api.post("/customer/jobs", {"document_type": "update_firmware", "document_params": {
        "firmware_id": firmware_id}, "target_all": True})
    assert job.status == 409 and job.body["field"] == "firmware_id"


def test_each_device_gets_its_own_url_that_s3_refuses_to_anyone_else(api: Api) -> None:
    firmware = ready_firmware(api, IMAGE)
    a, token_a = api.create_device("dev-a")
    b, _ = api.create_device("dev-b")
    job = create_job(api, target_group_id=_group(api, [a, b]), document_type="update_firmware",
                     document_params={"firmware_id": firmware["firmware_id"]})
    ref = pending_document(api, token_a)["params"]
    assert isinstance(ref, dict) and ref["sha256"] == firmware["sha256"] and ref["version"] == "1.0.0"
    assert ref["headers"] == {"x-fleet-device": mqtt_username(api.tenant_id, a)}
    # The device downloads with its URL and its own identity
    got = download(ref)
    assert got.status_code == 200 and hashlib.sha256(got.content).hexdigest() == firmware["sha256"]
    # Another device presenting itself with A's URL is refused by S3, and so is a changed key
    assert download(ref, {"x-fleet-device": mqtt_username(api.tenant_id, b)}).status_code == 403
    assert download(ref, {}).status_code == 403
    changed = ref["url"].replace(f"/{firmware['firmware_id']}/", f"/{firmware['firmware_id']}x/")
    assert changed != ref["url"] and download(ref, url=changed).status_code == 403
    # The job as stored holds the reference, never a URL
    assert api.get(f"/customer/jobs/{job['job_id']}").body["document_params"] == {
        "firmware_id": firmware["firmware_id"]}


def test_an_expired_url_is_refused_and_asking_again_gives_a_fresh_one(api: Api,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    firmware = ready_firmware(api, IMAGE)
    device, token = api.create_device("dev-late")
    create_job(api, target_device_id=device, document_type="update_firmware",
               document_params={"firmware_id": firmware["firmware_id"]})
    # Given a URL signed two hours ago (the signer's clock driven back), valid for the stage's TTL
    two_hours_ago = datetime.now(UTC).replace(tzinfo=None) - timedelta(hours=2)
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: two_hours_ago)
    old = pending_document(api, token)["params"]
    monkeypatch.undo()
    # Then S3 refuses it, and the device asking again gets a fresh URL that works
    assert isinstance(old, dict) and download(old).status_code == 403
    fresh = pending_document(api, token)["params"]
    assert isinstance(fresh, dict) and fresh["url"] != old["url"] and download(fresh).status_code == 200


def test_a_placeholder_is_stored_as_written_and_resolved_for_each_device(api: Api, s3: S3) -> None:
    firmware = ready_firmware(api, IMAGE, "3.0.0")
    key = f"{api.tenant_id}/{firmware['firmware_id']}/3.0.0.bin"
    placeholder = f"${{aws:iot:s3-presigned-url:https://s3.us-east-1.amazonaws.com/{s3.bucket}/{key}}}"
    device, token = api.create_device("dev-aws")
    job = create_job(api, target_device_id=device, document_type="ota",
                     document_params={"image": placeholder, "steps": ["download", "verify"]})
    # The stored job item has the placeholder and no URL at all
    item = JobModel.get(api.tenant_id, job["job_id"]).attribute_values
    stored = json.dumps(item, default=str)
    assert placeholder in stored and "X-Amz-Signature" not in stored
    # The device gets a presigned URL in its place that S3 serves to it
    url = pending_document(api, token)["params"]["image"]  # type: ignore[index]
    assert isinstance(url, str) and "X-Amz-Signature" in url and s3.bucket in url
    got = requests.get(url, headers={"x-fleet-device": mqtt_username(api.tenant_id, device)}, timeout=10)
    assert got.status_code == 200 and got.content == IMAGE


def test_a_tenant_can_neither_read_nor_reference_another_tenants_artifact(api: Api, other_api: Api, s3: S3) -> None:
    firmware = ready_firmware(api, IMAGE)
    fid = firmware["firmware_id"]
    device, _ = other_api.create_device("dev-x")
    assert other_api.get(f"/customer/firmware/{fid}").status == 404
    assert other_api.post(f"/customer/firmware/{fid}/complete").status == 404
    assert other_api.delete(f"/customer/firmware/{fid}").status == 404
    assert fid not in json.dumps(other_api.get("/customer/firmware").body)
    by_id = other_api.post("/customer/jobs", {"document_type": "update_firmware",
                                              "document_params": {"firmware_id": fid}, "target_device_id": device})
    assert by_id.status == 404 and by_id.body["field"] == "firmware_id"
    key = f"{api.tenant_id}/{fid}/1.0.0.bin"
    by_url = other_api.post("/customer/jobs", {"document_type": "ota", "target_device_id": device, "document_params": {
        "image": f"${{aws:iot:s3-presigned-url:https://s3.us-east-1.amazonaws.com/{s3.bucket}/{key}}}"}})
    assert by_url.status == 404
    command = other_api.post(f"/customer/devices/{device}/commands", {
        "command_type": "update_firmware", "command_params": {"firmware_id": fid}})
    assert command.status == 404 and command.body["field"] == "firmware_id"
    # And the owner still has it, untouched
    assert api.get(f"/customer/firmware/{fid}").body["in_use_until"] is None


def test_an_artifact_in_use_cannot_be_deleted(api: Api) -> None:
    firmware = ready_firmware(api, IMAGE)
    device, token = api.create_device("dev-c")
    command = api.post(f"/customer/devices/{device}/commands", {
        "command_type": "update_firmware", "command_params": {"firmware_id": firmware["firmware_id"]}})
    assert command.status == 201 and command.body["command_params"] == {"firmware_id": firmware["firmware_id"]}
    # The device's pending command carries its own URL
    pending = api.device_call("GET", "/device/v1/commands/pending", token).body["commands"][0]["command_params"]
    assert download(pending).status_code == 200
    refused = api.delete(f"/customer/firmware/{firmware['firmware_id']}")
    assert refused.status == 409 and refused.body["field"] == "firmware_id"
    unused = ready_firmware(api, b"other image", "9.9.9")
    assert api.delete(f"/customer/firmware/{unused['firmware_id']}").status == 200
    assert api.get(f"/customer/firmware/{unused['firmware_id']}").status == 404


def _group(api: Api, device_ids: list[str]) -> str:
    group = api.post("/customer/groups", {"name": "ota"}).body["group_id"]
    for device_id in device_ids:
        assert api.put(f"/customer/groups/{group}/members/{device_id}").status in (200, 201)
    return str(group)


def test_aws_jobs_topics_answer_with_the_placeholder_resolved_for_the_asking_device(api: Api, s3: S3) -> None:
    firmware = ready_firmware(api, IMAGE, "4.0.0")
    key = f"{api.tenant_id}/{firmware['firmware_id']}/4.0.0.bin"
    placeholder = f"${{aws:iot:s3-presigned-url:https://s3.us-east-1.amazonaws.com/{s3.bucket}/{key}}}"
    device, _ = api.create_device("dev-thing")
    job = create_job(api, target_device_id=device, document_type="ota", document_params={"image": placeholder})
    # When the device asks on AWS IoT's `$aws/things/{thing}/jobs/{job_id}/get` (the service behind that topic)
    publisher = RecordingPublisher()
    jobs = AwsJobsService(container().execution_service, container().execution_repository, publisher)
    answer = jobs.on_message(api.tenant_id, device, f"{JOBS_ROUTE}/{job['job_id']}/get", {"includeJobDocument": True})
    # Then its job document carries a URL signed for it, and the answer published says the same
    url = answer["execution"]["jobDocument"]["params"]["image"]
    published = publisher.sent[-1].payload
    assert "X-Amz-Signature" in url and published is not None
    assert published["execution"]["jobDocument"]["params"]["image"] == url
    got = requests.get(url, headers={"x-fleet-device": mqtt_username(api.tenant_id, device)}, timeout=10)
    assert got.status_code == 200 and got.content == IMAGE


def test_bytes_uploaded_after_completion_never_reach_a_device(api: Api) -> None:
    # Given an artifact created without a declared checksum (its upload URL accepts any body), measured ready
    ticket = create_firmware(api, "5.0.0")
    firmware_id = ticket["firmware"]["firmware_id"]
    assert put_image(ticket, IMAGE).status_code == 200
    done = api.post(f"/customer/firmware/{firmware_id}/complete").body
    assert done["status"] == "ready" and done["object_version"]
    # When someone holding the upload URL (still valid) puts other bytes on the key
    assert put_image(ticket, b"not what was measured").status_code == 200
    # Then a device is still served the measured image, and its checksum matches what it is told
    device, token = api.create_device("dev-pinned")
    assert api.post(f"/customer/devices/{device}/commands", {
        "command_type": "update_firmware", "command_params": {"firmware_id": firmware_id}}).status == 201
    ref = api.device_call("GET", "/device/v1/commands/pending", token).body["commands"][0]["command_params"]
    got = download(ref)
    assert got.status_code == 200 and got.content == IMAGE
    assert hashlib.sha256(got.content).hexdigest() == ref["sha256"] == done["sha256"]
    # And completing again measures nothing new
    assert api.post(f"/customer/firmware/{firmware_id}/complete").body["sha256"] == done["sha256"]


@pytest.mark.parametrize("url", ["http://[x/y", "https://[::1/bucket/key", "http://[bucket/key]"])
def test_a_placeholder_that_is_no_url_is_a_400_naming_the_field(api: Api, url: str) -> None:
    device, _ = api.create_device("dev-bad-url")
    placeholder = f"${{aws:iot:s3-presigned-url:{url}}}"
    job = api.post("/customer/jobs", {"document_type": "ota", "target_device_id": device,
                                      "document_params": {"image": placeholder}})
    assert job.status == 400 and job.body["field"] == "document", job.body
    command = api.post(f"/customer/devices/{device}/commands", {
        "command_type": "ota", "command_params": {"image": placeholder}})
    assert command.status == 400 and command.body["field"] == "command_params", command.body
    # Nothing was created
    assert api.get("/customer/jobs").body["jobs"] == []
    assert api.get(f"/customer/devices/{device}/commands").body == []


def test_an_upload_after_rejection_or_deletion_gives_devices_nothing(api: Api, s3: S3) -> None:
    # Given a rejected artifact, whose upload URL is still valid
    rejected = create_firmware(api, "6.0.0", max_size_bytes=16)
    rejected_id = rejected["firmware"]["firmware_id"]
    assert put_image(rejected, IMAGE).status_code == 200
    assert api.post(f"/customer/firmware/{rejected_id}/complete").body["status"] == "rejected"
    # When an image that would have passed is put with the same URL, the artifact stays rejected and unusable
    assert put_image(rejected, b"small").status_code == 200
    assert api.post(f"/customer/firmware/{rejected_id}/complete").body["status"] == "rejected"
    device, _ = api.create_device("dev-after")
    refused = api.post(f"/customer/devices/{device}/commands", {
        "command_type": "update_firmware", "command_params": {"firmware_id": rejected_id}})
    assert refused.status == 409 and refused.body["field"] == "firmware_id"
    # And a deleted artifact's key filled again through its old URL cannot be referenced either
    deleted = create_firmware(api, "6.1.0")
    deleted_id = deleted["firmware"]["firmware_id"]
    assert put_image(deleted, IMAGE).status_code == 200
    assert api.post(f"/customer/firmware/{deleted_id}/complete").body["status"] == "ready"
    assert api.delete(f"/customer/firmware/{deleted_id}").status == 200
    assert put_image(deleted, IMAGE).status_code == 200
    key = f"{api.tenant_id}/{deleted_id}/6.1.0.bin"
    by_url = api.post(f"/customer/devices/{device}/commands", {"command_type": "ota", "command_params": {
        "image": f"${{aws:iot:s3-presigned-url:https://s3.us-east-1.amazonaws.com/{s3.bucket}/{key}}}"}})
    assert by_url.status == 404
