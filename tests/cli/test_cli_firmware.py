"""`fleet firmware` against a running local stack: upload with a progress bar, list, roll out to the demo group
(its simulated devices download, verify and report), and the version counts that follow."""
from __future__ import annotations

import hashlib
import time
import uuid
from pathlib import Path

import pytest

from tests.cli.conftest import Fleet

pytestmark = pytest.mark.slow


def test_upload_list_and_roll_out_to_the_demo_group(fleet: Fleet, tmp_path: Path) -> None:
    version = f"9.{uuid.uuid4().int % 1000}.0"
    image = tmp_path / "image.bin"
    image.write_bytes(b"demo firmware " * 20_000)
    uploaded = fleet("firmware", "upload", str(image), "--version", version, "--model", "sim", "--json")
    assert uploaded.exit_code == 0, uploaded.stderr
    firmware = uploaded.json()
    assert firmware["status"] == "ready" and firmware["sha256"] == hashlib.sha256(image.read_bytes()).hexdigest()
    listed = fleet("firmware", "list", "--status", "ready", "--json").json()
    assert firmware["firmware_id"] in {f["firmware_id"] for f in listed}
    assert firmware["sha256"][:12] in fleet("firmware", "list").stdout
    rolled = fleet("firmware", "rollout", firmware["firmware_id"], "--group", "demo-fleet", "--abort", "FAILED:50:1",
                   "--wait", "--wait-timeout", "120", "--json")
    assert rolled.exit_code == 0, rolled.stderr
    job = rolled.json()
    assert job["status"] == "COMPLETED" and job["counts"]["SUCCEEDED"] == job["execution_count"] > 0
    # The devices' twins report the new version (through the bridge): the counts follow
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        counts = {row["version"]: row["devices"] for row in fleet("firmware", "versions", "--json").json()}
        if counts.get(version) == job["execution_count"]:
            break
        time.sleep(0.5)
    assert counts.get(version) == job["execution_count"], counts
    group = {row["version"]: row["devices"] for row in fleet("firmware", "versions", "--group", "demo-fleet",
                                                             "--json").json()}
    assert group.get(version) == job["execution_count"]
