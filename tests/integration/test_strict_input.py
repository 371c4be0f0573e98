"""Strict numbers, types, ids, zones and crons: each is a 400 naming the field, and nothing changes."""
from __future__ import annotations

import base64

import pytest
from chalice.test import Client

from tests.support import Api

OVERFLOW = b"1e999"  # valid JSON, but a float overflow: it used to be stored and served as `Infinity`


def test_an_overflowing_number_in_desired_state_is_400_naming_it(api: Api) -> None:
    device_id, _ = api.create_device()
    resp = api.patch(f"/customer/devices/{device_id}/twin/desired",
                     raw=b'{"desired": {"limits": {"max": ' + OVERFLOW + b"}}}")
    assert resp.status == 400 and resp.body["field"] == "desired.limits.max", resp.body
    twin = api.get(f"/customer/devices/{device_id}/twin").body
    assert twin["desired_version"] == 0 and twin["desired"] == {}


@pytest.mark.parametrize(("path", "body", "field"), [
    ("commands", b'{"command_type": "custom", "command_params": {"gain": -' + OVERFLOW + b"}}",
     "command_params.gain"),
    ("commands", b'{"command_type": "custom", "command_params": {"v": [1, ' + b"9" * 400 + b'.5]}}',
     "command_params.v[1]"),
])
def test_an_overflowing_number_in_command_params_is_400(api: Api, path: str, body: bytes, field: str) -> None:
    device_id, _ = api.create_device()
    resp = api.post(f"/customer/devices/{device_id}/{path}", raw=body)
    assert resp.status == 400 and resp.body["field"] == field, resp.body
    assert api.get(f"/customer/devices/{device_id}/commands").body == []


def test_an_overflowing_number_in_a_job_document_or_attributes_is_400(api: Api) -> None:
    device_id, _ = api.create_device()
    job = api.post("/customer/jobs", raw=b'{"document_type": "update_config", "document_params": {"config": {"x": '
                   + OVERFLOW + b'}}, "target_device_id": "' + device_id.encode() + b'"}')
    assert job.status == 400 and job.body["field"] == "document_params.config.x", job.body
    assert api.get("/customer/jobs").body["jobs"] == []
    created = api.post("/customer/devices", raw=b'{"device_id": "inf-1", "attributes": {"gain": ' + OVERFLOW + b"}}")
    assert created.status == 400 and created.body["field"] == "attributes.gain", created.body
    assert api.get("/customer/devices/inf-1").status == 404


def test_an_overflowing_number_in_an_mqtt_report_is_rejected(api: Api, chalice_client: Client) -> None:
    device_id, _ = api.create_device()
    event = {"topic": f"tenant/{api.tenant_id}/device/{device_id}/shadow/reported",
             "payload_b64": base64.b64encode(b'{"reported": {"t": ' + OVERFLOW + b'}, "version": 0}').decode()}
    outcome = chalice_client.lambda_.invoke("device_message", event).payload
    assert outcome["accepted"] is False and "reported.t" in outcome["reason"], outcome
    assert api.get(f"/customer/devices/{device_id}/twin").body["reported"] == {}


@pytest.mark.parametrize(("body", "field"), [
    ({"command_type": "ping", "command_params": {}, "expires_in_minutes": True}, "expires_in_minutes"),
    ({"command_type": "ping", "command_params": {}, "expires_in_minutes": "5"}, "expires_in_minutes"),
    ({"command_type": "reboot", "command_params": {"delay_s": "5"}}, "command_params.delay_s"),
    ({"command_type": "capture_image", "command_params": {"count": True}}, "command_params.count"),
])
def test_integer_fields_are_strict(api: Api, body: dict[str, object], field: str) -> None:
    device_id, _ = api.create_device()
    resp = api.post(f"/customer/devices/{device_id}/commands", body)
    assert resp.status == 400 and resp.body["field"] == field, resp.body
    assert api.get(f"/customer/devices/{device_id}/commands").body == []


def test_boolean_and_version_fields_are_strict(api: Api) -> None:
    resp = api.post("/customer/jobs", {"document_type": "reboot", "document_params": {}, "target_all": "true"})
    assert resp.status == 400 and resp.body["field"] == "target_all", resp.body
    device_id, token = api.create_device()
    job = api.post("/customer/jobs", {"document_type": "reboot", "document_params": {},
                                      "target_device_id": device_id})
    assert job.status == 201, job.body
    update = api.device_call("PUT", f"/device/v1/jobs/{job.body['job_id']}/execution", token,
                             {"status": "IN_PROGRESS", "expected_version": True})
    assert update.status == 400 and update.body["field"] == "expected_version", update.body


@pytest.mark.parametrize("device_id", ["cam:7", "cam.7", "cam 7", "cam/7", "cam+7", "cam#7", "-cam", "a" * 65])
def test_a_device_id_outside_the_alphabet_is_400_naming_it(api: Api, device_id: str) -> None:
    resp = api.post("/customer/devices", {"device_id": device_id})
    assert resp.status == 400 and resp.body["field"] == "device_id", resp.body


def test_a_device_id_with_a_trailing_newline_is_400(api: Api) -> None:
    resp = api.post("/customer/devices", {"device_id": "cam-7\n"})
    assert resp.status == 400 and resp.body["field"] == "device_id", resp.body
    assert api.get("/customer/devices").body["devices"] == []


