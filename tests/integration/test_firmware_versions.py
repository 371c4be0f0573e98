"""The fleet's version counters stay bounded whatever devices report: long versions and too many distinct
ones are counted under "(other)", and the twin keeps what was reported."""
from __future__ import annotations

import base64
import json

from chalice.test import Client

from chalicelib.core.storage.keys import tenant_key
from chalicelib.firmware.store import FLEET_SCOPE, OTHER_VERSIONS, FirmwareRepository, VersionCountModel
from tests.support import Api


def report(api: Api, token: str, version: str) -> None:
    resp = api.device_call("POST", "/device/v1/shadow/reported", token, {"reported": {"firmware_version": version}})
    assert resp.status == 200, resp.body


def versions(api: Api) -> dict[str, int]:
    resp = api.get("/customer/firmware-versions")
    assert resp.status == 200, resp.body
    return dict(resp.body["versions"])


def test_a_version_too_long_to_count_is_stored_in_the_twin_and_counted_as_other(api: Api) -> None:
    device, token = api.create_device("dev-long")
    long = "9" * 2000  # more than DynamoDB's 1,024 bytes of a sort key
    report(api, token, long)
    # The twin holds what the device reported, the counter says "(other)"
    assert api.get(f"/customer/devices/{device}/twin").body["reported"]["firmware_version"] == long
    assert versions(api) == {OTHER_VERSIONS: 1}
    # A version of 65 characters is not counted by name either; one of 64 is
    report(api, token, "v" * 65)
    assert versions(api) == {OTHER_VERSIONS: 1}
    report(api, token, "v" * 64)
    assert versions(api) == {"v" * 64: 1}
    # And the emptied counter row is gone, not kept at zero
    assert [m.version for m in VersionCountModel.query(tenant_key(api.tenant_id, FLEET_SCOPE))] == ["v" * 64]


def test_versions_past_the_cap_of_a_scope_are_counted_as_other_and_rows_stay_bounded(api: Api) -> None:
    repository, scopes = FirmwareRepository(), [FLEET_SCOPE]
    # Given a scope capped at 3 versions, five devices each reporting its own version
    for i in range(5):
        repository.count_version(api.tenant_id, scopes, None, f"1.0.{i}", cap=3)
    assert repository.version_counts(api.tenant_id, FLEET_SCOPE) == {
        "1.0.0": 1, "1.0.1": 1, "1.0.2": 1, OTHER_VERSIONS: 2}
    # When a device counted under "(other)" moves on, "(other)" goes down (its version has no row)
    repository.count_version(api.tenant_id, scopes, "1.0.4", "1.0.0", cap=3)
    assert repository.version_counts(api.tenant_id, FLEET_SCOPE) == {"1.0.0": 2, "1.0.1": 1, "1.0.2": 1,
                                                                     OTHER_VERSIONS: 1}
    # An attacker cycling through versions leaves no trail of rows: each emptied one is deleted
    for i in range(50):
        repository.count_version(api.tenant_id, scopes, f"x{i - 1}" if i else "1.0.1", f"x{i}", cap=3)
    rows = list(VersionCountModel.query(tenant_key(api.tenant_id, FLEET_SCOPE)))
    assert len(rows) <= 4 and sum(int(r.devices) for r in rows) == 5


def test_a_device_written_for_aws_iot_reporting_its_version_in_the_classic_shadow_is_counted(
        api: Api, chalice_client: Client) -> None:
    device, token = api.create_device("dev-aws")
    report(api, token, "1.0.0")

    def shadow_update(body: dict[str, object]) -> None:
        event = {"topic": f"$aws/things/{api.tenant_id}.{device}/shadow/update",
                 "payload_b64": base64.b64encode(json.dumps(body).encode()).decode()}
        chalice_client.lambda_.invoke("device_message", event)

    # When it reports a new version on `$aws/things/{thing}/shadow/update`, as AWS IoT devices do
    shadow_update({"state": {"reported": {"firmware_version": "2.0.0"}}})
    # Then the fleet view moves it, as for a report on the project's topic
    assert api.get(f"/customer/devices/{device}/twin").body["reported"]["firmware_version"] == "2.0.0"
    assert versions(api) == {"2.0.0": 1}
    # And a delete of the classic shadow (the twin emptied) takes it out of the counts
    event = {"topic": f"$aws/things/{api.tenant_id}.{device}/shadow/delete",
             "payload_b64": base64.b64encode(b"{}").decode()}
    chalice_client.lambda_.invoke("device_message", event)
    assert versions(api) == {}
