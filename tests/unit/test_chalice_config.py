"""`.chalice/config.json` stays in step with the settings the code reads."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from chalicelib.core.config import Settings

CONFIG = json.loads((Path(__file__).resolve().parents[2] / ".chalice" / "config.json").read_text())
SETTING_NAMES = Settings.env_names()


def _stage_env(stage: str) -> dict[str, Any]:
    return {**CONFIG["environment_variables"], **CONFIG["stages"][stage]["environment_variables"]}


def _stage_settings(stage: str) -> Settings:
    # Only the stage's variables: from_env reads the mapping given, not the process environment.
    return Settings.from_env({name: str(value) for name, value in _stage_env(stage).items()})


@pytest.mark.parametrize("stage", sorted(CONFIG["stages"]))
def test_every_variable_of_a_stage_names_a_setting(stage: str) -> None:
    unknown = sorted(set(_stage_env(stage)) - SETTING_NAMES)
    assert unknown == [], f"{stage}: not read by chalicelib/core/config.py: {unknown}"


@pytest.mark.parametrize("stage", sorted(CONFIG["stages"]))
def test_every_stage_validates_as_settings(stage: str) -> None:
    settings = _stage_settings(stage)
    assert settings.stage == stage
    assert settings.table_prefix.startswith("fleet-")


@pytest.mark.parametrize("stage", sorted(s for s in CONFIG["stages"] if CONFIG["stages"][s].get("lambda_timeout")))
def test_every_lease_outlasts_the_longest_function_run(stage: str) -> None:
    # A walk (site fan-out, group-command batch, job creation) holds a lease while one function
    # works on it; a run can't outlive its function's timeout, so a lease longer than every
    # timeout means a stalled run is gone before the schedule hands its walk to another.
    settings = _stage_settings(stage)
    stage_config = CONFIG["stages"][stage]
    timeouts = [stage_config["lambda_timeout"]] + [
        f["lambda_timeout"] for f in stage_config.get("lambda_functions", {}).values() if f.get("lambda_timeout")]
    leases = {"sites.lease": settings.sites.lease.total_seconds(),
              "command_batches.lease": settings.command_batches.lease.total_seconds(),
              "device_imports.lease": settings.device_imports.lease.total_seconds(),
              "jobs.create_lease_s": settings.jobs.create_lease_s}
    assert {name: s for name, s in leases.items() if s <= max(timeouts)} == {}
