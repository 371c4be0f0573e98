"""Hostile or careless environments: every bad value is a ValidationError naming its variable, no secret shown."""
from __future__ import annotations

import pytest
from pydantic import ValidationError

from chalicelib.core.config import SECTIONS, Settings


@pytest.mark.parametrize(("name", "value"), [
    ("FLEET_COMMAND_TTL_DEFAULT_MIN", "inf"),
    ("FLEET_COMMAND_TTL_MAX_MIN", "1e20"),
    ("FLEET_COMMAND_RETENTION_DAYS", "99999999999"),
    ("FLEET_IDEMPOTENCY_TTL_H", "-inf"),
    ("FLEET_TWIN_STALE_AFTER_S", "nan"),
    ("FLEET_SITE_FANOUT_LEASE_S", "inf"),
    ("FLEET_COMMAND_RETRY_INTERVAL_S", "abc"),
])
def test_a_duration_no_clock_can_hold_is_a_validation_error_naming_its_variable(name: str, value: str) -> None:
    # When a duration variable holds a value no timedelta can hold
    with pytest.raises(ValidationError) as refused:
        Settings.from_env({name: value})
    # Then start-up stops with pydantic's error naming the variable (not a bare OverflowError)
    assert name.removeprefix("FLEET_").lower() in str(refused.value)


@pytest.mark.parametrize("section", SECTIONS)
def test_a_variable_named_like_a_section_is_ignored_as_before(section: str) -> None:
    # FLEET_JOBS, FLEET_HTTP, ... were never settings: an unrelated one must not stop the stage
    s = Settings.from_env({f"FLEET_{section.upper()}": "anything", "FLEET_JOB_TTL_MAX_H": "48"})
    assert s.jobs.ttl_max_h == 48 and s == Settings.from_env({"FLEET_JOB_TTL_MAX_H": "48"})


def test_secrets_are_not_in_the_repr() -> None:
    s = Settings.from_env({"FLEET_JWT_SECRET": "jwt-s3cret", "FLEET_MQTT_PASSWORD": "mqtt-s3cret",
                           "FLEET_BROKER_AUTH_SECRET": "broker-s3cret"})
    assert s.jwt_secret == "jwt-s3cret" and s.mqtt_password == "mqtt-s3cret"
    shown = repr(s) + str(s)
    assert not any(secret in shown for secret in ("jwt-s3cret", "mqtt-s3cret", "broker-s3cret")), shown


def test_a_bad_value_beside_a_secret_does_not_show_the_secret() -> None:
    with pytest.raises(ValidationError) as refused:
        Settings.from_env({"FLEET_JWT_SECRET": "jwt-s3cret", "FLEET_MAX_BODY_BYTES": "12", "FLEET_MQTT_PORT": "x"})
    assert "max_body_bytes" in str(refused.value) and "jwt-s3cret" not in str(refused.value)
