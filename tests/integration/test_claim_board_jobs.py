"""A board enrolled by claim takes its jobs as a device written for AWS IoT does: on `$aws/things/{thing}/jobs/...`.

It has only its certificate (no token for the HTTPS device API): it asks `$next/get` on every
connect and on `notify-next`, moves each execution with `{jobId}/update`, and runs a firmware
job as the other simulated devices do (its own URL, the checksum, the steps, a reconnect, the
new version in its twin). Real broker (claim and certificate listeners), the real bridge
forwarding to the app in process, SeaweedFS as the firmware bucket.
"""
from __future__ import annotations

import queue
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from infra.local.claim_enrolment import boot
from mqtt_bridge.bridge import Bridge
from tests.commands_support import wait_until
from tests.conftest import S3, Stack
from tests.integration.bridge_support import in_process_bridge
from tests.integration.claims_support import GOOD, flashed
from tests.integration.firmware_support import ready_firmware
from tests.integration.jobs_support import create_job, wait_final
from tests.support import Api, MqttPeer

pytestmark = pytest.mark.slow
DEVICE = "esp32-aabbccddee01"


@pytest.fixture(scope="module")
def bridge(stack: Stack, s3: S3) -> Iterator[Bridge]:
    with in_process_bridge(stack, "claimjobs") as running:
        yield running


def _seen(watcher: MqttPeer) -> list[tuple[str, Any]]:
    """Everything the watcher received so far, in order."""
    got: list[tuple[str, Any]] = []
    while True:
        try:
            topic, payload, _ = watcher.expect(timeout=0.5)
        except queue.Empty:
            return got
        got.append((topic, payload))


def test_an_enrolled_board_runs_a_job_and_an_ota_update_over_the_aws_jobs_topics(
        stack: Stack, api: Api, api_url: str, tmp_path: Path, bridge: Bridge) -> None:
    tls = stack.broker.tls
    assert tls is not None and tls.claim_port is not None
    board = flashed(stack, api, tmp_path / "flash", GOOD)
    folder = tmp_path / "board"

    def start() -> Any:
        assert tls is not None and tls.claim_port is not None
        device, _, _ = boot(board, folder, stack.broker.host, tls.claim_port, tls.mtls_port, api_url,
                            on_enrolled=stack.sync.sync_once, heartbeat_s=3600)
        assert device.connected.wait(10), "the enrolled board did not log in with its own certificate"
        return device

    # Given a board that enrolled by claim and is switched off again
    start().stop()
    thing = f"{api.tenant_id}.{DEVICE}"
    watcher = stack.observer()
    watcher.subscribe(f"$aws/things/{thing}/jobs/#")
    watcher.subscribe(f"tenant/{api.tenant_id}/device/{DEVICE}/status")
    device = None
    try:
        # When a job is created while it is off, and it boots
        queued = create_job(api, target_device_id=DEVICE, document_params={"delay_s": 1})
        device = start()
        # Then it takes the job over AWS IoT Jobs' topics on connect and the execution SUCCEEDS
        done = wait_final(api, queued["job_id"], timeout=30)
        assert done["status"] == "COMPLETED" and done["executions"][0]["status"] == "SUCCEEDED", done
        assert done["executions"][0]["status_details"] == {"result": "reboot done"}
        topics = [t for t, _ in _seen(watcher)]
        assert f"$aws/things/{thing}/jobs/$next/get" in topics
        assert f"$aws/things/{thing}/jobs/{queued['job_id']}/update" in topics

        # When an image is rolled out to it while it is connected (notify-next wakes it)
        image = b"board firmware 2.0.0 " * 400
        firmware = ready_firmware(api, image, "2.0.0")
        ota = create_job(api, target_device_id=DEVICE, document_type="update_firmware",
                         document_params={"firmware_id": firmware["firmware_id"]})
        done = wait_final(api, ota["job_id"], timeout=60)
        # Then the update SUCCEEDS with the new version, which its twin reports and the fleet view counts
        execution = done["executions"][0]
        assert execution["status"] == "SUCCEEDED", done
        assert execution["status_details"] == {"step": "done", "firmware_version": "2.0.0"}
        assert api.get(f"/customer/devices/{DEVICE}/twin").body["reported"]["firmware_version"] == "2.0.0"
        # (the twin is written before the counters, in the same function run)
        assert wait_until(lambda: api.get("/customer/firmware-versions").body["versions"] == {"2.0.0": 1}, 10)
        seen = _seen(watcher)
        # It was told on notify-next, and its document carried a URL made for it (never stored in the job)
        told = [p for t, p in seen if t == f"$aws/things/{thing}/jobs/notify-next" and p.get("execution")]
        assert told and told[-1]["execution"]["jobId"] == ota["job_id"]
        delivered = [p["execution"]["jobDocument"]["params"] for t, p in seen
                     if t == f"$aws/things/{thing}/jobs/$next/get/accepted" and p.get("execution")]
        assert delivered and delivered[-1]["headers"]["x-fleet-device"] == thing
        assert delivered[-1]["sha256"] == firmware["sha256"]
        stored = api.get(f"/customer/jobs/{ota['job_id']}").body["document_params"]
        assert stored == {"firmware_id": firmware["firmware_id"]}
        # Each step went out on `{jobId}/update`, in order; the "reboot" was a new MQTT session
        updates = f"$aws/things/{thing}/jobs/{ota['job_id']}/update"
        steps = [p["statusDetails"]["step"] for t, p in seen if t == updates]
        assert steps == ["started", "download", "verify", "install", "reboot", "done"]
        assert any(t.endswith("/status") and p == {"state": "online"} for t, p in seen)
    finally:
        if device is not None:
            device.stop()
        watcher.close()
