"""The `localstack` stage of .chalice/config.json: the one configuration of both LocalStack set-ups.

The compose file (Docker) and `make localstack` (on the host) deploy the same packaged
template of this stage; they differ only in where the functions find the broker, which
the deploy passes as the template's MqttHost and MqttPort parameters.
"""
from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STAGE = "localstack"
CONFIG = ROOT / "infra" / "localstack" / "deploy.json"


def stage_variables() -> dict[str, str]:
    """The stage's environment variables (the app-wide ones, then the stage's own)."""
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    variables: dict[str, str] = {**config.get("environment_variables", {}),
                                 **config["stages"][STAGE]["environment_variables"]}
    return variables
