"""`make bench`: start a private local stack on free ports and run every bench_*.py."""
from __future__ import annotations

import argparse
import importlib
import logging
import os
import pkgutil
import tempfile
import time
from pathlib import Path

# The app's request and enrolment log lines (INFO) would bury the tables; set FLEET_LOG_LEVEL to see them.
os.environ.setdefault("FLEET_LOG_LEVEL", "WARNING")

from bench.harness import BenchContext
from infra.local.api_server import install_gateway_fixes
from infra.local.stack import LocalStack, StackOptions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("only", nargs="*", help="run only these benchmarks (e.g. registry commands)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, force=True)
    logging.getLogger("botocore").setLevel(logging.WARNING)
    install_gateway_fixes()
    names = sorted(m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)]) if m.name.startswith("bench_"))
    if args.only:
        names = [n for n in names if n.removeprefix("bench_") in args.only]
    with tempfile.TemporaryDirectory(prefix="fleet-bench-") as tmp:
        stack = LocalStack(StackOptions.ephemeral(Path(tmp))).start()
        try:
            stack.wait_healthy()
            ctx = BenchContext(stack)
            for name in names:
                module = importlib.import_module(f"bench.{name}")
                started = time.monotonic()
                print(f"\n## {name.removeprefix('bench_')}", flush=True)
                for table in module.run(ctx):
                    print(table.render(), flush=True)
                print(f"({time.monotonic() - started:.1f}s)", flush=True)
        finally:
            stack.stop()


if __name__ == "__main__":
    main()
