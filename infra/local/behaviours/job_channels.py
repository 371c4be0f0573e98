"""How a simulated device reaches its job executions: a channel the job runner (jobs.py) drives.

Two channels: the project's HTTPS API with the device's token (this module), and AWS IoT
Jobs' reserved MQTT topics for a device that has only a certificate (aws_jobs.py). Both take
the project's update body (`status`, `status_details`, `expected_version`,
`step_timeout_minutes`), so the runner and the OTA steps are written once.
"""
from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from infra.local.simulator import MessageHandler, SimulatedDevice

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Pending:
    """One execution the device has to run (or resume), with its document as delivered to it."""

    job_id: str
    status: str
    version_number: int
    document: dict[str, Any]


class JobChannel(Protocol):
    """What the runner needs: the pending executions, an update with its answer, the final result."""

    def subscribe(self, on_notified: MessageHandler) -> None:
        """Wake the runner when the cloud says there is work."""
        ...

    def pending(self) -> Iterator[Pending]:
        """The executions to run now, oldest first."""
        ...

    def update(self, job_id: str, body: dict[str, Any]) -> int | None:
        """Send an update and wait for the answer: the execution's new version, None when refused."""
        ...

    def finish(self, job_id: str, body: dict[str, Any]) -> None:
        """Send the final status (an answer, if any, changes nothing for the device)."""
        ...


class HttpsJobs:
    """The project's device API: the pending list and updates over HTTPS, results over MQTT or HTTPS.

    Results go on MQTT `jobs/{job_id}/update` (through the bridge), or over HTTPS when
    `options["job_update_via"] == "http"` (or the demo's `ack_over_http`).
    """

    def __init__(self, device: SimulatedDevice) -> None:
        self.device = device
        options = device.identity.options
        self.via = "http" if options.get("ack_over_http") else str(options.get("job_update_via", "mqtt"))

    def subscribe(self, on_notified: MessageHandler) -> None:
        self.device.on("jobs/notify", on_notified)

    def pending(self) -> Iterator[Pending]:
        resp = self.device.http("GET", "/device/v1/jobs/pending")
        if resp.status_code != 200:
            log.warning("%s: pending jobs answered %s", self.device.device_id, resp.status_code)
            return
        for job in resp.json()["jobs"]:
            yield Pending(job["job_id"], job["status"], job["version_number"], job["document"])

    def update(self, job_id: str, body: dict[str, Any]) -> int | None:
        resp = self.device.http("PUT", f"/device/v1/jobs/{job_id}/execution", body)
        if resp.status_code != 200:  # canceled, expired, or moved on by an earlier poll
            log.info("%s: update of %s answered %s", self.device.device_id, job_id, resp.status_code)
            return None
        return int(resp.json()["version_number"])

    def finish(self, job_id: str, body: dict[str, Any]) -> None:
        if self.via == "http" or not self.device.connected.is_set():
            if self.update(job_id, body) is None:
                log.warning("%s: job %s result refused", self.device.device_id, job_id)
            return
        self.device.publish(f"jobs/{job_id}/update", body)
