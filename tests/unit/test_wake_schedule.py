"""Wake schedules: cron and timezone validation, next wake time across daylight-saving changes."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from chalicelib.sites.rules import check_cron, check_timezone, next_wake, schedule_id, wake_window, welcome_params
from chalicelib.sites.schemas import CreateSite, Site, UpdateSite


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def test_next_wake_reads_the_cron_in_the_site_timezone() -> None:
    # Given 08:00 on weekdays in Berlin (UTC+1 in winter), asked on a Saturday
    # Then the next wake is Monday 07:00 UTC
    assert next_wake("0 8 * * 1-5", "Europe/Berlin", utc(2025, 1, 4, 12)) == utc(2025, 1, 6, 7)


def test_next_wake_follows_the_march_change_in_berlin() -> None:
    # Given a daily 06:00 wake, asked on the Saturday before clocks go forward (30 March 2025)
    wakes = wake_window("0 6 * * *", "Europe/Berlin", utc(2025, 3, 29, 12), 3)
    # Then Sunday's wake is 06:00 CEST = 04:00 UTC, an hour earlier in UTC than Saturday's would be
    assert wakes == [utc(2025, 3, 30, 4), utc(2025, 3, 31, 4), utc(2025, 4, 1, 4)]


def test_a_wall_time_skipped_by_the_spring_change_fires_right_after_the_gap() -> None:
    # 02:30 does not exist in Berlin on 30 March 2025: classic cron runs it at 03:00 CEST
    assert next_wake("30 2 * * *", "Europe/Berlin", utc(2025, 3, 29, 12)) == utc(2025, 3, 30, 1)


def test_a_fixed_wall_time_repeated_by_the_autumn_change_fires_once() -> None:
    # 02:30 happens twice in Berlin on 26 October 2025 (00:30 and 01:30 UTC): wake at the first only
    wakes = wake_window("30 2 * * *", "Europe/Berlin", utc(2025, 10, 25, 12), 2)
    assert wakes == [utc(2025, 10, 26, 0, 30), utc(2025, 10, 27, 1, 30)]


def test_an_hourly_schedule_keeps_firing_through_the_repeated_hour() -> None:
    wakes = wake_window("0 * * * *", "Europe/Berlin", utc(2025, 10, 25, 23, 30), 3)
    assert wakes == [utc(2025, 10, 26, 0), utc(2025, 10, 26, 1), utc(2025, 10, 26, 2)]


def test_next_wake_is_strictly_after_now() -> None:
    assert next_wake("0 * * * *", "UTC", utc(2025, 1, 1, 10)) == utc(2025, 1, 1, 11)


@pytest.mark.parametrize("expr", ["* * * *", "* * * * * *", "@daily", "61 * * * *", "0 0 30 2 *", "a b c d e", ""])
def test_bad_cron_expressions_are_rejected(expr: str) -> None:
    with pytest.raises(ValueError):
        check_cron(expr)


def test_cron_whitespace_is_normalised() -> None:
    assert check_cron(" 0  8 * *   1-5 ") == "0 8 * * 1-5"


@pytest.mark.parametrize("tz", ["Mars/Olympus", "../../etc/passwd", "CET-1CEST", "", "europe/berlin"])
def test_non_iana_timezones_are_rejected(tz: str) -> None:
    with pytest.raises(ValueError):
        check_timezone(tz)


def test_create_site_names_each_bad_field() -> None:
    with pytest.raises(ValidationError) as err:
        CreateSite.model_validate({"name": "Barn", "wake_schedule_cron": "nope", "timezone": "Nowhere/Town"})
    assert {e["loc"][0] for e in err.value.errors()} == {"wake_schedule_cron", "timezone"}


def test_update_site_keeps_required_fields_set_and_clears_labels() -> None:
    assert UpdateSite.model_validate({"program": None}).changes() == {"program": None}
    with pytest.raises(ValidationError) as err:
        UpdateSite.model_validate({"wake_schedule_cron": None})
    assert err.value.errors()[0]["loc"] == ("wake_schedule_cron",)


def test_welcome_params_carry_schedule_and_site_context() -> None:
    now = utc(2025, 1, 1)
    site = Site(tenant_id="t", site_id="barn", name="Barn", wake_schedule_cron="0 6 * * *",
                timezone="Europe/Berlin", created_at=now, updated_at=now)
    assert welcome_params(site, utc(2025, 1, 2, 5), "01jmapping") == {
        "schedule_id": "01jmapping-00000001",
        "cron": "0 6 * * *", "timezone": "Europe/Berlin", "next_wake_at": "2025-01-02T05:00:00Z",
        "site_id": "barn", "site_name": "Barn",
    }
    labelled = site.model_copy(update={"program": "pilot", "company": "Acme"})
    assert welcome_params(labelled, utc(2025, 1, 2, 5), None)["program"] == "pilot"
    assert welcome_params(labelled, utc(2025, 1, 2, 5), None)["company"] == "Acme"


def test_schedule_ids_sort_by_mapping_then_version() -> None:
    # A later mapping sorts after any schedule of an earlier one; versions compare as numbers
    assert schedule_id("01a", 9) < schedule_id("01a", 10) < schedule_id("01b", 1)
