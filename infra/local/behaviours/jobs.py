"""Simulated devices run jobs: claim (IN_PROGRESS), work briefly, then SUCCEEDED or FAILED.

On `jobs/notify` and on every (re)connect the device fetches its pending list over
HTTPS, claims each queued execution with a conditional PUT, "works" for
`options["job_work_s"]` seconds (default 1), and reports the result on MQTT
`jobs/{job_id}/update` (through the bridge) or over HTTPS when
`options["job_update_via"] == "http"` (or the demo's `ack_over_http`). A job whose params say `"fail": true` FAILS.
A job whose document carries a firmware image runs as an OTA update (ota.py).
"""
from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING, Any

from infra.local.behaviours.ota import STEP_TIMEOUT_MIN, Ota, firmware_of

if TYPE_CHECKING:
    from infra.local.simulator import SimulatedDevice

log = logging.getLogger(__name__)


class JobRunner:
    """One worker thread per device, woken by notifications and connects."""

    def __init__(self, device: SimulatedDevice, ota: Ota) -> None:
        self.device = device
        self.ota = ota
        self.wake = threading.Event()
        self.work_s = float(device.identity.options.get("job_work_s", 1.0))
        options = device.identity.options
        self.via = "http" if options.get("ack_over_http") else str(options.get("job_update_via", "mqtt"))
        self.finished: list[tuple[str, str]] = []
        threading.Thread(target=self._loop, name=f"jobs-{device.device_id}", daemon=True).start()

    def notified(self, device: SimulatedDevice, topic: str, payload: dict[str, Any]) -> None:
        self.wake.set()

    def _loop(self) -> None:
        was_connected = False
        while True:
            connected = self.device.connected.wait(timeout=1.0)
            if connected and not was_connected:
                self.wake.set()  # catch up on anything queued while offline
            was_connected = connected
            if self.wake.wait(timeout=1.0):
                self.wake.clear()
                try:
                    self.run_pending()
                except Exception:  # a failed poll must not end the device's job loop
                    log.exception("%s: running pending jobs failed", self.device.device_id)

    def run_pending(self) -> None:
        """Run every pending execution, oldest first."""
        resp = self.device.http("GET", "/device/v1/jobs/pending")
        if resp.status_code != 200:
            log.warning("%s: pending jobs answered %s", self.device.device_id, resp.status_code)
            return
        for job in resp.json()["jobs"]:
            self._run(job)

    def _run(self, job: dict[str, Any]) -> None:
        job_id = job["job_id"]
        path = f"/device/v1/jobs/{job_id}/execution"
        version = job["version_number"]
        if job["status"] == "QUEUED":
            claim = self.device.http("PUT", path, {"status": "IN_PROGRESS", "expected_version": version,
                                                   "status_details": {"step": "started"}})
            if claim.status_code != 200:  # canceled, expired or claimed by an earlier poll
                return
            version = claim.json()["version_number"]
        firmware = firmware_of(job["document"])
        if firmware is not None:
            status, details = self.ota.run(firmware, lambda s, d: self._step(path, s, d))
            self._finish(job_id, path, {"status": status, "status_details": details})
            return
        time.sleep(self.work_s)
        params = job["document"].get("params") or {}
        failed = bool(params.get("fail"))
        update = {
            "status": "FAILED" if failed else "SUCCEEDED",
            "status_details": {"result": "simulated failure" if failed else f"{job['document']['type']} done"},
            "expected_version": version,
        }
        self._finish(job_id, path, update)

    def _step(self, path: str, status: str, details: dict[str, str]) -> None:
        """An intermediate OTA step, over HTTPS (its answer says whether the cloud still wants it)."""
        resp = self.device.http("PUT", path, {"status": status, "status_details": details,
                                              "step_timeout_minutes": STEP_TIMEOUT_MIN})
        if resp.status_code != 200:
            log.warning("%s: step %s refused: %s", self.device.device_id, details.get("step"), resp.status_code)

    def _finish(self, job_id: str, path: str, update: dict[str, Any]) -> None:
        if self.via == "http" or not self.device.connected.is_set():
            resp = self.device.http("PUT", path, update)
            if resp.status_code != 200:
                log.warning("%s: job %s result refused: %s %s", self.device.device_id, job_id,
                            resp.status_code, resp.text[:200])
        else:
            self.device.publish(f"jobs/{job_id}/update", update)
        self.finished.append((job_id, update["status"]))


def install(device: SimulatedDevice) -> None:
    """Give the device a job runner and its firmware (reported on every connect)."""
    ota = Ota(device)
    device.on_connected(ota.report_version)
    if not device.identity.provision_token:
        return  # a board with only a certificate (enrolled by claim) cannot fetch its jobs over HTTPS
    runner = JobRunner(device, ota)
    device.on("jobs/notify", runner.notified)
