"""Deploy the `localstack` stage to LocalStack, never to AWS: endpoints come from localstack-client.

    docker compose -f infra/localstack/docker-compose.yml up -d     # LocalStack, tables, broker, bridge
    .venv/bin/python -m infra.localstack.deploy                       # chalice deploy --stage localstack

LOCALSTACK_HOST (default localhost:4566) says where LocalStack listens, as for every
LocalStack tool. Credentials are LocalStack's dummy ones, so a mistake cannot reach an account.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

from localstack_client.config import get_service_endpoint

ROOT = Path(__file__).resolve().parents[2]
STAGE = "localstack"
REGION = "us-east-1"


def deploy_environment(base: dict[str, str]) -> dict[str, str]:
    """The environment `chalice deploy` runs with: every AWS client pointed at LocalStack."""
    endpoint = get_service_endpoint("lambda")
    if not endpoint:
        raise SystemExit("localstack-client returned no endpoint")
    host = urlparse(endpoint).hostname or ""
    if host.endswith("amazonaws.com"):
        raise SystemExit(f"refusing to deploy the localstack stage to {endpoint}")
    env = {k: v for k, v in base.items() if not k.startswith("AWS_")}
    return {**env, "AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_DEFAULT_REGION": REGION}


def command() -> list[str]:
    """The deploy command (the venv's chalice)."""
    return [str(Path(sys.executable).with_name("chalice")), "deploy", "--stage", STAGE]


def main() -> None:
    env = deploy_environment(dict(os.environ))
    print(f"deploying stage {STAGE} to {env['AWS_ENDPOINT_URL']}")
    sys.exit(subprocess.run(command(), cwd=ROOT, env=env).returncode)


if __name__ == "__main__":
    main()
