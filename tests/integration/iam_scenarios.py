"""Every Lambda function driven through its paths, for the IAM test to record what AWS calls it makes."""
from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
from chalice.test import Client

from chalicelib.broker_auth.iot_authorizer import iot_authorizer
from chalicelib.commands.batches.schedule import command_batches
from chalicelib.commands.schedule import expire_commands, retry_commands
from chalicelib.container import container
from chalicelib.core.auth.routes import operator_auth
from chalicelib.groups.schedule import group_deletes
from chalicelib.imports.schedule import device_imports
from chalicelib.jobs.schedule import jobs_sweep
from chalicelib.sites.schedule import site_fanout
from infra.local.scheduler import scheduled_event
from tests.integration.iam_support import ACCOUNT, REGION, Recorder
from tests.support import Api, ApiResponse

BROKER_SECRET = "iam-test-broker-secret"


class _Context:
    invoked_function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:fleet-control-plane-prod-iot_authorizer"


def ok(resp: ApiResponse) -> Any:
    assert resp.status < 300, resp.body
    return resp.body


def _message(client: Client, topic: str, body: dict[str, Any]) -> dict[str, Any]:
    event = {"topic": topic, "payload_b64": base64.b64encode(json.dumps(body).encode()).decode()}
    outcome: dict[str, Any] = client.lambda_.invoke("device_message", event).payload
    assert outcome["accepted"] is True, outcome
    return outcome


def run_api(api: Api, rec: Recorder) -> dict[str, Any]:
    """Every operator, device and broker route once; returns what the other scenarios need."""
    with rec.running("api_handler"):
        d1, _ = api.create_device("iam-1")
        d2, tok2 = api.create_device("iam-2")
        d3, tok3 = api.create_device("iam-3")
        for query in ("", "?status=pending_mapping"):
            ok(api.get(f"/customer/devices{query}"))
        ok(api.get(f"/customer/devices/{d1}"))
        ok(api.post("/customer/groups", {"group_id": "g1", "name": "G"}))
        for d in (d1, d3):
            ok(api.put(f"/customer/groups/g1/members/{d}"))
        ok(api.get("/customer/devices?group_id=g1"))
        ok(api.get("/customer/groups"))
        ok(api.get("/customer/groups/g1"))
        ok(api.post("/customer/sites", {"site_id": "s1", "name": "S", "wake_schedule_cron": "30 6 * * *",
                                        "timezone": "UTC"}))
        for d in (d1, d3):
            ok(api.put(f"/customer/devices/{d}/site", {"site_id": "s1"}))
        ok(api.get("/customer/devices?site_id=s1&status=active"))
        # A chunk of one device and no time budget: the per-minute function sends to the second.
        ok(api.patch("/customer/sites/s1", {"wake_schedule_cron": "0 */4 * * *"}))
        ok(api.get("/customer/sites"))
        ok(api.get("/customer/sites/s1"))
        # Group and site commands: chunks of one device and no time budget, the schedule sends the rest.
        batch = ok(api.post("/customer/groups/g1/commands", {"command_type": "ping", "client_token": "b1"}))
        ok(api.post("/customer/groups/g1/commands", {"command_type": "ping", "client_token": "b1"}))
        ok(api.post("/customer/sites/s1/commands", {"command_type": "ping"}))
        ok(api.get("/customer/command-batches"))
        ok(api.get(f"/customer/command-batches/{batch['batch_id']}"))
        command = ok(api.post(f"/customer/devices/{d2}/commands",
                              {"command_type": "ping", "command_params": {}, "client_token": "c1"}))
        ok(api.get(f"/customer/devices/{d2}/commands?limit=5&status=queued"))
        ok(api.get(f"/customer/devices/{d2}/commands/{command['command_id']}"))
        ok(api.device_call("GET", "/device/v1/commands/pending", tok2))
        ok(api.device_call("POST", f"/device/v1/commands/{command['command_id']}/ack", tok2,
                           {"status": "ok", "details": {}}))
        ok(api.patch(f"/customer/devices/{d2}/twin/desired", {"desired": {"led": "on"}}))
        ok(api.get(f"/customer/devices/{d2}/twin"))
        ok(api.get(f"/customer/devices/{d2}/twin/delta"))
        ok(api.device_call("GET", "/device/v1/shadow", tok2))
        ok(api.device_call("POST", "/device/v1/shadow/reported", tok2, {"reported": {"led": "on"}, "version": 1}))
        group_job = ok(api.post("/customer/jobs", {"document_type": "update_config",
                                                   "document_params": {"config": {}},
                                                   "target_group_id": "g1", "client_token": "j1"}))
        fleet_job = ok(api.post("/customer/jobs", {"document_type": "update_config",
                                                   "document_params": {"config": {}}, "target_all": True}))
        ok(api.get("/customer/jobs?status=IN_PROGRESS"))
        ok(api.get(f"/customer/jobs/{group_job['job_id']}"))
        ok(api.device_call("GET", "/device/v1/jobs/pending", tok3))
        ok(api.device_call("GET", f"/device/v1/jobs/{group_job['job_id']}/execution", tok3))
        ok(api.device_call("PUT", f"/device/v1/jobs/{group_job['job_id']}/execution", tok3,
                           {"status": "IN_PROGRESS", "expected_version": 1}))
        ok(api.delete(f"/customer/jobs/{fleet_job['job_id']}"))
        ok(api.device_call("POST", "/device/v1/heartbeat", tok2))
        tok2 = ok(api.post(f"/customer/devices/{d2}/token"))["provision_token"]
        ok(api.post(f"/customer/devices/{d2}/disable"))
        ok(api.post(f"/customer/devices/{d2}/enable"))
        ok(api.delete(f"/customer/groups/g1/members/{d1}"))
        ok(api.call("POST", "/broker/authn", {"username": f"{api.tenant_id}.{d2}", "password": tok2,
                                              "clientid": f"{api.tenant_id}.{d2}"},
                    headers={"X-Broker-Secret": BROKER_SECRET}, auth=False))
        ok(api.get("/health", auth=False))
        doomed, _ = api.create_device("iam-doomed")
        ok(api.delete(f"/customer/devices/{doomed}"))
        # A device import: chunks of one row and no time budget, the schedule creates the rest (into a
        # continuous job's group, onto a site); then its results and the one download of its credentials.
        ok(api.post("/customer/jobs", {"document_type": "update_config", "document_params": {"config": {}},
                                       "target_group_id": "g1", "target_selection": "CONTINUOUS"}))
        done = ok(api.post("/customer/device-imports?client_token=imp-1", raw=b"device_id,groups,site\nimp-0,,\n",
                           headers={"Content-Type": "text/csv"}))
        ok(api.get(f"/customer/device-imports/{done['import_id']}?outcome=created"))
        ok(api.post(f"/customer/device-imports/{done['import_id']}/credentials"))
        ok(api.get("/customer/device-imports"))
        # Provisioning templates and a dry run of an enrolment
        ok(api.post("/customer/provisioning-templates", {"template_name": "tpl", "device_id": "dev-{Serial}",
                                                         "parameters": {"Serial": {"pattern": "[0-9]+"}}}))
        ok(api.post("/customer/provisioning-templates/tpl/dry-run", {"parameters": {"Serial": "x"}}))
        ok(api.get("/customer/provisioning-templates"))
        ok(api.post("/customer/device-imports", raw=b'{"device_id": "imp-1"}\n'
                    b'{"device_id": "imp-2", "groups": ["g1"], "site": "s1", "certificate": true}\n',
                    headers={"Content-Type": "application/x-ndjson"}))
    return {"d2": d2, "tok2": tok2, "d3": d3, "job_id": group_job["job_id"], "command_id": command["command_id"]}


