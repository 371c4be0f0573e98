"""`make package`: one CloudFormation (SAM) template and the deployment zip in build/package/.

    make package            # stage, region and parameter defaults from infra/aws/deploy.json
    aws cloudformation package/deploy ...   # see the README, "Deploy to AWS"
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

from infra.aws.iam import ROOT, render, stage_prefix
from infra.aws.template import merge_template

DEPLOY_CONFIG = ROOT / "infra" / "aws" / "deploy.json"
# Strings that mean somebody forgot to fill something in.
PLACEHOLDERS = re.compile(r"\b(REGION|ACCOUNT|POOL_ID|set-by-make-run|change-me)\b")


def load_config(path: Path = DEPLOY_CONFIG) -> dict[str, object]:
    """Stage, region and parameter defaults of the deployment."""
    config: dict[str, object] = json.loads(path.read_text())
    return config


def package(out: Path, config: dict[str, object]) -> Path:
    """Write merge.json, run `chalice package --merge-template`, check the result; returns sam.json."""
    stage = str(config["stage"])
    stale = [str(p.relative_to(ROOT)) for p, text in render(stage).items() if not p.exists() or p.read_text() != text]
    if stale:
        raise SystemExit(f"policy files are stale, run `python -m infra.aws.iam --write`: {stale}")
    out.mkdir(parents=True, exist_ok=True)
    merge = out / "merge.json"
    params = config.get("parameters") or {}
    assert isinstance(params, dict)
    merge.write_text(json.dumps(merge_template(stage, stage_prefix(stage), params), indent=2))
    env = {**os.environ, "AWS_DEFAULT_REGION": str(config["region"])}
    chalice = Path(sys.executable).with_name("chalice")
    subprocess.run([str(chalice), "package", "--stage", stage, "--merge-template", str(merge), str(out)],
                   cwd=ROOT, env=env, check=True)
    sam = out / "sam.json"
    found = sorted(set(PLACEHOLDERS.findall(sam.read_text())))
    if found:
        raise SystemExit(f"{sam}: placeholders left: {found}")
    return sam


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "package")
    parser.add_argument("--config", type=Path, default=DEPLOY_CONFIG)
    args = parser.parse_args()
    sam = package(args.out, load_config(args.config))
    template = json.loads(sam.read_text())
    kinds: dict[str, int] = {}
    for resource in template["Resources"].values():
        kinds[resource["Type"]] = kinds.get(resource["Type"], 0) + 1
    print(f"{sam.relative_to(ROOT) if sam.is_relative_to(ROOT) else sam}:")
    for kind, count in sorted(kinds.items()):
        print(f"  {count:3d}  {kind}")


if __name__ == "__main__":
    main()
