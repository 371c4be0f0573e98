"""Settings come from `FLEET_*` variables the way pydantic-settings read them, without importing it."""
from __future__ import annotations

import pytest
from pydantic import ValidationError

from chalicelib.core.config import Settings


def test_a_variable_sets_its_field_coerced_from_text(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLEET_JOB_FANOUT_WORKERS", "7")
    monkeypatch.setenv("FLEET_AWS_IOT_TOPICS", "true")
    settings = Settings()
    assert settings.job_fanout_workers == 7
    assert settings.aws_iot_topics is True


def test_variable_names_are_matched_in_any_case(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("fleet_stage", "lowercase")
    assert Settings().stage == "lowercase"


def test_a_keyword_argument_wins_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLEET_JOB_FANOUT_WORKERS", "7")
    assert Settings(job_fanout_workers=3).job_fanout_workers == 3


def test_unknown_variables_are_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLEET_NOT_A_SETTING", "x")
    monkeypatch.delenv("FLEET_STAGE", raising=False)
    assert Settings().stage == "local"


def test_an_invalid_value_is_refused_naming_the_field(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLEET_JOB_FANOUT_WORKERS", "99")
    with pytest.raises(ValidationError, match="job_fanout_workers"):
        Settings()