@pytest.mark.parametrize("zone", ["localtime", "Factory", "posixrules", "/etc/localtime", "UTC\n", "EST5EDT,M3.2.0"])
def test_only_iana_zones_are_timezones(api: Api, zone: str) -> None:
    resp = api.post("/customer/sites", {"site_id": "z", "name": "Z", "wake_schedule_cron": "0 6 * * *",
                                        "timezone": zone})
    assert resp.status == 400 and resp.body["field"] == "timezone", resp.body
    assert api.get("/customer/sites/z").status == 404


@pytest.mark.parametrize("cron", ["59-0 * * * *", "0 23-1 * * *", "0 6 * * 6-1"])
def test_a_reversed_cron_range_is_400(api: Api, cron: str) -> None:
    resp = api.post("/customer/sites", {"site_id": "r", "name": "R", "wake_schedule_cron": cron, "timezone": "UTC"})
    assert resp.status == 400 and resp.body["field"] == "wake_schedule_cron", resp.body


@pytest.mark.parametrize(("params", "field"), [
    ({"cron": "0 0 6 * * * 2030"}, "command_params.cron"),
    ({"cron": "59-0 * * * *"}, "command_params.cron"),
    ({"cron": "0 6 * * *", "timezone": "localtime"}, "command_params.timezone"),
])
def test_set_wake_schedule_sent_directly_follows_the_site_rules(api: Api, params: dict[str, str], field: str) -> None:
    device_id, _ = api.create_device()
    resp = api.post(f"/customer/devices/{device_id}/commands",
                    {"command_type": "set_wake_schedule", "command_params": params})
    assert resp.status == 400 and resp.body["field"] == field, resp.body


@pytest.mark.parametrize(("body", "field"), [
    (b'{"desired": {"big": ' + b"9" * 4000 + b"}}", "desired.big"),
    (b'{"desired": {"id": 9007199254740993}}', "desired.id"),
    (b'{"desired": {"tiny": 1e-400}}', "body"),
    (b'{"desired": {"a": 1}, "desired": {"b": 2}}', "desired"),
    (b'{"desired": {"\\u0000": 1}}', "body"),
    (b'{"desired": {"d": ' + b"[" * 40 + b"]" * 40 + b"}}", None),
])
def test_numbers_keys_and_nesting_no_reader_can_take_are_400(api: Api, body: bytes, field: str | None) -> None:
    device_id, _ = api.create_device()
    resp = api.patch(f"/customer/devices/{device_id}/twin/desired", raw=body)
    assert resp.status == 400, resp.body
    if field is not None:
        assert resp.body["field"] == field, resp.body
    assert api.get(f"/customer/devices/{device_id}/twin").body["desired_version"] == 0


def test_a_deeply_nested_ack_is_400_and_leaves_the_history_readable(api: Api) -> None:
    # Given a command (960 levels once passed the parser and broke a later encoder: a 500)
    device_id, token = api.create_device()
    command_id = api.post(f"/customer/devices/{device_id}/commands",
                          {"command_type": "ping", "command_params": {}}).body["command_id"]
    for depth in (950, 960):
        body = b'{"status": "ok", "details": {"a": ' + b"[" * depth + b"]" * depth + b"}}"
        resp = api.call("POST", f"/device/v1/commands/{command_id}/ack", raw=body,
                        headers={"X-Provision-Token": token}, auth=False)
        assert resp.status == 400, resp.body
    assert api.get(f"/customer/devices/{device_id}/commands").status == 200


@pytest.mark.parametrize("cron", ["0 0 * * FRI-MON", "0 0 1 DEC-JAN *", "0 0 * * SAT-1", "0 0 * * 5-MON"])
def test_a_reversed_named_cron_range_is_400(api: Api, cron: str) -> None:
    resp = api.post("/customer/sites", {"site_id": "n", "name": "N", "wake_schedule_cron": cron, "timezone": "UTC"})
    assert resp.status == 400 and resp.body["field"] == "wake_schedule_cron", resp.body


@pytest.mark.parametrize(("command_type", "params", "field"), [
    ("set_wake_schedule", {"cron": "0 6 * * *", "next_wake_at": 0}, "command_params.next_wake_at"),
    ("set_wake_schedule", {"cron": "0 6 * * *", "next_wake_at": "2026-01-01T00:00"}, "command_params.next_wake_at"),
    ("set_wake_schedule", {"cron": "0 6 * * *", "schedule_id": "a\nb/#"}, "command_params.schedule_id"),
    ("send_image", {"image_name": "../../etc/shadow"}, "command_params.image_name"),
])
def test_known_command_params_are_exact(api: Api, command_type: str, params: dict[str, object], field: str) -> None:
    device_id, _ = api.create_device()
    resp = api.post(f"/customer/devices/{device_id}/commands", {"command_type": command_type,
                                                                 "command_params": params})
    assert resp.status == 400 and resp.body["field"] == field, resp.body


@pytest.mark.parametrize("name", ["<x>\u001b[31mRED", "a\u0000b", "bell\u0007", "c1\u009b2J"])
def test_display_names_refuse_control_characters(api: Api, name: str) -> None:
    resp = api.post("/customer/devices", {"device_id": "ctl", "name": name})
    assert resp.status == 400 and resp.body["field"] == "name", resp.body
    group = api.post("/customer/groups", {"group_id": "g", "name": "G", "description": f"x{name}"})
    assert group.status == 400 and group.body["field"] == "description", group.body
