"""An import whose request ran out of time or died is finished by the per-minute schedule, creating nothing twice."""
from __future__ import annotations

from datetime import datetime, timedelta

from bench.ddb_counter import DdbRequestCounter
from chalicelib.core.clock import utcnow
from chalicelib.imports.device_store import BulkDeviceWriter, NewDevice, Written
from chalicelib.imports.schemas import ImportFormat
from tests.integration.imports_support import all_results, csv_body, import_service, jsonl_body
from tests.support import Api


class DiesAfterWriting(BulkDeviceWriter):
    """The real writer, but the function dies right after the `crash_on`-th chunk's devices are written."""

    def __init__(self, crash_on: int) -> None:
        super().__init__()
        self._crash_on = crash_on
        self.calls = 0

    def create(self, tenant_id: str, devices: list[NewDevice], now: datetime) -> Written:
        written = super().create(tenant_id, devices, now)
        self.calls += 1
        if self.calls == self._crash_on:
            raise RuntimeError("the function died here")
        return written


def test_a_request_out_of_time_leaves_the_rest_to_the_schedule(api: Api) -> None:
    # Given an import service that does chunks of 3 with no time to spare
    service = import_service(chunk=3, budget_s=0)
    # When 7 rows are imported
    started = service.start(api.tenant_id, ImportFormat.JSON_LINES,
                            jsonl_body([{"device_id": f"r-{i}"} for i in range(7)]), None, "op")
    # Then the request did one chunk and answered `running`
    assert (started.record.status.value, started.record.created) == ("running", 3)
    # And the schedule, at once (the lease was handed back), does the rest
    report = service.run_due(utcnow(), budget_s=60)
    assert (report.resumed, report.completed, report.unfinished) == (1, 1, [])
    view = api.get(f"/customer/device-imports/{started.record.import_id}").body
    assert (view["status"], view["created"], view["credentials"]) == ("completed", 7, "available")


def test_a_chunk_that_died_after_writing_its_devices_is_redone_without_losing_their_tokens(api: Api) -> None:
    # Given a run that dies right after writing the devices of its second chunk, before recording it
    service = import_service(chunk=2, budget_s=60, writer=DiesAfterWriting(crash_on=2))
    rows = [{"device_id": f"c-{i}"} for i in range(5)]
    started = service.start(api.tenant_id, ImportFormat.CSV, csv_body(rows, ("device_id",)), None, "op")
    assert (started.record.status.value, started.record.created) == ("running", 2)
    assert api.get("/customer/devices/c-3").status == 200  # written, not yet recorded
    # When the schedule runs before the lease ends, then after it
    assert service.run_due(utcnow(), budget_s=60).resumed == 0
    report = service.run_due(utcnow() + timedelta(minutes=2), budget_s=60)
    # Then the import is taken over and finished: the devices of the dead chunk count as created, once
    assert (report.resumed, report.completed) == (1, 1)
    view = api.get(f"/customer/device-imports/{started.record.import_id}").body
    assert (view["status"], view["created"], view["existed"], view["refused"]) == ("completed", 5, 0, 0)
    assert [r["outcome"] for r in all_results(api, started.record.import_id)] == ["created"] * 5
    # And the tokens written before the crash are the ones downloaded, and they work
    creds = service.download(api.tenant_id, started.record.import_id)
    assert sorted(c.device_id for c in creds) == [f"c-{i}" for i in range(5)]
    for c in creds:
        assert api.device_call("POST", "/device/v1/heartbeat", c.provision_token).status == 200


def test_credentials_not_downloaded_in_time_are_erased(api: Api) -> None:
    # Given a completed import whose credentials wait one hour
    service = import_service(chunk=10, budget_s=60, credentials_ttl_h=1)
    started = service.start(api.tenant_id, ImportFormat.JSON_LINES, jsonl_body([{"device_id": "e-1"}]), None, "op")
    assert started.record.credentials.value == "available"
    # When the schedule runs after the hour
    report = service.run_due(utcnow() + timedelta(hours=2), budget_s=60)
    # Then the tokens are erased and the download says they expired
    assert report.erased == 1
    resp = api.post(f"/customer/device-imports/{started.record.import_id}/credentials")
    assert (resp.status, resp.body["credentials"]) == (409, "expired")
    # And the import is no longer due
    assert service.run_due(utcnow() + timedelta(hours=3), budget_s=60).due == 0


def test_an_import_costs_a_fraction_of_a_request_per_row(api: Api) -> None:
    # Given 400 rows that each join a group
    assert api.post("/customer/groups", {"group_id": "g", "name": "G"}).status == 201
    body = csv_body([{"device_id": f"n-{i:04d}", "name": f"Node {i}", "groups": ["g"]} for i in range(400)])
    service = import_service(chunk=500, budget_s=60)
    counter = DdbRequestCounter()
    # When they are imported
    with counter.measure() as counts:
        started = service.start(api.tenant_id, ImportFormat.CSV, body, None, "op")
    # Then every row made its device, and the whole import took at most 0.3 DynamoDB requests per row
    assert (started.record.created, api.get("/customer/groups/g").body["member_count"]) == (400, 400)
    assert sum(counts.values()) <= 0.3 * 400, dict(counts)


def test_two_imports_racing_for_the_same_ids_make_each_device_once(api: Api) -> None:
    # Given two imports of the same 60 ids, started at the same moment
    import threading

    body = jsonl_body([{"device_id": f"race-{i:02d}"} for i in range(60)])
    results = []
    barrier = threading.Barrier(2)

    def start() -> None:
        barrier.wait()
        results.append(import_service(chunk=20, budget_s=60).start(api.tenant_id, ImportFormat.JSON_LINES, body,
                                                                    None, "op"))

    threads = [threading.Thread(target=start) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    # Then every id was created by exactly one of them, and the other says it existed
    assert sorted(r.record.created + r.record.existed for r in results) == [60, 60]
    assert sum(r.record.created for r in results) == 60
    # And every created device's token is the one its import hands out, and it works
    creds = [c for r in results if r.record.created
             for c in import_service(chunk=20, budget_s=60).download(api.tenant_id, r.record.import_id)]
    assert sorted(c.device_id for c in creds) == [f"race-{i:02d}" for i in range(60)]
    for c in creds[::15]:
        assert api.device_call("POST", "/device/v1/heartbeat", c.provision_token).status == 200


def test_importing_the_same_file_again_creates_nothing_and_has_no_credentials(api: Api) -> None:
    body = csv_body([{"device_id": "again-1"}, {"device_id": "again-2"}], ("device_id",))
    service = import_service(chunk=10, budget_s=60)
    first = service.start(api.tenant_id, ImportFormat.CSV, body, None, "op")
    again = service.start(api.tenant_id, ImportFormat.CSV, body, None, "op")
    assert (first.record.created, again.record.created, again.record.existed) == (2, 0, 2)
    assert again.record.credentials.value == "none"
    resp = api.post(f"/customer/device-imports/{again.record.import_id}/credentials")
    assert (resp.status, resp.body["credentials"]) == (409, "none")
