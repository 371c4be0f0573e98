"""The pure twin rules: AWS IoT shadow delta, merge with null deletes, sync status, limits."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chalicelib.twin.rules import (
    SyncStatus,
    compute_delta,
    depth,
    encoded_size,
    merge,
    merge_metadata,
    same_value,
    sync_status,
)

# The seed's seven cases.


def test_delta_returns_differing_keys() -> None:
    assert compute_delta({"a": 1, "b": 2}, {"a": 1, "b": 99}) == {"b": 2}


def test_delta_includes_missing_reported_keys() -> None:
    assert compute_delta({"a": 1}, {}) == {"a": 1}


def test_delta_excludes_reported_only_keys() -> None:
    assert compute_delta({}, {"a": 1}) == {}


def test_sync_status_synced() -> None:
    now = datetime.now(UTC)
    assert sync_status(3, 3, now) == "synced"


def test_sync_status_pending() -> None:
    now = datetime.now(UTC)
    assert sync_status(3, 2, now) == "pending"


def test_sync_status_stale_no_last_seen() -> None:
    assert sync_status(1, 1, None) == "stale"


def test_sync_status_stale_old_last_seen() -> None:
    old = datetime.now(UTC) - timedelta(hours=2)
    assert sync_status(1, 1, old) == "stale"


# Delta: nesting, arrays, nulls, JSON types.


def test_seed_example_with_reported_only_key() -> None:
    assert compute_delta({"a": 1, "b": 2}, {"a": 1, "b": 99, "c": 3}) == {"b": 2}


def test_nested_objects_recurse_and_keep_the_path() -> None:
    desired = {"net": {"wifi": {"ssid": "lab", "channel": 6}, "mtu": 1500}, "led": "on"}
    reported = {"net": {"wifi": {"ssid": "lab", "channel": 11}, "mtu": 1500, "ip": "10.0.0.2"}, "led": "on"}
    assert compute_delta(desired, reported) == {"net": {"wifi": {"channel": 6}}}


def test_nested_object_missing_on_device_is_wanted_whole() -> None:
    assert compute_delta({"net": {"mtu": 1500}}, {}) == {"net": {"mtu": 1500}}


def test_object_wanted_where_device_has_a_scalar_replaces_it() -> None:
    assert compute_delta({"net": {"mtu": 1500}}, {"net": "off"}) == {"net": {"mtu": 1500}}


def test_arrays_compare_whole() -> None:
    # Given arrays that differ in one element or in order
    assert compute_delta({"ch": [1, 2, 3]}, {"ch": [1, 2, 4]}) == {"ch": [1, 2, 3]}
    assert compute_delta({"ch": [1, 2]}, {"ch": [2, 1]}) == {"ch": [1, 2]}
    # Then equal arrays (with objects inside) are no delta
    assert compute_delta({"ch": [{"a": 1}]}, {"ch": [{"a": 1}]}) == {}


def test_null_never_appears_in_a_delta() -> None:
    desired = {"gone": None, "cfg": {"x": None, "y": 2}, "obj": {"z": None}}
    assert compute_delta(desired, {"cfg": {"y": 1}}) == {"cfg": {"y": 2}}
    assert compute_delta({"cfg": {"x": None, "y": 2}}, {"cfg": 5}) == {"cfg": {"y": 2}}


def test_json_types_are_not_conflated() -> None:
    assert compute_delta({"on": True}, {"on": 1}) == {"on": True}
    assert compute_delta({"n": 1}, {"n": 1.0}) == {}
    assert compute_delta({"n": "1"}, {"n": 1}) == {"n": "1"}
    assert not same_value([True], [1])


# Merge: null deletes, objects merge, everything else replaces.


def test_merge_overwrites_adds_and_null_deletes() -> None:
    doc = {"a": 1, "b": 2, "c": {"x": 1, "y": 2}}
    assert merge(doc, {"a": 10, "b": None, "d": 4, "c": {"y": None, "z": 3}}) == {
        "a": 10, "d": 4, "c": {"x": 1, "z": 3}}
    assert doc == {"a": 1, "b": 2, "c": {"x": 1, "y": 2}}  # the input is not mutated


def test_merge_removes_an_object_emptied_by_deletes() -> None:
    assert merge({"c": {"x": 1}, "k": 1}, {"c": {"x": None}}) == {"k": 1}
    assert merge({"c": {"d": {"x": 1}, "e": 2}}, {"c": {"d": {"x": None}}}) == {"c": {"e": 2}}


def test_merge_keeps_an_explicitly_set_empty_object_and_replaces_arrays() -> None:
    assert merge({}, {"c": {}}) == {"c": {}}
    assert merge({"l": [1, 2, 3]}, {"l": [4]}) == {"l": [4]}


def test_merge_strips_nulls_inside_new_objects() -> None:
    assert merge({}, {"c": {"x": None, "y": 1}}) == {"c": {"y": 1}}


def test_deleting_members_of_a_scalar_leaves_it_alone() -> None:
    assert merge({"c": 5}, {"c": {"x": None}}) == {"c": 5}


# Metadata: a timestamp per leaf, mirroring the document.


def test_metadata_stamps_touched_leaves_and_drops_deleted_keys() -> None:
    doc = {"a": 1, "n": {"x": 1, "y": 2}}
    meta = {"a": {"timestamp": "t0"}, "n": {"x": {"timestamp": "t0"}, "y": {"timestamp": "t0"}}}
    patch = {"a": None, "n": {"y": 3, "z": 4}}
    merged = merge(doc, patch)
    assert merge_metadata(meta, patch, merged, "t1") == {
        "n": {"x": {"timestamp": "t0"}, "y": {"timestamp": "t1"}, "z": {"timestamp": "t1"}}}


def test_metadata_of_a_scalar_turned_object_becomes_nested() -> None:
    patch = {"a": {"b": 1}}
    assert merge_metadata({"a": {"timestamp": "t0"}}, patch, merge({"a": 1}, patch), "t1") == {
        "a": {"b": {"timestamp": "t1"}}}


# Sync status edges.


def test_sync_status_uses_the_given_clock_and_window() -> None:
    now = datetime(2030, 1, 1, tzinfo=UTC)
    seen = now - timedelta(minutes=10)
    assert sync_status(2, 2, seen, now=now, stale_after=timedelta(minutes=5)) is SyncStatus.STALE
    assert sync_status(2, 3, seen, now=now, stale_after=timedelta(minutes=15)) is SyncStatus.SYNCED
    assert sync_status(0, 0, seen.replace(tzinfo=None), now=now) is SyncStatus.SYNCED


# Limits.


def test_depth_counts_objects_and_arrays() -> None:
    assert depth({}) == 1
    assert depth({"a": 1}) == 1
    assert depth({"a": {"b": {"c": 1}}}) == 3
    assert depth({"a": [[1]]}) == 3


def test_depth_of_a_hostile_document_does_not_recurse() -> None:
    doc: dict = {}
    node = doc
    for _ in range(5000):
        node["n"] = {}
        node = node["n"]
    assert depth(doc) == 5001


def test_encoded_size_is_compact_utf8_json() -> None:
    assert encoded_size({"a": 1}) == len(b'{"a":1}')
    assert encoded_size({"t": "\u00e9"}) == len('{"t":"\u00e9"}'.encode())
