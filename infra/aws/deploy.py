"""Deploy a packaged template (`make package`'s sam.json and deployment.zip) as one CloudFormation stack.

    python -m infra.aws.deploy --package-dir build/package --bucket my-artifacts      # AWS
    python -m infra.aws.deploy ... --delete                                           # tear it down

What `aws cloudformation package` and `deploy` do, with boto3: the zip goes to S3 under its
content hash, the template's CodeUri points at it, the stack is created or updated and
waited for; a failure prints the events that say why. `infra.localstack.deploy` runs the
same steps against LocalStack.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import ClientError

from infra.aws.iam import ROOT

CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]
# CloudFormation takes a template body up to this size; a larger one goes through S3.
MAX_BODY = 51_200
DONE = {"CREATE_COMPLETE", "UPDATE_COMPLETE", "DELETE_COMPLETE"}
FAILED = {"CREATE_FAILED", "ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "UPDATE_ROLLBACK_COMPLETE",
          "UPDATE_ROLLBACK_FAILED", "DELETE_FAILED", "UPDATE_FAILED"}


@dataclass
class Target:
    """Where to deploy: region, stack, artifact bucket, and an endpoint (empty: AWS itself)."""

    stack_name: str
    bucket: str
    region: str
    endpoint: str = ""
    credentials: dict[str, str] = field(default_factory=dict)

    def client(self, service: str) -> Any:
        return boto3.client(service, region_name=self.region, endpoint_url=self.endpoint or None,
                            **self.credentials)

    def object_url(self, key: str) -> str:
        if self.endpoint:
            return f"{self.endpoint}/{self.bucket}/{key}"
        return f"https://{self.bucket}.s3.{self.region}.amazonaws.com/{key}"


def upload_code(target: Target, package_dir: Path, template: dict[str, Any]) -> dict[str, Any]:
    """Upload deployment.zip (once per content) and point every function's CodeUri at it."""
    s3 = target.client("s3")
    try:
        s3.head_bucket(Bucket=target.bucket)
    except ClientError:
        extra = {} if target.region == "us-east-1" else {
            "CreateBucketConfiguration": {"LocationConstraint": target.region}}
        s3.create_bucket(Bucket=target.bucket, **extra)
    data = (package_dir / "deployment.zip").read_bytes()
    key = f"{target.stack_name}/deployment-{hashlib.sha256(data).hexdigest()[:20]}.zip"
    s3.put_object(Bucket=target.bucket, Key=key, Body=data)
    for resource in template["Resources"].values():
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::Serverless::Function" and isinstance(props.get("CodeUri"), str):
            props["CodeUri"] = {"Bucket": target.bucket, "Key": key}
    return template


def _template_argument(target: Target, template: dict[str, Any]) -> dict[str, str]:
    body = json.dumps(template)
    if len(body) <= MAX_BODY:
        return {"TemplateBody": body}
    key = f"{target.stack_name}/template-{hashlib.sha256(body.encode()).hexdigest()[:20]}.json"
    target.client("s3").put_object(Bucket=target.bucket, Key=key, Body=body.encode())
    return {"TemplateURL": target.object_url(key)}


def _status(cfn: Any, stack_name: str) -> str | None:
    try:
        return str(cfn.describe_stacks(StackName=stack_name)["Stacks"][0]["StackStatus"])
    except ClientError as exc:
        if "does not exist" in str(exc):
            return None
        raise


def wait(cfn: Any, stack_name: str, timeout_s: float = 900.0, poll_s: float = 2.0) -> str:
    """Until the stack settles; its final status (None-safe: a deleted stack is DELETE_COMPLETE)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        status = _status(cfn, stack_name) or "DELETE_COMPLETE"
        if status in DONE or status in FAILED:
            return status
        time.sleep(poll_s)
    raise TimeoutError(f"stack {stack_name} did not settle in {timeout_s}s")


def failure_reasons(cfn: Any, stack_name: str) -> list[str]:
    """The events that say why a stack failed."""
    try:
        events = cfn.describe_stack_events(StackName=stack_name)["StackEvents"]
    except ClientError:
        return []
    return [f"{e['LogicalResourceId']} {e['ResourceStatus']}: {e.get('ResourceStatusReason', '')}"
            for e in events if e["ResourceStatus"].endswith("FAILED")]


def deploy(target: Target, package_dir: Path, parameters: dict[str, str]) -> dict[str, str]:
    """Create or update the stack from package_dir; returns its outputs."""
    template = upload_code(target, package_dir, json.loads((package_dir / "sam.json").read_text()))
    cfn = target.client("cloudformation")
    args: dict[str, Any] = {"StackName": target.stack_name, "Capabilities": CAPABILITIES,
                            "Parameters": [{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
                            **_template_argument(target, template)}
    status = _status(cfn, target.stack_name)
    if status == "ROLLBACK_COMPLETE":  # a failed first create cannot be updated
        cfn.delete_stack(StackName=target.stack_name)
        wait(cfn, target.stack_name)
        status = None
    if status is None:
        cfn.create_stack(**args)
    else:
        try:
            cfn.update_stack(**args)
        except ClientError as exc:
            if "No updates are to be performed" not in str(exc):
                raise
    final = wait(cfn, target.stack_name)
    if final not in DONE:
        reasons = "\n  ".join(failure_reasons(cfn, target.stack_name))
        raise SystemExit(f"stack {target.stack_name} ended {final}:\n  {reasons}")
    stack = cfn.describe_stacks(StackName=target.stack_name)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def delete(target: Target) -> str:
    """Delete the stack (tables are kept: DeletionPolicy Retain); its final status."""
    cfn = target.client("cloudformation")
    if _status(cfn, target.stack_name) is None:
        return "DELETE_COMPLETE"
    cfn.delete_stack(StackName=target.stack_name)
    return wait(cfn, target.stack_name)


def parse_parameters(pairs: list[str]) -> dict[str, str]:
    """KEY=VALUE arguments as a dict (a value may contain '=')."""
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise SystemExit(f"--parameter wants KEY=VALUE, got {pair!r}")
        out[key] = value
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--package-dir", type=Path, default=ROOT / "build" / "package")
    parser.add_argument("--stack-name", default="fleet-prod")
    parser.add_argument("--bucket", required=True, help="S3 bucket for the code (created when missing)")
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--parameter", action="append", default=[], help="KEY=VALUE, repeatable")
    parser.add_argument("--delete", action="store_true", help="delete the stack instead")
    args = parser.parse_args()
    target = Target(args.stack_name, args.bucket, args.region)
    if args.delete:
        print(delete(target))
        return
    outputs = deploy(target, args.package_dir, parse_parameters(args.parameter))
    json.dump(outputs, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
