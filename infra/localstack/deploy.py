"""Deploy the packaged `localstack` stage into LocalStack, never into AWS: endpoints come from localstack-client.

    make deploy-local          # make package (this stage), then this; prints the API URL
    make deploy-local-down     # python -m infra.localstack.deploy --delete

With `make localstack` running, its `localstack.json` says where LocalStack and the broker
listen (LOCALSTACK_HOST and the MqttHost/MqttPort parameters follow it). Without it (the
compose file), LOCALSTACK_HOST defaults to localhost:4566 and the functions find the broker
as `mosquitto` on the compose network, the stage's defaults. Credentials are LocalStack's
dummy ones, so a mistake cannot reach an account.
"""
from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from botocore.exceptions import EndpointConnectionError

from infra.aws.deploy import Target, delete, deploy
from infra.localstack.stage import ROOT, STAGE, stage_variables

STATE = Path(os.environ.get("LOCALSTACK_DIR", str(ROOT / ".devstack" / "localstack"))) / "localstack.json"
PACKAGE_DIR = ROOT / "build" / "package-localstack"
REGION = "us-east-1"
STACK_NAME = f"fleet-{STAGE}"
BUCKET = f"fleet-{STAGE}-artifacts"
DUMMY_CREDENTIALS = {"aws_access_key_id": "test", "aws_secret_access_key": "test"}


def host_state(path: Path = STATE) -> dict[str, Any] | None:
    """What `make localstack` wrote about itself, or None (compose, or not running)."""
    try:
        state: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return state


def endpoint(state: dict[str, Any] | None) -> str:
    """LocalStack's endpoint from localstack-client (LOCALSTACK_HOST), refusing anything on AWS."""
    from localstack_client.config import get_service_endpoint

    host = None
    if state is not None and not os.environ.get("LOCALSTACK_HOST"):
        host = urlparse(str(state["endpoint"])).netloc
    found = get_service_endpoint("cloudformation", localstack_host=host)
    if not found:
        raise SystemExit("localstack-client returned no endpoint")
    name = urlparse(found).hostname or ""
    if name.endswith("amazonaws.com") or name.endswith("amazonaws.com.cn"):
        raise SystemExit(f"refusing to deploy the localstack stage to {found}")
    return found.rstrip("/")


def target(state: dict[str, Any] | None) -> Target:
    """The stack in LocalStack, with dummy credentials."""
    return Target(STACK_NAME, BUCKET, REGION, endpoint(state), dict(DUMMY_CREDENTIALS))


def parameters(state: dict[str, Any] | None) -> dict[str, str]:
    """The broker as the functions reach it: on the host, its service listener on loopback."""
    if state is None:
        return {}
    mqtt = state["mqtt"]
    assert isinstance(mqtt, dict)
    return {"MqttHost": str(mqtt["host"]), "MqttPort": str(mqtt["service_port"])}


def api_url(target: Target, outputs: dict[str, str]) -> str:
    """The REST API through LocalStack's gateway (a path form that needs no DNS)."""
    return f"{target.endpoint}/restapis/{outputs['RestAPIId']}/api/_user_request_"


def delete_tables(target: Target) -> list[str]:
    """The stage's tables, which the stack keeps (DeletionPolicy Retain): a local teardown forgets them too."""
    prefix = stage_variables()["FLEET_TABLE_PREFIX"] + "-"
    ddb = target.client("dynamodb")
    names = [n for page in ddb.get_paginator("list_tables").paginate() for n in page["TableNames"]
             if n.startswith(prefix)]
    for name in names:
        ddb.delete_table(TableName=name)
    return names


def operator_token(tenant_id: str) -> str:
    """An operator token of the stage (signed with its HS256 secret, as `make token` does for `make run`)."""
    from chalicelib.core.auth.operator import issue_local_token
    from chalicelib.core.config import Settings

    return issue_local_token(Settings(jwt_secret=stage_variables()["FLEET_JWT_SECRET"]), tenant_id)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--package-dir", type=Path, default=PACKAGE_DIR)
    parser.add_argument("--delete", action="store_true", help="delete the stack and its retained tables")
    parser.add_argument("--token", metavar="TENANT", help="print an operator token of TENANT and exit")
    args = parser.parse_args()
    if args.token:
        print(operator_token(args.token))
        return
    state = host_state()
    where = target(state)
    try:
        if args.delete:
            print(f"deleting stack {STACK_NAME} from {where.endpoint}: {delete(where)}")
            print(f"deleted {len(delete_tables(where))} tables")
            return
        print(f"deploying stage {STAGE} to {where.endpoint} (stack {STACK_NAME})", flush=True)
        outputs = deploy(where, args.package_dir, parameters(state))
    except EndpointConnectionError:
        raise SystemExit(f"nothing answers at {where.endpoint}: start `make localstack` (or the compose file) "
                         "first") from None
    print(f"API: {api_url(where, outputs)}")


if __name__ == "__main__":
    main()