def run_firmware(api: Api, rec: Recorder, ids: dict[str, Any]) -> dict[str, Any]:
    """An image uploaded, completed, referenced by a command, a group command and a rolled-out job."""
    with rec.running("api_handler"):
        image = b"iam firmware"
        ticket = ok(api.post("/customer/firmware", {"version": "1.0.0", "device_model": "m",
                                                    "sha256": hashlib.sha256(image).hexdigest()}))
        assert requests.put(ticket["upload_url"], data=image, headers=ticket["upload_headers"],
                            timeout=10).status_code == 200
        firmware_id = ok(api.post(f"/customer/firmware/{ticket['firmware']['firmware_id']}/complete"))["firmware_id"]
        ok(api.get("/customer/firmware"))
        ok(api.get(f"/customer/firmware/{firmware_id}"))
        ok(api.get("/customer/firmware-versions"))
        ok(api.post("/customer/groups", {"group_id": "g2", "name": "OTA"}))
        for d in (ids["d2"], ids["d3"]):
            ok(api.put(f"/customer/groups/g2/members/{d}"))
        ok(api.get("/customer/firmware-versions?group_id=g2"))
        ref = {"firmware_id": firmware_id}
        # A command waiting for its device (delivered by `commands/request`), a group command the schedule
        # finishes (chunks of one), a rollout the sweep releases (one device a minute): each resolves per device.
        ok(api.post(f"/customer/devices/{ids['d3']}/commands", {"command_type": "update_firmware",
                                                                "command_params": ref}))
        ok(api.post("/customer/groups/g2/commands", {"command_type": "update_firmware", "command_params": ref}))
        ok(api.post("/customer/jobs", {"document_type": "update_firmware", "document_params": ref,
                                       "target_group_id": "g2", "rollout": {"max_per_minute": 1}}))
        ok(api.device_call("POST", "/device/v1/shadow/reported", ids["tok2"],
                           {"reported": {"firmware_version": "1.0.0"}}))
        unused = ok(api.post("/customer/firmware", {"version": "0.9.0", "device_model": "m"}))["firmware"]
        assert requests.put(ok(api.post("/customer/firmware", {"version": "0.9.1", "device_model": "m"}))[
            "upload_url"], data=image, timeout=10).status_code == 200
        ok(api.delete(f"/customer/firmware/{unused['firmware_id']}"))
    return {"firmware_id": firmware_id}


