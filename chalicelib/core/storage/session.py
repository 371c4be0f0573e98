"""One botocore session and one DynamoDB client for every PynamoDB connection in the process.

PynamoDB builds a `Connection` per model class, and each connection its own botocore
session and client on first use: loading the service model, resolving credentials and
opening a connection pool again for every table (90-110 ms on the first request that
touches each model). PynamoDB has no setting for this (pynamodb/PynamoDB#876, #1245), so
its module-level `get_session` is pointed at one shared session whose `create_client`
hands out one client per set of arguments. Clients are thread-safe; building one is not,
hence the lock. Binding the models again (tests, another stage) starts a new session.
"""
from __future__ import annotations

import threading
from typing import Any

from botocore.session import Session
from pynamodb.connection import base as pynamodb_base


class SharedClientSession(Session):
    """A botocore session that builds each distinct client once and then hands out that one."""

    def __init__(self) -> None:
        super().__init__()
        self._clients: dict[str, Any] = {}
        self._clients_lock = threading.Lock()

    def create_client(self, *args: Any, **kwargs: Any) -> Any:
        key = _client_key(args, kwargs)
        with self._clients_lock:
            client = self._clients.get(key)
            # Like PynamoDB, never keep handing out a client that resolved no credentials
            # (a flaky metadata service would poison it for the life of the process).
            if client is None or not _has_credentials(client):
                client = self._clients[key] = super().create_client(*args, **kwargs)
            return client


def _has_credentials(client: Any) -> bool:
    signer = getattr(client, "_request_signer", None)
    return signer is None or bool(getattr(signer, "_credentials", None))


def _client_key(args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    # botocore's Config has no equality; its options are plain attributes.
    config = kwargs.get("config")
    options = sorted(vars(config).items()) if config is not None else []
    rest = sorted((k, v) for k, v in kwargs.items() if k != "config")
    return repr((args, rest, options))


_state: dict[str, SharedClientSession] = {}
_state_lock = threading.Lock()


def shared_session() -> SharedClientSession:
    """The process's session for DynamoDB (built on first use)."""
    with _state_lock:
        session = _state.get("session")
        if session is None:
            session = _state["session"] = SharedClientSession()
        return session


def reset() -> None:
    """Forget the session and its clients: the next connection builds a new one."""
    with _state_lock:
        _state.pop("session", None)


def install() -> None:
    """Make every PynamoDB connection use the shared session (idempotent)."""
    pynamodb_base.get_session = shared_session
