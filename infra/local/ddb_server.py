"""moto's DynamoDB server with request logging quieted (it costs throughput).

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
from collections.abc import Callable, Iterable
from typing import Any


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
