"""Rollouts at a controlled rate and abort thresholds, with the schedule's clock given by the event time."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from chalice.test import Client

from tests.integration.jobs_support import create_job, fleet, run_sweep, update
from tests.support import Api


def job(api: Api, job_id: str) -> dict[str, Any]:
    return dict(api.get(f"/customer/jobs/{job_id}?limit=200").body)


def pending_ids(api: Api, token: str) -> list[str]:
    return [j["job_id"] for j in api.device_call("GET", "/device/v1/jobs/pending", token).body["jobs"]]


def test_a_rollout_at_10_per_minute_releases_50_devices_in_five_minutes(api: Api, chalice_client: Client) -> None:
    # Given 50 devices in a group and a job limited to 10 devices a minute
    tokens = fleet(api, "roll", 50, group_id="roll")
    start = datetime.now(UTC)
    created = create_job(api, target_group_id="roll", rollout={"max_per_minute": 10})
    job_id = created["job_id"]
    # Then the first 10 (in device id order) are released at once, the other 40 held
    assert created["rollout_progress"]["released"] == 10 and created["rollout_progress"]["held"] == 40
    assert job_id in pending_ids(api, tokens["roll-009"]) and pending_ids(api, tokens["roll-010"]) == []
    # And a held device can neither see nor move its execution
    assert update(api, tokens["roll-049"], job_id, "IN_PROGRESS").status == 404
    # When the schedule runs within the same minute, nothing more is released
    run_sweep(chalice_client, start + timedelta(seconds=30))
    assert job(api, job_id)["rollout_progress"]["released"] == 10
    # When it runs each following minute, 10 more are released each time
    released = []
    for minute in range(1, 6):
        run_sweep(chalice_client, start + timedelta(minutes=minute, seconds=1))
        released.append(job(api, job_id)["rollout_progress"]["released"])
    assert released == [20, 30, 40, 50, 50]
    body = job(api, job_id)
    assert body["rollout_progress"]["held"] == 0
    assert not any(e["held"] for e in body["executions"])
    assert job_id in pending_ids(api, tokens["roll-049"])
    assert update(api, tokens["roll-049"], job_id, "SUCCEEDED").status == 200


def test_an_exponential_rollout_grows_its_rate_as_devices_succeed(api: Api, chalice_client: Client) -> None:
    # Given a rollout starting at 2 a minute, doubling after every 2 successes, at most 8
    tokens = fleet(api, "expo", 20, group_id="expo")
    start = datetime.now(UTC)
    rollout = {"max_per_minute": 8, "exponential": {"base_rate_per_minute": 2, "increment_factor": 2,
                                                    "rate_increase_criteria": {"succeeded": 2}}}
    job_id = create_job(api, target_group_id="expo", rollout=rollout)["job_id"]
    # When the two released devices succeed and a minute passes
    for device_id in ("expo-000", "expo-001"):
        assert update(api, tokens[device_id], job_id, "SUCCEEDED").status == 200
    run_sweep(chalice_client, start + timedelta(minutes=1, seconds=1))
    # Then the next minute releases at the doubled rate
    progress = job(api, job_id)["rollout_progress"]
    assert progress == {**progress, "released": 6, "rate_per_minute": 4}


def test_abort_at_20_percent_failed_after_10_executed_stops_the_rest(api: Api, chalice_client: Client) -> None:
    # Given 30 devices and a job that aborts when 20 % of at least 10 executed failed
    tokens = fleet(api, "abrt", 30, group_id="abrt")
    criterion = {"failure_type": "FAILED", "min_executed": 10, "threshold_percentage": 20}
    job_id = create_job(api, target_group_id="abrt", abort=[criterion])["job_id"]
    # When 8 succeed and 1 fails (9 executed: below the minimum), the job runs on
    for i in range(8):
        assert update(api, tokens[f"abrt-{i:03d}"], job_id, "SUCCEEDED").status == 200
    assert update(api, tokens["abrt-008"], job_id, "FAILED").status == 200
    assert job(api, job_id)["status"] == "IN_PROGRESS"
    # When the 10th executed fails too (2 of 10 = 20 %)
    assert update(api, tokens["abrt-009"], job_id, "FAILED").status == 200
    # Then the job is canceled as a cancel would, with the criterion and reason recorded
    body = job(api, job_id)
    assert body["status"] == "CANCELED" and body["aborted"] is True
    assert body["abort_criterion"] == {**criterion, "threshold_percentage": 20.0, "action": "CANCEL"}
    assert "aborted" in body["reason"]
    assert body["counts"] == {**body["counts"], "SUCCEEDED": 8, "FAILED": 2, "REJECTED": 20, "QUEUED": 0}
    rejected = [e for e in body["executions"] if e["status"] == "REJECTED"]
    assert len(rejected) == 20 and all("aborted" in e["status_details"]["reason"] for e in rejected)
    # And the rest can no longer start
    assert update(api, tokens["abrt-029"], job_id, "IN_PROGRESS").status == 409


def test_rollout_and_abort_options_are_validated_naming_the_field(api: Api) -> None:
    api.create_device("val-1")
    cases: list[tuple[dict[str, Any], str]] = [
        ({"rollout": {"max_per_minute": 0}}, "rollout.max_per_minute"),
        ({"rollout": {"max_per_minute": 5, "exponential": {"base_rate_per_minute": 9, "increment_factor": 2,
                                                             "rate_increase_criteria": {"notified": 3}}}}, "rollout"),
        ({"rollout": {"max_per_minute": 5, "exponential": {"base_rate_per_minute": 1, "increment_factor": 2,
                                                             "rate_increase_criteria": {}}}},
         "rollout.exponential.rate_increase_criteria"),
        ({"abort": [{"failure_type": "LOST", "min_executed": 1, "threshold_percentage": 5}]},
         "abort.0.failure_type"),
        ({"abort": [{"failure_type": "ALL", "min_executed": 1, "threshold_percentage": 101}]},
         "abort.0.threshold_percentage"),
        ({"in_progress_timeout_minutes": 0}, "in_progress_timeout_minutes"),
        ({"target_selection": "CONTINUOUS"}, "target_selection"),
    ]
    for extra, field in cases:
        resp = api.post("/customer/jobs", {"document_type": "reboot", "target_device_id": "val-1", **extra})
        assert resp.status == 400, (extra, resp.body)
        assert resp.body["field"] == field, (extra, resp.body)
    assert api.get("/customer/jobs").body["jobs"] == []


def test_a_release_that_read_the_job_before_a_cancel_leaves_the_canceled_job_alone(api: Api) -> None:
    from chalicelib.container import container
    from chalicelib.jobs.store import JobModel

    # Given a rollout with held devices, one device in progress, and a release run that read the job
    tokens = fleet(api, "rc", 6, group_id="rc")
    job_id = create_job(api, target_group_id="rc", rollout={"max_per_minute": 2})["job_id"]
    assert update(api, tokens["rc-000"], job_id, "IN_PROGRESS").status == 200
    stale = container().job_repository.find(api.tenant_id, job_id)
    assert stale is not None
    # When the operator cancels, and only then the release run writes
    assert api.delete(f"/customer/jobs/{job_id}").status == 200
    due_before = JobModel.get(api.tenant_id, job_id).due_at
    assert container().rollout_releaser.release(stale, datetime.now(UTC) + timedelta(minutes=2)) == 0
    # Then the canceled job is not made due every minute again, and nothing was released
    after = JobModel.get(api.tenant_id, job_id)
    assert after.due_at == due_before
    assert pending_ids(api, tokens["rc-005"]) == []
    assert job(api, job_id)["status"] == "CANCELED"
