"""The README's "Calling the API" blocks, run as written against a fresh `make run` stack.

Every ```bash block of that section runs in one bash (`set -euo pipefail`, so an undefined
variable or an id missing from an answer stops it), in order, from the repository root. A
`curl` shim only adds a status line on stderr; the answers must all be 2xx except the
error examples the README shows on purpose.
"""
from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator

import pytest

from tests.stack_support import ROOT, RunningStack, stack_process

SHIM = "curl() { command curl -w '%{stderr}HTTP %{http_code} %{method} %{url_effective}\\n' \"$@\"; }\n"
# The README's deliberate error examples: (status, method, path).
EXPECTED_ERRORS = [
    (400, "POST", "/customer/devices"),
    (401, "GET", "/customer/devices"),
    (404, "GET", "/customer/nothing-here"),
    (400, "POST", "/customer/devices/sim-1/commands"),
]


def walkthrough_blocks(readme: str) -> list[str]:
    """The bash blocks between '## Calling the API' and the next second-level heading."""
    section = readme.split("\n## Calling the API\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.*?)```", section, flags=re.S)


@pytest.fixture(scope="module")
def demo_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    with stack_process(tmp_path_factory.mktemp("readme-stack")) as stack:
        yield stack


def test_readme_has_the_walkthrough_blocks() -> None:
    blocks = walkthrough_blocks((ROOT / "README.md").read_text())
    assert len(blocks) >= 8
    assert all("tok_..." not in b and "<64 hex>" not in b for b in blocks)


@pytest.mark.slow
def test_readme_walkthrough_runs_against_a_fresh_stack(demo_stack: RunningStack) -> None:
    env, workdir = demo_stack.env, demo_stack.workdir
    blocks = walkthrough_blocks((ROOT / "README.md").read_text())
    script = "set -euo pipefail\n" + SHIM + "\n".join(blocks)
    proc = subprocess.run(["bash", "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
                          stdin=subprocess.DEVNULL)
    (workdir / "walkthrough.out").write_text(proc.stdout + "\n---\n" + proc.stderr)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    calls = [line.split(" ", 3) for line in proc.stderr.splitlines() if line.startswith("HTTP ")]
    assert len(calls) >= 50
    errors = [(int(code), method, re.sub(r"^https?://[^/]+|\?.*$", "", url))
              for _, code, method, url in calls if not code.startswith("2")]
    assert errors == EXPECTED_ERRORS, proc.stderr[-3000:]
    assert '"error":"invalid_input"' in proc.stdout and '"field":"device_id"' in proc.stdout
    assert "COMPLETED" in proc.stdout and "missed" in proc.stdout  # the two back-dated expiries
