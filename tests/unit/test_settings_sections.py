"""Each feature's settings section is its policy, and reads the historical flat `FLEET_*` names."""
from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from chalicelib.core.config import Settings
from chalicelib.core.policies import CommandPolicy, JobLimits


def test_flat_variables_land_in_their_feature_sections_in_domain_units() -> None:
    # Given the variables a stage sets today
    env = {"FLEET_JOB_TTL_MAX_H": "48", "FLEET_COMMAND_TTL_DEFAULT_MIN": "5", "FLEET_TWIN_STALE_AFTER_S": "90",
           "FLEET_SITE_FANOUT_LEASE_S": "30", "FLEET_COMMAND_RETENTION_DAYS": "7", "FLEET_MAX_BODY_BYTES": "2048",
           "FLEET_DEVICE_AWAY_AFTER_S": "300"}
    # When the settings are read
    s = Settings.from_env(env)
    # Then each value is in its section, durations in the unit the name states
    assert s.jobs.ttl_max_h == 48
    assert s.commands.ttl_default == timedelta(minutes=5) and s.commands.retention == timedelta(days=7)
    assert s.twin.stale_after == timedelta(seconds=90)
    assert s.sites.lease == timedelta(seconds=30)
    assert s.http.max_body_bytes == 2048 and s.devices.away_after_s == 300


def test_schedule_shards_reach_every_sharded_section() -> None:
    s = Settings.from_env({"FLEET_SCHEDULE_SHARDS": "8"})
    assert s.schedule_shards == s.commands.shards == s.jobs.shards == s.sites.shards == 8


def test_variable_names_are_case_insensitive_and_foreign_ones_ignored() -> None:
    s = Settings.from_env({"fleet_stage": "dev", "FLEET_TOKEN": "not a setting", "HOME": "/"})
    assert s.stage == "dev"


def test_an_out_of_bounds_value_names_its_variable() -> None:
    with pytest.raises(ValidationError) as refused:
        Settings.from_env({"FLEET_JOB_CANCEL_BUDGET_S": "60"})
    assert "job_cancel_budget_s" in str(refused.value)


def test_jobs_notify_on_aws_topics_exactly_when_the_stage_serves_them() -> None:
    assert Settings.from_env({"FLEET_MQTT_BACKEND": "paho"}).jobs.aws_iot_topics is True
    assert Settings.from_env({"FLEET_MQTT_BACKEND": "iot-data"}).jobs.aws_iot_topics is False
    opted_out = Settings.from_env({"FLEET_MQTT_BACKEND": "paho", "FLEET_AWS_IOT_TOPICS": "false"})
    assert opted_out.jobs.aws_iot_topics is False


def test_a_policy_is_built_by_field_name_too() -> None:
    policy = CommandPolicy(max_attempts=2, retry_interval=timedelta(seconds=5))
    assert policy.max_attempts == 2 and policy.retry_interval == timedelta(seconds=5)
    assert JobLimits(ttl_max_h=12).ttl_max_h == 12


def test_env_names_are_every_variable_the_settings_read() -> None:
    names = Settings.env_names()
    assert {"FLEET_JOB_TTL_MAX_H", "FLEET_COMMAND_PUBLISH_MAX_ATTEMPTS", "FLEET_SITE_FANOUT_WORKERS",
            "FLEET_TWIN_WRITE_ATTEMPTS", "FLEET_MAX_BODY_BYTES", "FLEET_TABLE_PREFIX"} <= names
    assert not any(name.endswith(("_JOBS", "_COMMANDS", "_HTTP")) for name in names)
