"""Device twin over the real code path: moto's DynamoDB server and Mosquitto (seed 003)."""
from __future__ import annotations

import base64
import json
import queue
from typing import Any

import pytest
from chalice.test import Client

from tests.conftest import Stack
from tests.support import Api

SETTINGS = {"reporting_interval_s": 30, "alert_temp_threshold": 45}


def twin_path(device_id: str, rest: str = "") -> str:
    return f"/customer/devices/{device_id}/twin{rest}"


def bridge_event(tenant_id: str, device_id: str, payload: Any) -> dict[str, str]:
    """What the MQTT bridge hands the device-message Lambda."""
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return {"topic": f"tenant/{tenant_id}/device/{device_id}/shadow/reported",
            "payload_b64": base64.b64encode(raw).decode()}


def test_seed_003_flow_end_to_end(stack: Stack, api: Api) -> None:
    device_id, token = api.create_device("twin-seed")
    # Step 3: GET twin on a new device
    twin = api.get(twin_path(device_id))
    assert twin.status == 200
    assert {"device_id", "desired", "reported", "delta", "desired_version", "reported_version", "sync_status",
            "shadow_updated_at", "last_seen_at", "metadata"} <= twin.body.keys()
    assert twin.body["desired_version"] == 0 and twin.body["sync_status"] == "stale"
    # Step 4: PATCH desired
    patched = api.patch(twin_path(device_id, "/desired"), {"desired": SETTINGS})
    assert patched.status == 200, patched.body
    assert patched.body["desired_version"] == 1 and patched.body["desired"] == SETTINGS
    assert set(patched.body["metadata"]["desired"]) == set(SETTINGS)
    # Step 5: a subscriber that connects only now still gets the retained document
    fresh = stack.observer()
    fresh.subscribe(f"tenant/+/device/{device_id}/shadow/desired")
    topic, payload, retained = fresh.expect()
    fresh.close()
    assert topic == f"tenant/{api.tenant_id}/device/{device_id}/shadow/desired"
    assert retained and payload == {"desired": SETTINGS, "version": 1}
    # Step 6: device HTTP pull
    pulled = api.device_call("GET", "/device/v1/shadow", token)
    assert pulled.status == 200 and pulled.body == {"desired": SETTINGS, "version": 1}
    # Step 7: device HTTP report, then the operator sees `synced 1`
    report = api.device_call("POST", "/device/v1/shadow/reported", token, {"reported": SETTINGS, "version": 1})
    assert report.status == 200 and report.body == {"accepted": True, "version": 1}
    twin = api.get(twin_path(device_id)).body
    assert (twin["sync_status"], twin["reported_version"]) == ("synced", 1)
    assert twin["delta"] == {} and twin["last_seen_at"] and twin["shadow_updated_at"]
    # Step 8: a second PATCH opens a delta
    assert api.patch(twin_path(device_id, "/desired"), {"desired": {"reporting_interval_s": 60}}).status == 200
    delta = api.get(twin_path(device_id, "/delta"))
    assert delta.status == 200
    assert delta.body == {"delta": {"reporting_interval_s": 60}, "in_sync": False,
                          "desired_version": 2, "reported_version": 1}
    assert api.get(twin_path(device_id)).body["sync_status"] == "pending"


def test_device_gets_its_retained_desired_on_its_own_credentials(stack: Stack, api: Api) -> None:
    device_id, token = api.create_device("twin-own")
    api.patch(twin_path(device_id, "/desired"), {"desired": {"led": "on"}})
    device = stack.device_peer(api.tenant_id, device_id, token)
    device.subscribe(f"tenant/{api.tenant_id}/device/{device_id}/shadow/desired")
    _, payload, retained = device.expect()
    device.close()
    assert retained and payload == {"desired": {"led": "on"}, "version": 1}


def test_mqtt_report_runs_the_same_domain_code(api: Api, chalice_client: Client) -> None:
    device_id, _ = api.create_device("twin-mqtt")
    api.patch(twin_path(device_id, "/desired"), {"desired": {"mode": "eco", "fan": {"speed": 2}}})
    # When the device reports over MQTT (the bridge forwards it to the device-message Lambda)
    out = chalice_client.lambda_.invoke("device_message", bridge_event(
        api.tenant_id, device_id, {"reported": {"mode": "eco", "fan": {"speed": 2}, "fw": "2.1"}, "version": 1}))
    # Then it is accepted, the twin is synced, and presence was recorded on the way
    assert out.payload["accepted"] is True and out.payload["result"] == {"accepted": True, "version": 1}
    twin = api.get(twin_path(device_id)).body
    assert twin["sync_status"] == "synced" and twin["reported"]["fw"] == "2.1" and twin["delta"] == {}


