"""Simulated devices answer every command with an `ok` ACK.

Over MQTT by default; a device whose `identity.options["ack_over_http"]` is true ACKs
through POST /device/v1/commands/{id}/ack instead, so the local stack shows both paths.
"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from infra.local.simulator import SimulatedDevice

log = logging.getLogger(__name__)


def ack_details(command_type: str) -> dict[str, Any]:
    """What the device reports back: `pong` for a ping, an echo of the type otherwise."""
    if command_type == "ping":
        return {"message": "pong"}
    return {"message": f"{command_type} done"}


def on_command(device: SimulatedDevice, topic: str, payload: dict[str, Any]) -> None:
    command_id = payload.get("command_id")
    if not command_id:
        log.warning("%s: command without command_id on %s", device.device_id, topic)
        return
    details = ack_details(str(payload.get("command_type", "")))
    # Echoing the command's correlation id puts the ACK's log lines in the command's trace.
    cid = device.correlation_id
    if device.identity.options.get("ack_over_http"):
        resp = device.http("POST", f"/device/v1/commands/{command_id}/ack", {"status": "ok", "details": details},
                           headers={"X-Correlation-Id": cid} if cid else None)
        if resp.status_code >= 400:
            log.warning("%s: HTTP ACK of %s answered %s", device.device_id, command_id, resp.status_code)
        return
    ack: dict[str, Any] = {"command_id": command_id, "status": "ok", "details": details}
    if cid:
        ack["correlation_id"] = cid
    device.publish("commands/ack", ack)


def install(device: SimulatedDevice) -> None:
    """Subscribe the device to its command topic."""
    device.on("commands", on_command)
