"""`make reset`: forget the local stack's data, database and broker state together."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from infra.local.stack import StackOptions, reset_data


def main() -> None:
    workdir = StackOptions.from_env().workdir
    state = workdir / "stack.json"
    if state.exists():
        pid = json.loads(state.read_text()).get("pid")
        if isinstance(pid, int) and _alive(pid):
            sys.exit(f"the local stack is running (pid {pid}): stop it first, or start it with `make run FRESH=1`")
    reset_data(workdir)
    print(f"local stack data cleared under {Path(os.path.relpath(workdir))}")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


if __name__ == "__main__":
    main()
