"""Simulated devices update their firmware: download through their own URL, verify, install, reboot, report.

A job whose document params carry a resolved firmware reference (`url`, `headers`,
`sha256`, `version`: what `{"firmware_id": ...}` becomes at delivery) runs as an OTA
update. Each step is reported in `status_details` (`step`: download, verify, install,
reboot) with a step timeout, so a device that stalls is timed out by the cloud. The
"reboot" is a real reconnect of the MQTT session; afterwards the device reports
`reported.firmware_version` in its twin (what the fleet view counts) and SUCCEEDED.

A device that restarts mid-update finds the execution IN_PROGRESS in its pending list
and resumes it: already on the target version, it only confirms; otherwise it downloads
again, under the same execution. Options: `firmware_version` (what the device runs at
start, default 1.0.0), `fail_verify` (true: every image fails its checksum, to show aborts).
"""
from __future__ import annotations

import contextlib
import hashlib
import logging
import socket
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import requests

if TYPE_CHECKING:
    from infra.local.simulator import SimulatedDevice

log = logging.getLogger(__name__)

# Reports one intermediate step: (status, status_details).
Step = Callable[[str, dict[str, str]], None]
# Each step must end within this (AWS's stepTimeoutInMinutes): a hung download is timed out.
STEP_TIMEOUT_MIN = 5


def firmware_of(document: dict[str, Any]) -> dict[str, Any] | None:
    """The resolved firmware reference of a job document, when it is an OTA job."""
    params = document.get("params")
    if isinstance(params, dict) and all(isinstance(params.get(k), str) for k in ("url", "sha256", "version")):
        return params
    return None


class Ota:
    """One device's firmware: what it runs, and how it moves to another version."""

    def __init__(self, device: SimulatedDevice) -> None:
        self.device = device
        options = device.identity.options
        self.version = str(options.get("firmware_version", "1.0.0"))
        self.fail_verify = bool(options.get("fail_verify"))
        self.step_s = float(options.get("ota_step_s", 0.2))

    def report_version(self) -> None:
        """The twin's reported firmware version (sent on every connect and after an update)."""
        self.device.publish("shadow/reported", {"reported": {"firmware_version": self.version}})

    def run(self, firmware: dict[str, Any], update: Step) -> tuple[str, dict[str, str]]:
        """Run (or resume) the update; returns the final status and its details."""
        target = firmware["version"]
        if self.version == target:  # back from the reboot of this very update: confirm it
            self.report_version()
            return "SUCCEEDED", {"step": "done", "firmware_version": target}
        update("IN_PROGRESS", {"step": "download", "target": target})
        try:
            resp = requests.get(firmware["url"], headers=firmware.get("headers") or {}, timeout=30)
        except requests.RequestException as exc:
            return "FAILED", {"step": "download", "reason": type(exc).__name__}
        if resp.status_code != 200:
            return "FAILED", {"step": "download", "reason": f"HTTP {resp.status_code}"}
        update("IN_PROGRESS", {"step": "verify", "target": target})
        image = resp.content + (b"\0" if self.fail_verify else b"")
        digest = hashlib.sha256(image).hexdigest()
        if digest != firmware["sha256"]:
            log.warning("%s: firmware %s failed verification", self.device.device_id, target)
            return "FAILED", {"step": "verify", "reason": "checksum mismatch", "target": target}
        update("IN_PROGRESS", {"step": "install", "target": target})
        time.sleep(self.step_s)
        update("IN_PROGRESS", {"step": "reboot", "target": target})
        self.version = target
        self.reboot()
        return "SUCCEEDED", {"step": "done", "firmware_version": target}

    def reboot(self, timeout_s: float = 20.0) -> None:
        """Drop the MQTT connection and wait for the client's own reconnect (which reports the new version)."""
        sock = self.device.client.socket()
        if isinstance(sock, socket.socket):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        deadline = time.monotonic() + timeout_s
        while self.device.connected.is_set() and time.monotonic() < deadline:
            time.sleep(0.05)
        self.device.connected.wait(timeout=max(0.0, deadline - time.monotonic()))
