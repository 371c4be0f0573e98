"""`fleet groups command`, `fleet sites command` and `fleet batches` against a running local stack."""
from __future__ import annotations

import uuid

import pytest

from tests.cli.conftest import Fleet

pytestmark = pytest.mark.slow


def test_group_command_wait_follows_every_member_until_delivered(fleet: Fleet) -> None:
    # Given a group of two simulated devices (they ACK pings)
    group_id = f"cli-batch-{uuid.uuid4().hex[:8]}"
    assert fleet("groups", "create", group_id, "--name", "CLI batch").exit_code == 0
    assert fleet("groups", "add", group_id, "sim-1", "sim-2").exit_code == 0
    # When a command is sent to the group and followed
    sent = fleet("groups", "command", group_id, "ping", "--params", "{}", "--ttl", "5", "--wait", "--json")
    # Then the batch is sent and both commands are delivered
    assert sent.exit_code == 0, sent.stderr
    batch = sent.json()
    assert (batch["status"], batch["sent"], batch["counts"]["delivered"]) == ("sent", 2, 2)
    shown = fleet("batches", "show", batch["batch_id"], "--json").json()
    assert sorted((c["device_id"], c["status"]) for c in shown["commands"]) == [
        ("sim-1", "delivered"), ("sim-2", "delivered")]
    assert batch["batch_id"] in {b["batch_id"] for b in fleet("batches", "list", "--json").json()}
    assert "sim-2" in fleet("batches", "show", batch["batch_id"]).stdout


def test_site_command_and_unknown_targets(fleet: Fleet) -> None:
    site_id = f"cli-site-{uuid.uuid4().hex[:8]}"
    assert fleet("sites", "create", site_id, "--name", "CLI site", "--cron", "0 6 * * *").exit_code == 0
    sent = fleet("sites", "command", site_id, "ping", "--json")
    assert sent.exit_code == 0, sent.stderr
    assert (sent.json()["target_type"], sent.json()["targeted"]) == ("site", 0)
    missing = fleet("groups", "command", "no-such-group", "ping")
    assert missing.exit_code != 0 and "not found" in missing.stderr
    bad = fleet("groups", "command", "no-such-group", "ping", "--params", "[]")
    assert bad.exit_code == 2 and "--params" in bad.stderr
