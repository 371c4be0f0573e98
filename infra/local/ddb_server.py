"""The local DynamoDB engines: DynamoDB Local (default, on disk) or moto's server (in memory).

`database_child` builds the supervised process of either; `main` is moto's server.

moto's server runs with request logging quieted (it costs throughput).

Requests are applied one at a time. DynamoDB applies each conditional write atomically,
but moto checks a condition and then mutates the item in separate Python steps, so two
threads can both pass the same condition (measured: about 1 in 30 ACK-vs-expiry races had
two winners). moto is bound by the GIL anyway, so serialising costs no throughput.
Transactions roll back per item instead of restoring whole-table copies (moto_patches).
"""
from __future__ import annotations

import argparse
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from infra.local import dynamodb_local
from infra.local.processes import Child, python_module

ENGINES = ("dynamodb-local", "moto")
DEFAULT_ENGINE = "dynamodb-local"


def engine_from_env(environ: dict[str, str] | None = None) -> str:
    """LOCAL_DDB: `dynamodb-local` (the default) or `moto`."""
    engine = (environ if environ is not None else os.environ).get("LOCAL_DDB") or DEFAULT_ENGINE
    if engine not in ENGINES:
        raise ValueError(f"LOCAL_DDB must be one of {', '.join(ENGINES)}, not {engine!r}")
    return engine


def database_child(engine: str, port: int, data_dir: Path | None, log_path: Path) -> Child:
    """The (not yet started) process of a local engine on loopback port `port`.

    data_dir keeps DynamoDB Local's data across restarts (None: in memory); moto always
    keeps it in memory.
    """
    if engine == "moto":
        return Child("dynamodb", python_module("infra.local.ddb_server", "--port", str(port)), log_path)
    return Child("dynamodb", dynamodb_local.command(port, data_dir), log_path)


def wait_ready(endpoint: str, child: Child | None = None, timeout_s: float = 120.0) -> None:
    """Block until the engine answers ListTables (DynamoDB Local opens its port before it serves)."""
    client = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1",
                          aws_access_key_id="local", aws_secret_access_key="local",
                          config=Config(connect_timeout=1, read_timeout=5, retries={"max_attempts": 1}))
    deadline = time.monotonic() + timeout_s
    while True:
        if child is not None and not child.alive():
            raise RuntimeError(f"the database exited before serving (see {child.log_path})")
        try:
            client.list_tables(Limit=1)
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def serialised(app: Callable[..., Iterable[bytes]]) -> Callable[..., list[bytes]]:
    """A WSGI wrapper that runs one request at a time, body included."""
    lock = threading.Lock()

    def wrapper(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        with lock:
            return list(app(environ, start_response))

    return wrapper


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import run_simple

    from infra.local.moto_patches import install_transaction_undo_log

    os.environ.setdefault("MOTO_PORT", str(args.port))
    install_transaction_undo_log()
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(args.host, args.port, serialised(app), threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