def run_device_message(api: Api, client: Client, rec: Recorder, ids: dict[str, Any]) -> None:
    """One message of each device-to-cloud kind, and a board enrolling by claim."""
    root = f"tenant/{api.tenant_id}/device"
    with rec.running("api_handler"):
        cmd = ok(api.post(f"/customer/devices/{ids['d3']}/commands", {"command_type": "ping", "command_params": {}}))
        ok(api.post("/customer/provisioning-templates", {
            "template_name": "claimed", "parameters": {"Serial": {"pattern": "[0-9]{4}"}},
            "device_id": "claimed-{Serial}", "groups": ["g1"], "site_id": "s1"}))
        claim = ok(api.post("/customer/provisioning-templates/claimed/claim-certificates", {}))
        ok(api.get("/customer/provisioning-templates/claimed/claim-certificates"))
    claims = f"$fleet/claims/claim-{claim['certificate_id']}/1/board"
    with rec.running("device_message"):
        _message(client, f"{root}/{ids['d3']}/status", {"battery": 90})
        _message(client, f"{root}/{ids['d3']}/commands/ack", {"command_id": cmd["command_id"], "status": "ok"})
        _message(client, f"{root}/{ids['d2']}/shadow/reported", {"reported": {"led": "off"}})
        # A new firmware version moves the counters of the fleet and of the device's groups.
        _message(client, f"{root}/{ids['d2']}/shadow/reported", {"reported": {"firmware_version": "1.1.0"}})
        # The device asks for its queued commands: the update_firmware one gets its URL made now.
        _message(client, f"{root}/{ids['d3']}/commands/request", {})
        _message(client, f"{root}/{ids['d3']}/jobs/{ids['job_id']}/update", {"status": "SUCCEEDED"})
        _message(client, f"{claims}/certificates/create/json", {})
        topic, answer = rec.published[-1]
        assert topic.endswith("/certificates/create/json/accepted"), topic
        token = json.loads(answer)["certificateOwnershipToken"]
        _message(client, f"{claims}/provisioning-templates/claimed/provision/json",
                 {"certificateOwnershipToken": token, "parameters": {"Serial": "0042"}})
        assert rec.published[-1][0].endswith("/provision/json/accepted"), rec.published[-1]


def run_schedules(api: Api, rec: Recorder, ids: dict[str, Any]) -> None:
    """The per-minute functions, each with something due."""
    rec.fail_publish = True
    with rec.running("api_handler"):
        ok(api.post(f"/customer/devices/{ids['d3']}/commands", {"command_type": "ping", "command_params": {},
                                                                     "expires_in_minutes": 5}))
        ok(api.post(f"/customer/devices/{ids['d3']}/commands", {
            "command_type": "update_firmware", "command_params": {"firmware_id": ids["firmware_id"]},
            "expires_in_minutes": 5}))
        # A group delete whose run died right after marking the group (its lease ends in a minute)
        ok(api.post("/customer/groups", {"group_id": "iam-gone", "name": "gone"}))
        ok(api.put(f"/customer/groups/iam-gone/members/{ids['d3']}"))
        now = datetime.now(UTC)
        container().group_repository.start_delete(api.tenant_id, "iam-gone", 0, now, now + timedelta(minutes=1))
    rec.fail_publish = False
    soon = datetime.now(UTC) + timedelta(minutes=3)
    later = datetime.now(UTC) + timedelta(days=60)
    with rec.running("commands_retry"):
        assert retry_commands(scheduled_event(soon), None)
    with rec.running("site_fanout"):
        assert site_fanout(scheduled_event(soon), None)
    with rec.running("command_batches"):
        assert command_batches(scheduled_event(soon), None)["resumed"] == 3
    with rec.running("device_imports"):
        assert device_imports(scheduled_event(soon), None)["completed"] == 1
    with rec.running("group_deletes"):
        assert group_deletes(scheduled_event(soon), None)["done"] == 1
    with rec.running("commands_expiry"):
        assert expire_commands(scheduled_event(later), None)
    with rec.running("jobs_sweep"):
        assert jobs_sweep(scheduled_event(soon), None)  # the firmware rollout's next minute
        assert jobs_sweep(scheduled_event(later), None)


def run_authorizers(api: Api, rec: Recorder, ids: dict[str, Any]) -> dict[str, Any]:
    """The operator JWT authorizer and the IoT Core custom authorizer."""
    with rec.running("operator_auth"):
        answer = operator_auth({"type": "TOKEN", "authorizationToken": f"Bearer {api.token}",
                                "methodArn": f"arn:aws:execute-api:{REGION}:{ACCOUNT}:abc/api/GET/x"}, None)
    assert answer["context"]["tenant_id"] == api.tenant_id
    username = f"{api.tenant_id}.{ids['d2']}"
    event = {"protocolData": {"mqtt": {"username": username, "clientId": username,
                                       "password": base64.b64encode(ids["tok2"].encode()).decode()}}}
    with rec.running("iot_authorizer"):
        result: dict[str, Any] = iot_authorizer(event, _Context())
    assert result["isAuthenticated"] is True
    return result