def test_mqtt_reports_that_can_never_succeed_are_rejected_not_retried(api: Api, chalice_client: Client) -> None:
    device_id, _ = api.create_device("twin-mqtt-bad")
    invoke = chalice_client.lambda_.invoke
    newer = invoke("device_message", bridge_event(api.tenant_id, device_id, {"reported": {"a": 1}, "version": 3}))
    assert newer.payload["accepted"] is False and "conflict" in newer.payload["reason"]
    typo = invoke("device_message", bridge_event(api.tenant_id, device_id, {"reportd": {"a": 1}}))
    assert typo.payload["accepted"] is False and "invalid payload" in typo.payload["reason"]
    deep = invoke("device_message", bridge_event(api.tenant_id, device_id, {"reported": _nested(7)}))
    assert deep.payload["accepted"] is False and "6 levels" in deep.payload["reason"]
    absurd = b'{"reported":' + b"[" * 30000 + b"]" * 30000 + b"}"
    assert invoke("device_message", bridge_event(api.tenant_id, device_id, absurd)).payload["accepted"] is False
    assert api.get(twin_path(device_id)).body["reported"] == {}


def test_stale_expected_version_is_409_with_the_current_version(api: Api) -> None:
    device_id, _ = api.create_device("twin-409")
    assert api.patch(twin_path(device_id, "/desired"), {"desired": {"a": 1}, "version": 0}).status == 200
    stale = api.patch(twin_path(device_id, "/desired"), {"desired": {"a": 2}, "version": 0})
    assert stale.status == 409
    assert stale.body["field"] == "version" and stale.body["current"] == 1
    assert api.get(twin_path(device_id)).body["desired"] == {"a": 1}
    assert api.patch(twin_path(device_id, "/desired"), {"desired": {"a": 2}, "version": 1}).body["desired_version"] == 2


def test_report_of_a_version_never_desired_is_409(api: Api) -> None:
    device_id, token = api.create_device("twin-409r")
    resp = api.device_call("POST", "/device/v1/shadow/reported", token, {"reported": {"a": 1}, "version": 1})
    assert resp.status == 409 and resp.body["field"] == "version" and resp.body["current"] == 0
    # A spontaneous report (no version) is fine and leaves reported_version alone
    ok = api.device_call("POST", "/device/v1/shadow/reported", token, {"reported": {"fw": "1.0"}})
    assert ok.body == {"accepted": True, "version": 0}
    assert api.get(twin_path(device_id)).body["reported"] == {"fw": "1.0"}


def test_null_deletes_desired_keys_and_the_delta_never_shows_null(api: Api) -> None:
    device_id, _ = api.create_device("twin-null")
    api.patch(twin_path(device_id, "/desired"), {"desired": {"a": 1, "cfg": {"x": 1, "y": 2}}})
    body = api.patch(twin_path(device_id, "/desired"), {"desired": {"a": None, "cfg": {"x": None}}}).body
    assert body["desired"] == {"cfg": {"y": 2}} and body["delta"] == {"cfg": {"y": 2}}
    assert body["metadata"]["desired"].keys() == {"cfg"} and body["metadata"]["desired"]["cfg"].keys() == {"y"}


