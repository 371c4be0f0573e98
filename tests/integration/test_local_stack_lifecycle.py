"""`make run` keeps its data across restarts, restarts what dies, and leaves nothing behind."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from tests.stack_support import ROOT, RunningStack, start_stack, wait_for
from tests.support import MqttPeer, mqtt_peer

pytestmark = pytest.mark.slow


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _connect(stack: RunningStack, device_id: str, token: str) -> MqttPeer:
    deadline = time.monotonic() + 30  # credentials reach the broker within a few seconds
    while True:
        try:
            return mqtt_peer(stack.info["mqtt"]["host"], stack.info["mqtt"]["port"], f"demo.{device_id}", token)
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def test_data_survives_a_restart_and_the_demo_is_seeded_once(tmp_path: Path) -> None:
    # Given a stack where an operator created a device, its twin, a command and a job
    workdir = tmp_path / "devstack"
    first = start_stack(workdir)
    try:
        assert first.state()["database"]["engine"] in ("dynamodb-local", "moto")
        first.post("/customer/devices", {"device_id": "keeper", "name": "kept"})
        patched = requests.patch(f"{first.api}/customer/devices/keeper/twin/desired", headers=first.auth,
                                 json={"desired": {"interval_s": 30}}, timeout=15)
        assert patched.status_code == 200, patched.text
        command = first.post("/customer/devices/keeper/commands", {"command_type": "ping", "command_params": {}})
        job = first.post("/customer/jobs", {"document_type": "reboot", "document_params": {},
                                            "target_device_id": "keeper"})
        pids = first.state()["processes"]
        assert first.info["claim_board"]["enrolled_on_this_start"] is True
        enrolled = first.info["claim_board"]["certificate_id"]
    finally:
        # When it is stopped
        assert first.stop() == 0
    # Then none of its processes is left
    assert wait_for(lambda: not any(_alive(p) for p in pids.values()), 10), pids
    assert not (workdir / "stack.json").exists()
    # When it starts again on the same data (other ports)
    second = start_stack(workdir)
    try:
        # Then the device, its twin, the command and the job are there
        assert second.get("/customer/devices/keeper")["name"] == "kept"
        assert second.get("/customer/devices/keeper/twin")["desired"] == {"interval_s": 30}
        kept = second.get(f"/customer/devices/keeper/commands/{command['command_id']}")
        assert kept["command_type"] == "ping"
        assert second.get(f"/customer/jobs/{job['job_id']}")["job_id"] == job["job_id"]
        # And the demo was seeded once: no duplicate, no crash, its devices still answer
        ids = sorted(d["device_id"] for d in second.get("/customer/devices?limit=50")["devices"])
        assert ids == ["esp32-240ac4000001", "keeper", "sim-1", "sim-2", "sim-3"]
        # And the board that enrolled by claim did not enrol twice: it logged in with its stored certificate
        board = second.info["claim_board"]
        assert board["enrolled_on_this_start"] is False and board["certificate_id"] == enrolled
        certificates = second.get("/customer/devices/esp32-240ac4000001/certificates")["certificates"]
        assert [c["certificate_id"] for c in certificates] == [enrolled]
        ping = second.post("/customer/devices/sim-1/commands", {"command_type": "ping", "command_params": {}})
        assert wait_for(lambda: second.get(f"/customer/devices/sim-1/commands/{ping['command_id']}")["status"]
                        == "delivered", 30)
    finally:
        assert second.stop() == 0
    # And `make reset` forgets the database and the broker's state together
    subprocess.run([sys.executable, "-m", "infra.local.reset"], cwd=ROOT, check=True,
                   env={**os.environ, "STACK_DIR": str(workdir)}, capture_output=True)
    assert not (workdir / "dynamodb").exists()
    assert not (workdir / "broker" / "data").exists()


def test_a_bridge_killed_during_an_ack_burst_is_restarted_and_loses_no_ack(tmp_path: Path) -> None:
    # Given a running stack and a device with 80 commands it has not ACKed yet
    stack = start_stack(tmp_path / "devstack")
    try:
        token = stack.post("/customer/devices", {"device_id": "burst"})["provision_token"]
        peer = _connect(stack, "burst", token)
        peer.subscribe("tenant/demo/device/burst/commands")
        ids = [stack.post("/customer/devices/burst/commands", {"command_type": "ping", "command_params": {}})
               ["command_id"] for _ in range(80)]
        topic = "tenant/demo/device/burst/commands/ack"

        def ack_all() -> None:
            for command_id in ids:
                peer.publish(topic, {"command_id": command_id, "status": "ok", "details": {}})
                time.sleep(0.01)

        def queued() -> int:
            return len(stack.get("/customer/devices/burst/commands?status=queued&limit=200"))

        # When the device ACKs them all while the bridge is killed with SIGKILL mid-burst
        acking = threading.Thread(target=ack_all)
        acking.start()
        assert wait_for(lambda: queued() < 70, 30, 0.05)
        bridge_pid = stack.state()["processes"]["bridge"]
        os.kill(bridge_pid, signal.SIGKILL)
        acking.join(60)
        # Then the supervisor restarts the bridge and every ACK is applied
        assert wait_for(lambda: queued() == 0, 90, 0.5), stack.output.read_text()[-2000:]
        state = stack.state()
        assert state["restarts"]["bridge"] >= 1 and state["processes"]["bridge"] != bridge_pid
        # And the stack kept running
        assert stack.proc.poll() is None
        assert stack.get("/health")["status"] == "ok"
        peer.close()
    finally:
        assert stack.stop() == 0


def test_a_failed_start_leaves_no_process_behind(tmp_path: Path) -> None:
    # Given a setting that fails only once the database and the broker are up (a table prefix
    # DynamoDB refuses)
    workdir = tmp_path / "devstack"
    # When the stack starts, it fails to come up
    with pytest.raises(AssertionError, match="did not come up"):
        start_stack(workdir, timeout=120, FLEET_TABLE_PREFIX="bad prefix!")
    # Then its database and broker were started, and none of them is still running
    assert (workdir / "logs" / "dynamodb.log").exists()
    assert wait_for(lambda: subprocess.run(["pgrep", "-f", str(workdir)], capture_output=True).stdout == b"", 10)


def test_a_port_in_use_is_refused_before_anything_starts(tmp_path: Path) -> None:
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen(1)
        port = blocker.getsockname()[1]
        with pytest.raises(AssertionError, match=f"port {port} \\(API_PORT\\) is already in use"):
            start_stack(tmp_path / "devstack", timeout=60, API_PORT=str(port))
