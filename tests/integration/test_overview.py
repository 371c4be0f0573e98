"""GET /customer/overview: the numbers equal what the records say, and each one's list holds them."""
from __future__ import annotations

from typing import Any

from chalicelib.core.clock import parse_iso
from infra.local.backdate import run
from tests.commands_support import ack_http, command, minutes_from_now, run_expiry, send
from tests.integration.jobs_support import create_job
from tests.integration.test_console_shapes import assert_shape
from tests.support import Api


def ids(body: dict[str, Any], key: str, field: str) -> set[str]:
    return {item[field] for item in body[key]}


def elapsed_ms(start: str, end: str) -> float:
    first, last = parse_iso(start), parse_iso(end)
    assert first is not None and last is not None
    return (last - first).total_seconds() * 1000


def seed_fleet(api: Api) -> dict[str, Any]:
    """Three devices (two heard from), four final commands (two ACKed, two missed), a pending twin, a job."""
    seen_a, token_a = api.create_device("ov-a")
    seen_b, token_b = api.create_device("ov-b")
    never, _ = api.create_device("ov-c")
    for token in (token_a, token_b):  # any device request counts as presence
        assert api.device_call("GET", "/device/v1/commands/pending", token).status == 200
    acked = [send(api, seen_a)["command_id"] for _ in range(2)]
    for command_id in acked:
        assert ack_http(api, token_a, command_id).status == 200
    missed = [send(api, seen_a, "test_expiry")["command_id"], send(api, never, "test_expiry")["command_id"]]
    run(["command", api.tenant_id, seen_a, missed[0]])
    run(["command", api.tenant_id, never, missed[1]])
    queued = send(api, seen_a)["command_id"]  # not final: in no outcome
    run_expiry(minutes_from_now(0))
    assert api.patch(f"/customer/devices/{seen_b}/twin/desired", {"desired": {"led": "on"}}).status == 200
    job = create_job(api, document_type="reboot", target_device_id=seen_a)
    return {"devices": (seen_a, seen_b, never), "acked": acked, "missed": missed, "queued": queued,
            "job": job["job_id"], "token_b": token_b}


def test_overview_numbers_equal_the_records_and_each_links_to_its_list(api: Api) -> None:
    # Given a small fleet with presence, outcomes, a pending twin and a job
    fleet = seed_fleet(api)
    seen_a, seen_b, never = fleet["devices"]
    # When the operator reads the overview
    resp = api.get("/customer/overview")
    assert resp.status == 200, resp.body
    body = resp.body
    # Then presence: two connected now, one never heard from (its twin is stale)
    assert body["devices"] == {"total": 3, "online": 2, "offline": 1, "stale": 1, "truncated": False,
                               "buckets": {"online": 2, "hour": 0, "day": 0, "week": 0, "older": 0, "never": 1}}
    # And the commands settled in 24 h by outcome, with the ACK latency of the two delivered ones
    outcomes = body["commands"]["outcomes"]
    assert outcomes == {"delivered": 2, "missed": 2, "expired": 0, "publish_failed": 0}
    assert sum(h["delivered"] + h["missed"] + h["expired"] for h in body["commands"]["hourly"]) == 4
    latency = body["commands"]["ack_latency"]
    assert latency["count"] == 2 and sum(b["count"] for b in latency["histogram"]) == 2
    stored = [command(api, seen_a, c) for c in fleet["acked"]]
    expected_ms = sorted(elapsed_ms(c["published_at"], c["acked_at"]) for c in stored)
    assert latency["max_ms"] == round(expected_ms[-1], 1)
    # And the job in progress with its progress, and the twin waiting for its device
    assert [j["job_id"] for j in body["jobs"]["jobs"]] == [fleet["job"]] and body["jobs"]["count"] == 1
    assert body["jobs"]["jobs"][0]["execution_count"] == 1
    assert body["twins"] == {"pending": 1, "stale": 1, "truncated": False}
    assert 3 <= body["requests"] <= 5
    # And the answer is what the console's types say
    for interface, part in [("Overview", body), ("DevicePresence", body["devices"]),
                            ("CommandOutcomes", body["commands"]), ("LatencySummary", latency),
                            ("JobsInProgress", body["jobs"]),
                            ("JobInProgress", body["jobs"]["jobs"][0]), ("TwinSummary", body["twins"])]:
        assert_shape(interface, part)
    # And every number's list holds exactly what it counts
    assert ids(api.get("/customer/devices?presence=online").body, "devices", "device_id") == {seen_a, seen_b}
    assert ids(api.get("/customer/devices?presence=never").body, "devices", "device_id") == {never}
    assert ids(api.get("/customer/devices?presence=offline").body, "devices", "device_id") == {never}
    assert ids(api.get("/customer/devices?presence=stale").body, "devices", "device_id") == {never}
    assert api.get("/customer/devices?presence=day").body["devices"] == []
    assert ids(api.get("/customer/devices?twin=pending").body, "devices", "device_id") == {seen_b}
    delivered = api.get("/customer/commands?outcome=delivered").body
    assert ids(delivered, "commands", "command_id") == set(fleet["acked"])
    assert all(c["status"] == "delivered" and c["ack_latency_ms"] is not None for c in delivered["commands"])
    assert_shape("SettledCommand", delivered["commands"][0])
    assert ids(api.get("/customer/commands?outcome=missed").body, "commands", "command_id") == set(fleet["missed"])
    every = api.get("/customer/commands").body["commands"]
    assert {c["command_id"] for c in every} == set(fleet["acked"] + fleet["missed"])  # the queued one is not final
    # Compared as times: an expiry's settle time has whole seconds, written without a fraction ("...26Z").
    settled = [t for c in every if (t := parse_iso(c["settled_at"])) is not None]
    assert len(settled) == len(every) and settled == sorted(settled, reverse=True)