def test_documents_over_the_limits_are_refused_naming_the_limit(api: Api) -> None:
    device_id, token = api.create_device("twin-limits")
    big = api.patch(twin_path(device_id, "/desired"), {"desired": {"blob": "x" * 9000}})
    assert big.status == 413 and big.body["field"] == "desired" and big.body["limit"] == 8192
    assert "8192 bytes" in big.body["message"]
    deep = api.patch(twin_path(device_id, "/desired"), {"desired": _nested(7)})
    assert deep.status == 400 and deep.body["field"] == "desired" and deep.body["limit"] == 6
    assert api.patch(twin_path(device_id, "/desired"), {"desired": _nested(6)}).status == 200
    big_report = api.device_call("POST", "/device/v1/shadow/reported", token, {"reported": {"blob": "x" * 9000}})
    assert big_report.status == 413 and big_report.body["field"] == "reported"
    deep_report = api.device_call("POST", "/device/v1/shadow/reported", token, {"reported": _nested(7)})
    assert deep_report.status == 400 and deep_report.body["limit"] == 6
    # Nesting deep enough to break the JSON parser is still a 400, not a 500
    absurd = b'{"desired":{"a":' + b"[" * 30000 + b"]" * 30000 + b"}}"
    assert api.patch(twin_path(device_id, "/desired"), raw=absurd).status == 400
    assert api.get(twin_path(device_id)).body["desired_version"] == 1


def test_bad_bodies_are_400_naming_the_field(api: Api) -> None:
    device_id, token = api.create_device("twin-400")
    assert api.patch(twin_path(device_id, "/desired"), {"desired": [1]}).body["field"] == "desired"
    assert api.patch(twin_path(device_id, "/desired"), {"desired": {}, "version": "1"}).body["field"] == "version"
    assert api.patch(twin_path(device_id, "/desired"), {"desired": {}, "version": -1}).body["field"] == "version"
    assert api.patch(twin_path(device_id, "/desired"), {"desird": {}}).status == 400
    bad = api.device_call("POST", "/device/v1/shadow/reported", token, {"reported": {}, "version": True})
    assert bad.status == 400 and bad.body["field"] == "version"
    assert api.get(twin_path(device_id)).body["desired_version"] == 0


def test_other_tenants_and_unknown_devices_get_404(api: Api, other_api: Api) -> None:
    device_id, _ = api.create_device("twin-mine")
    api.patch(twin_path(device_id, "/desired"), {"desired": {"a": 1}})
    assert other_api.get(twin_path(device_id)).status == 404
    assert other_api.get(twin_path(device_id, "/delta")).status == 404
    assert other_api.patch(twin_path(device_id, "/desired"), {"desired": {"a": 2}}).status == 404
    assert api.get(twin_path("nope")).status == 404
    assert api.patch(twin_path("bad%2Fid", "/desired"), {"desired": {}}).status == 404
    assert api.get(twin_path(device_id)).body["desired"] == {"a": 1}


def test_device_routes_need_a_valid_token(api: Api) -> None:
    assert api.device_call("GET", "/device/v1/shadow", "tok_wrong").status == 401
    assert api.device_call("POST", "/device/v1/shadow/reported", "", {"reported": {}}).status == 401


def test_the_registry_is_unaffected_by_the_twin(api: Api) -> None:
    device_id, _ = api.create_device("twin-reg", name="Pump", attributes={"fw": "1"})
    api.patch(twin_path(device_id, "/desired"), {"desired": {"a": 1}})
    listed = api.get("/customer/devices").body["devices"]
    assert [(d["device_id"], d["name"], d["attributes"]) for d in listed] == [(device_id, "Pump", {"fw": "1"})]
    assert api.get(f"/customer/devices/{device_id}").body["name"] == "Pump"
    # Deleting the device deletes its twin; a device re-created under the id starts afresh
    assert api.delete(f"/customer/devices/{device_id}").status == 200
    assert api.get(twin_path(device_id)).status == 404
    api.create_device(device_id)
    assert api.get(twin_path(device_id)).body["desired_version"] == 0


def test_retained_desired_after_patch_is_seen_by_a_waiting_device(stack: Stack, api: Api) -> None:
    device_id, token = api.create_device("twin-live")
    device = stack.device_peer(api.tenant_id, device_id, token)
    device.subscribe(f"tenant/{api.tenant_id}/device/{device_id}/shadow/desired")
    with pytest.raises(queue.Empty):
        device.expect(timeout=0.3)  # nothing retained before the first PATCH
    api.patch(twin_path(device_id, "/desired"), {"desired": {"a": 1}})
    _, payload, _ = device.expect()
    device.close()
    assert payload == {"desired": {"a": 1}, "version": 1}


def _nested(levels: int) -> dict[str, Any]:
    doc: dict[str, Any] = {"leaf": 1}
    for _ in range(levels - 1):
        doc = {"n": doc}
    return doc
