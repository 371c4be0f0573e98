"""Site rules: wake schedules (a 5-field cron read in an IANA timezone, its next occurrence) and the welcome."""
from __future__ import annotations

import re
from datetime import datetime, timezone
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, TypeAdapter

if TYPE_CHECKING:
    from chalicelib.sites.schemas import Site

# The same bound as the welcome command's `cron` parameter, so every valid site can be sent.
CRON_MAX_LENGTH = 200
_TERM = r"(?:\*|\d{1,2}|[A-Za-z]{3})(?:-(?:\d{1,2}|[A-Za-z]{3}))?(?:/\d{1,2})?"
_STANDARD_FIELD = re.compile(rf"^{_TERM}(?:,{_TERM})*$")
# next_wake skips only candidates inside a repeated (autumn) span: a minute-by-minute cron
# through a repeat of up to a day (real ones are 30 min to 2 h) stays within this bound.
_MAX_SKIPPED = 24 * 60 + 2
# The first occurrence is searched from this far back, so "never fires" is caught at validation.
_PROBE_FROM = datetime(2000, 1, 1, tzinfo=timezone.utc)


# In the tz database's zone list but not a place: 'Factory' means "local time unset".
_NOT_PLACES = frozenset({"Factory"})


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    """The tz database's own zone list (as the pinned tzdata package ships it).

    Not zoneinfo.available_timezones(): that also walks the system's zoneinfo directory
    and so accepts files such as 'localtime', whose meaning depends on the machine.
    """
    listed = resources.files("tzdata").joinpath("zones").read_text().split()
    return frozenset(listed) - _NOT_PLACES


def check_timezone(value: str) -> str:
    """Accept IANA zone names only (not file paths, not POSIX TZ strings, not 'localtime' or 'Factory')."""
    if value not in _zones():
        raise ValueError(f"{value!r} is not an IANA timezone name (e.g. 'Europe/Berlin')")
    return value


def check_cron(value: str) -> str:
    """Accept standard 5-field cron expressions that fire at least once.

    Devices evaluate the cron themselves, so croniter's extensions (`R`andom, `L`ast,
    `W`eekday, `#`nth, seconds) are refused: a device's cron library would not know them.
    """
    # croniter is imported where a cron is read, not with the schemas (a cold start pays ~50 ms for it).
    from croniter import CroniterError, croniter

    if len(value) > CRON_MAX_LENGTH:
        raise ValueError(f"must be at most {CRON_MAX_LENGTH} characters")
    fields = value.split()
    if len(fields) != 5:
        raise ValueError("must be a 5-field cron expression (minute hour day-of-month month day-of-week)")
    if not all(_STANDARD_FIELD.match(f) for f in fields):
        raise ValueError(f"{value!r} uses non-standard cron syntax (allowed: numbers, names, * , - /)")
    for position, f in enumerate(fields):
        _check_ranges_ascend(f, position)
    normalised = " ".join(fields)
    if not croniter.is_valid(normalised):
        raise ValueError(f"{value!r} is not a valid cron expression")
    try:
        croniter(normalised, _PROBE_FROM).get_next(datetime)
    except CroniterError as exc:
        raise ValueError(f"{value!r} never fires") from exc
    return normalised


_RANGE = re.compile(r"([0-9A-Za-z]+)-([0-9A-Za-z]+)")
_MONTHS = {name: i for i, name in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], start=1)}
_DAYS = {name: i for i, name in enumerate(["sun", "mon", "tue", "wed", "thu", "fri", "sat"])}
_NAMES_BY_FIELD = {3: _MONTHS, 4: _DAYS}


def _check_ranges_ascend(field: str, position: int) -> None:
    """A range must run low to high (`10-20`, `MON-FRI`); croniter reads `59-0` or `FRI-MON` as a
    wrap-around, which the cron libraries devices run do not."""
    names = _NAMES_BY_FIELD.get(position, {})
    for low, high in _RANGE.findall(field):
        lo, hi = (int(v) if v.isdigit() else names.get(v.lower(), -1) for v in (low, high))
        if lo < 0 or hi < 0:
            raise ValueError(f"{low}-{high}: names are allowed only in the month and day-of-week fields")
        if lo > hi:
            raise ValueError(f"range {low}-{high} must be ascending (low-high)")


WakeCron = Annotated[str, AfterValidator(check_cron)]
Timezone = Annotated[str, AfterValidator(check_timezone)]


def next_wake(cron: str, tz: str, after: datetime) -> datetime:
    """The first wake strictly after `after`, in UTC, with the wall clock read in `tz`.

    Daylight-saving rules follow classic cron: a wall time skipped by the spring change
    fires right after the gap; a fixed-hour time repeated by the autumn change fires once
    (its first occurrence), while an interval hour field (`*`, `*/2`) keeps firing through
    the repeated hour, since there every real hour is a new occurrence.
    """
    from croniter import croniter

    zone = ZoneInfo(tz)
    interval_hours = cron.split()[1].startswith("*")
    it = croniter(cron, after.astimezone(zone))
    for _ in range(_MAX_SKIPPED):
        candidate: datetime = it.get_next(datetime)
        if interval_hours or not _is_repeat(candidate, zone):
            return candidate.astimezone(timezone.utc)
    raise ValueError(f"no wake time found for {cron!r} in {tz}")


def _is_repeat(local: datetime, zone: ZoneInfo) -> bool:
    """Whether this instant is the second pass over a wall time the autumn change repeats."""
    wall = local.replace(tzinfo=None)
    first = wall.replace(fold=0, tzinfo=zone).astimezone(timezone.utc)
    second = wall.replace(fold=1, tzinfo=zone).astimezone(timezone.utc)
    return first != second and local.astimezone(timezone.utc) == second


def wake_window(cron: str, tz: str, after: datetime, count: int) -> list[datetime]:
    """The next `count` wakes after `after` (for previews and tests)."""
    out: list[datetime] = []
    cursor = after
    for _ in range(count):
        cursor = next_wake(cron, tz, cursor)
        out.append(cursor)
    return out


_TIMESTAMP: TypeAdapter[datetime] = TypeAdapter(datetime)


def schedule_id(mapping_id: str | None, schedule_version: int) -> str:
    """Orders a device's schedules: a later mapping, or a later schedule of the same mapping, sorts after.

    Mapping ids are ULIDs (time-ordered); the version is zero-padded so the plain string
    order is the order. Commands can arrive out of order (a retried publish, a replaced
    fan-out still finishing), so a device applies the set_wake_schedule with the
    greatest schedule_id it has seen and ignores older ones.
    """
    return f"{mapping_id or '0'}-{schedule_version:08d}"


def welcome_params(site: Site, next_wake_at: datetime, mapping_id: str | None) -> dict[str, Any]:
    """Parameters of `set_wake_schedule`: the schedule and the site context (seed 002).

    The program and company labels travel only when the site has them.
    """
    params: dict[str, Any] = {
        "schedule_id": schedule_id(mapping_id, site.schedule_version),
        "cron": site.wake_schedule_cron,
        "timezone": site.timezone,
        # Serialised as every other timestamp of the API and of MQTT payloads.
        "next_wake_at": _TIMESTAMP.dump_python(next_wake_at.astimezone(timezone.utc), mode="json"),
        "site_id": site.site_id,
        "site_name": site.name,
    }
    params.update({k: v for k, v in (("program", site.program), ("company", site.company)) if v is not None})
    return params
