"""Pure parts of group and site commands: stable command ids and the settings section."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ulid import ULID

from chalicelib.commands.service import BatchRef, batch_command_id
from chalicelib.core.config import Settings
from chalicelib.core.policies import BatchPolicy

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
BATCH = BatchRef("01jbatch", T0, T0 + timedelta(hours=1))


def test_a_redone_chunk_derives_the_same_command_ids() -> None:
    # Given the same batch and device twice, and another device
    first, again = batch_command_id(BATCH, "cam-1"), batch_command_id(BATCH, "cam-1")
    other = batch_command_id(BATCH, "cam-2")
    # Then the id is stable per device, distinct across devices and batches
    assert first == again and first != other
    assert batch_command_id(BatchRef("01jother", T0, T0), "cam-1") != first


def test_batch_command_ids_are_ulids_of_the_batch_time() -> None:
    # Commands list newest first by id: a batch's commands must sort at the batch's time.
    command_id = batch_command_id(BATCH, "cam-1")
    assert command_id == command_id.lower()
    assert ULID.from_str(command_id.upper()).datetime == T0


def test_the_batch_section_reads_its_flat_variables() -> None:
    s = Settings.from_env({"FLEET_COMMAND_BATCH_CHUNK": "50", "FLEET_COMMAND_BATCH_LEASE_S": "30",
                           "FLEET_COMMAND_BATCH_BUDGET_S": "0", "FLEET_SCHEDULE_SHARDS": "8"})
    assert s.command_batches == BatchPolicy(chunk=50, lease=timedelta(seconds=30), budget_s=0, shards=8)
    assert "FLEET_COMMAND_BATCH_SWEEP_BUDGET_S" in Settings.env_names()
