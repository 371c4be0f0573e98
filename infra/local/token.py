"""`make token TENANT=acme`: print an operator token for the running local stack."""
from __future__ import annotations

import os
import sys
from pathlib import Path

from chalicelib.core.auth.operator import issue_local_token
from chalicelib.core.config import Settings

STATE = Path(os.environ.get("STACK_DIR", Path(__file__).resolve().parents[2] / ".devstack")) / "secret"


def main() -> None:
    tenant = sys.argv[1] if len(sys.argv) > 1 else "demo"
    secret = os.environ.get("FLEET_JWT_SECRET") or (STATE.read_text().strip() if STATE.exists() else "")
    if not secret:
        sys.exit("no local stack secret: start it with `make run` first (or set FLEET_JWT_SECRET)")
    print(issue_local_token(Settings(jwt_secret=secret), tenant))


if __name__ == "__main__":
    main()
