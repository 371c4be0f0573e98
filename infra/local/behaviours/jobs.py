"""Simulated devices run jobs: claim (IN_PROGRESS), work briefly, then SUCCEEDED or FAILED.

On a notification and on every (re)connect the device takes its pending executions from
its channel (job_channels.py): over HTTPS with its token, or, for a device with only a
certificate (a board enrolled by claim) or `options["jobs_api"] == "aws"`, over AWS IoT
Jobs' MQTT topics (aws_jobs.py). It claims each queued execution with a conditional
update, "works" for `options["job_work_s"]` seconds (default 1) and reports the result. A
job whose params say `"fail": true` FAILS. A job whose document carries a firmware image
runs as an OTA update (ota.py), whichever the channel.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING, Any

from infra.local.behaviours.aws_jobs import AwsJobs
from infra.local.behaviours.job_channels import HttpsJobs, JobChannel, Pending
from infra.local.behaviours.ota import STEP_TIMEOUT_MIN, Ota, firmware_of

if TYPE_CHECKING:
    from infra.local.simulator import SimulatedDevice

log = logging.getLogger(__name__)


class JobRunner:
    """One worker thread per device, woken by notifications and connects."""

    def __init__(self, device: SimulatedDevice, ota: Ota, channel: JobChannel) -> None:
        self.device = device
        self.ota = ota
        self.channel = channel
        self.wake = threading.Event()
        self.work_s = float(device.identity.options.get("job_work_s", 1.0))
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
        for job in self.channel.pending():
            self._run(job)

    def _run(self, job: Pending) -> None:
        version = job.version_number
        if job.status == "QUEUED":
            claimed = self.channel.update(job.job_id, {"status": "IN_PROGRESS", "expected_version": version,
                                                       "status_details": {"step": "started"}})
            if claimed is None:  # canceled, expired or claimed by an earlier poll
                return
            version = claimed
        firmware = firmware_of(job.document)
        if firmware is not None:
            status, details = self.ota.run(firmware, lambda s, d: self._step(job.job_id, s, d))
            self._finish(job.job_id, {"status": status, "status_details": details})
            return
        time.sleep(self.work_s)
        params = job.document.get("params") or {}
        failed = bool(params.get("fail"))
        self._finish(job.job_id, {
            "status": "FAILED" if failed else "SUCCEEDED",
            "status_details": {"result": "simulated failure" if failed else f"{job.document.get('type')} done"},
            "expected_version": version,
        })

    def _step(self, job_id: str, status: str, details: dict[str, str]) -> None:
        """An intermediate OTA step (its answer says whether the cloud still wants it)."""
        body = {"status": status, "status_details": details, "step_timeout_minutes": STEP_TIMEOUT_MIN}
        if self.channel.update(job_id, body) is None:
            log.warning("%s: step %s of %s refused", self.device.device_id, details.get("step"), job_id)

    def _finish(self, job_id: str, update: dict[str, Any]) -> None:
        self.channel.finish(job_id, update)
        self.finished.append((job_id, update["status"]))


def channel_of(device: SimulatedDevice) -> JobChannel:
    """AWS IoT Jobs' topics for a device without a token (or asked to), else the project's HTTPS API."""
    identity = device.identity
    api = identity.options.get("jobs_api") or ("https" if identity.provision_token else "aws")
    return AwsJobs(device) if api == "aws" else HttpsJobs(device)


def install(device: SimulatedDevice) -> None:
    """Give the device a job runner on its channel and its firmware (reported on every connect)."""
    ota = Ota(device)
    device.on_connected(ota.report_version)
    channel = channel_of(device)
    channel.subscribe(JobRunner(device, ota, channel).notified)