def test_a_report_that_catches_up_clears_the_pending_twin(api: Api) -> None:
    # Given a device whose desired state moved to version 1
    device_id, token = api.create_device("ov-twin")
    assert api.patch(f"/customer/devices/{device_id}/twin/desired", {"desired": {"fan": 2}}).status == 200
    assert api.get("/customer/overview").body["twins"]["pending"] == 1
    # When the device reports an older version, then the current one
    report = {"reported": {"fan": 1}, "version": 0}
    assert api.device_call("POST", "/device/v1/shadow/reported", token, report).status == 200
    assert api.get("/customer/overview").body["twins"]["pending"] == 1
    report = {"reported": {"fan": 2}, "version": 1}
    assert api.device_call("POST", "/device/v1/shadow/reported", token, report).status == 200
    # Then the twin is no longer pending, in the overview and in the list behind it
    assert api.get("/customer/overview").body["twins"]["pending"] == 0
    assert api.get("/customer/devices?twin=pending").body["devices"] == []


def test_another_tenant_sees_none_of_it(api: Api, other_api: Api) -> None:
    # Given a tenant with devices and settled commands
    seed_fleet(api)
    # Then a second tenant's overview and lists are empty
    body = other_api.get("/customer/overview").body
    assert body["devices"]["total"] == 0 and sum(body["commands"]["outcomes"].values()) == 0
    assert body["jobs"]["jobs"] == [] and body["twins"]["pending"] == 0
    assert other_api.get("/customer/commands").body["commands"] == []
    assert other_api.get("/customer/devices?presence=online").body["devices"] == []
    # And the first tenant's cursor cannot read the second's listing
    page = api.get("/customer/commands?limit=1").body
    assert page["next_token"]
    foreign = other_api.get(f"/customer/commands?limit=1&next_token={page['next_token']}")
    assert foreign.status == 400 and foreign.body["field"] == "next_token"


def test_bad_filters_are_400_naming_the_parameter(api: Api) -> None:
    for path, field in [("/customer/devices?presence=recently", "presence"),
                        ("/customer/devices?twin=synced", "twin"),
                        ("/customer/devices?presence=online&status=active", "presence"),
                        ("/customer/devices?presence=online&twin=pending", "twin"),
                        ("/customer/commands?outcome=lost", "outcome"),
                        ("/customer/commands?hours=0", "hours"),
                        ("/customer/commands?hours=100000", "hours")]:
        resp = api.get(path)
        assert resp.status == 400 and resp.body["field"] == field, (path, resp.body)
    assert api.get("/customer/overview", auth=False).status == 401
