"""Cold start: `import app` beside a minimal Chalice app, its heaviest imports, first vs warm GetItem per model.

Every function of the package (API, authorizer, device messages, schedules) imports
`app.py`, so its import is each Lambda's cold start before the first line of a handler.
Each figure comes from fresh interpreters. "As packaged" hides awscrt: botocore imports
it when installed (here by the AWS IoT Device SDK of the tests), `chalice package` does
not ship it.
"""
from __future__ import annotations

import json
import re
import statistics
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from bench.harness import BenchContext, Table, pick

ROOT = Path(__file__).resolve().parents[1]
RUNS = pick(21, 9)
PROBES = pick(5, 3)
PACKAGED_HIDES = ("awscrt",)
MINIMAL_APP = '''from chalice import Chalice

app = Chalice(app_name="minimal")


@app.route("/")
def index():
    return {"hello": "world"}
'''
IMPORT_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)")


def _script(hide: tuple[str, ...], body: str) -> str:
    # A None entry in sys.modules makes `import name` fail as if it were not installed.
    return f"import sys\nfor m in {hide!r}:\n    sys.modules[m] = None\n{body}"


def _import_ms(cwd: Path, hide: tuple[str, ...]) -> tuple[float, float]:
    """Wall and CPU milliseconds of `import app` (CPU time is steadier on a shared machine)."""
    body = ("import time\nt, c = time.perf_counter(), time.process_time()\nimport app\n"
            "print((time.perf_counter() - t) * 1000, (time.process_time() - c) * 1000)")
    out = subprocess.run([sys.executable, "-c", _script(hide, body)], cwd=cwd, capture_output=True, text=True,
                         check=True)
    wall, cpu = out.stdout.split()
    return float(wall), float(cpu)


def _p90(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=10, method="inclusive")[8]


def _import_table(minimal_dir: Path) -> tuple[Table, float]:
    cases = [("minimal Chalice app (one route)", minimal_dir, ()),
             ("app.py as packaged (no awscrt)", ROOT, PACKAGED_HIDES),
             ("app.py in the dev venv", ROOT, ())]
    wall: dict[str, list[float]] = {label: [] for label, _, _ in cases}
    cpu: dict[str, list[float]] = {label: [] for label, _, _ in cases}
    for _ in range(RUNS):  # interleaved, so load on the machine hits every case alike
        for label, cwd, hide in cases:
            w, c = _import_ms(cwd, hide)
            wall[label].append(w)
            cpu[label].append(c)
    base_wall, base_cpu = (statistics.median(d[cases[0][0]]) for d in (wall, cpu))
    rows = [[label, RUNS, statistics.median(wall[label]), _p90(wall[label]),
             f"{statistics.median(wall[label]) / base_wall:.1f}x", statistics.median(cpu[label]),
             f"{statistics.median(cpu[label]) / base_cpu:.1f}x"] for label, _, _ in cases]
    return Table(f"`import app` in a fresh interpreter ({RUNS} runs each, interleaved)",
                 ["module", "runs", "median ms", "p90 ms", "vs minimal", "median CPU ms", "CPU vs minimal"], rows,
                 ["goal: app.py as packaged within 6x the minimal app"]), base_cpu


# What a function's first call loads after `import app`, step by step (each row includes the ones above).
FIRST_CALL = [
    ("import app (every function)", "import app"),
    ("+ settings (every function's first call)", "from chalicelib.core.config import get_settings\nget_settings()"),
    ("+ one request model, parsed (POST a command)",
     "from chalicelib.commands.schemas import CreateCommand\nCreateCommand.model_validate({'command_type': 'reboot'})"),
    ("+ every feature's request and record models",
     "\n".join(f"import chalicelib.{name}.schemas" for name in
               ("commands", "commands.batches", "devices", "jobs", "sites", "twin", "broker_auth", "ingress"))),
]


def _steps_ms(statements: list[str]) -> list[float]:
    """CPU milliseconds after each statement, from one fresh interpreter."""
    lines = ["import time", "c = time.process_time()"]
    for statement in statements:
        lines += [statement, "print((time.process_time() - c) * 1000)"]
    out = subprocess.run([sys.executable, "-c", _script(PACKAGED_HIDES, "\n".join(lines))], cwd=ROOT,
                         capture_output=True, text=True, check=True)
    return [float(v) for v in out.stdout.split()]


def _first_call_table(minimal_cpu: float) -> Table:
    samples = [_steps_ms([statement for _, statement in FIRST_CALL]) for _ in range(RUNS)]
    rows = []
    for i, (label, _) in enumerate(FIRST_CALL):
        cpu = statistics.median(run[i] for run in samples)
        rows.append([label, RUNS, cpu, f"{cpu / minimal_cpu:.1f}x"])
    return Table(f"What a function loads by its first call, after `import app` (CPU, {RUNS} fresh interpreters)",
                 ["step (cumulative)", "runs", "median CPU ms", "vs minimal app's import"], rows,
                 ["request and record models (pydantic) load in the view that parses them; the last row is "
                  "what every function's import loaded before they did"])


def _offenders_table() -> Table:
    out = subprocess.run([sys.executable, "-X", "importtime", "-c", _script(PACKAGED_HIDES, "import app")],
                         cwd=ROOT, capture_output=True, text=True, check=True)
    by_package: Counter[str] = Counter()
    for line in out.stderr.splitlines():
        match = IMPORT_LINE.match(line)
        if match:
            by_package[match.group(4).split(".")[0]] += int(match.group(1))
    total = sum(by_package.values())
    rows = [[name, us / 1000, f"{100 * us / total:.0f}%"] for name, us in by_package.most_common(12)]
    return Table("Top packages by own import time (`python -X importtime`, one run, as packaged)",
                 ["package", "ms", "share"], rows, [f"all imports: {total / 1000:.1f} ms"])


def _probe() -> dict[str, Any]:
    out = subprocess.run([sys.executable, "-m", "bench.cold_probe"], cwd=ROOT, capture_output=True, text=True,
                         check=True)
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def _first_request_table() -> Table:
    runs = [_probe() for _ in range(PROBES)]
    rows = []
    for i, first_row in enumerate(runs[0]["models"]):
        first = statistics.median(r["models"][i]["first_ms"] for r in runs)
        warm = statistics.median(r["models"][i]["warm_ms"] for r in runs)
        rows.append([first_row["model"], first, warm, f"{first / warm:.1f}x"])
    later = [float(r[1]) / float(r[2]) for r in rows[1:]]
    return Table(f"First vs warm GetItem per model in a fresh process (median of {PROBES} processes)",
                 ["model (in order of first use)", "first ms", "warm ms", "first/warm"], rows,
                 [f"the first model's first request builds the process's botocore session and client; "
                  f"the other models' first requests: median {statistics.median(later):.1f}x warm, "
                  f"worst {max(later):.1f}x (goal: within 2x)"])


def run(ctx: BenchContext) -> list[Table]:
    with tempfile.TemporaryDirectory(prefix="minimal-chalice-") as tmp:
        minimal_dir = Path(tmp)
        (minimal_dir / "app.py").write_text(MINIMAL_APP)
        imports, minimal_cpu = _import_table(minimal_dir)
    return [imports, _first_call_table(minimal_cpu), _offenders_table(), _first_request_table()]
