"""Keys, shards, fingerprints and the retry policy: the small pure pieces of commands."""
from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from ulid import ULID

from chalicelib.commands.delivery import CommandPolicy
from chalicelib.commands.models import CommandRef, device_key, shard_of
from chalicelib.core.storage.idempotency import claim_key, fingerprint

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def test_device_key_round_trips_to_a_command_ref() -> None:
    ref = CommandRef.of(device_key("t-1", "cam.7:a"), "01abc")
    assert ref == CommandRef("t-1", "cam.7:a", "01abc")


def test_shards_are_stable_and_spread_evenly() -> None:
    ids = [str(ULID()).lower() for _ in range(4000)]
    assert all(shard_of(i, 4) == shard_of(i, 4) for i in ids[:10])
    counts = Counter(shard_of(i, 4) for i in ids)
    assert set(counts) == {"0", "1", "2", "3"}
    assert min(counts.values()) > 800


def test_fingerprint_ignores_key_order_but_not_values() -> None:
    assert fingerprint({"a": 1, "b": {"c": 2}}) == fingerprint({"b": {"c": 2}, "a": 1})
    assert fingerprint({"a": 1}) != fingerprint({"a": 2})


def test_client_token_keys_are_scoped_by_feature_and_tenant() -> None:
    assert claim_key("t1", "commands", "x") != claim_key("t1", "jobs", "x")
    assert claim_key("t1", "commands", "x") != claim_key("t2", "commands", "x")


def test_publish_is_retried_at_the_interval_until_the_attempts_run_out() -> None:
    policy = CommandPolicy(max_attempts=3, retry_interval=timedelta(seconds=30))
    assert policy.next_attempt(NOW, 1) == NOW + timedelta(seconds=30)
    assert policy.next_attempt(NOW, 2) == NOW + timedelta(seconds=30)
    assert policy.next_attempt(NOW, 3) is None


def test_a_single_attempt_policy_never_schedules_a_retry() -> None:
    assert CommandPolicy(max_attempts=1).next_attempt(NOW, 1) is None
