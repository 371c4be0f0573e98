"""What a Lambda's cold start does not pay for: heavy imports it does not use, a client per table."""
from __future__ import annotations

import subprocess
import sys

import pytest
from pynamodb.connection import Connection

from chalicelib.core.storage import session


def _imported_after(statement: str, modules: list[str]) -> dict[str, bool]:
    code = f"import sys\n{statement}\nprint(' '.join(str(m in sys.modules) for m in {modules!r}))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return dict(zip(modules, (word == "True" for word in out.split()), strict=True))


def test_loading_settings_does_not_import_pydantic_settings() -> None:
    loaded = _imported_after("import chalicelib.core.config as c; c.Settings()", ["pydantic_settings"])
    assert loaded == {"pydantic_settings": False}


def test_importing_the_app_loads_no_store_sdk_or_token_library() -> None:
    # Every function imports app.py: what it loads there, each cold start pays for (pydantic included:
    # request and record models load in the view that parses them, settings on a function's first call)
    # ulid reads its version through importlib.metadata: ids are made where records are created.
    heavy = ["pynamodb", "botocore", "boto3", "jwt", "cryptography", "croniter", "paho", "pydantic",
             "pydantic_settings", "ulid", "importlib.metadata", "chalicelib.apidocs.builder"]
    loaded = _imported_after("import app", heavy)
    assert [name for name, was in loaded.items() if was] == []


def test_the_operator_principal_does_not_import_jwt_or_cryptography() -> None:
    loaded = _imported_after("from chalicelib.core.auth.operator import OperatorPrincipal",
                             ["jwt", "cryptography"])
    assert loaded == {"jwt": False, "cryptography": False}


def _connection(host: str) -> Connection:
    return Connection(region="us-east-1", host=host, max_retry_attempts=3, max_pool_connections=32)


@pytest.fixture
def shared(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "local")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "local")
    session.install()
    session.reset()


@pytest.mark.usefixtures("shared")
def test_connections_to_one_endpoint_share_one_client() -> None:
    # Given one connection per table, as PynamoDB builds them
    connections = [_connection("http://127.0.0.1:9") for _ in range(11)]
    # Then they all send through one botocore client (one session, one connection pool)
    assert len({id(c.client) for c in connections}) == 1


@pytest.mark.usefixtures("shared")
def test_a_connection_with_other_options_gets_its_own_client() -> None:
    assert _connection("http://127.0.0.1:9").client is not _connection("http://127.0.0.1:8").client


@pytest.mark.usefixtures("shared")
def test_after_a_reset_new_connections_get_a_new_client() -> None:
    first = _connection("http://127.0.0.1:9").client
    session.reset()
    second = _connection("http://127.0.0.1:9").client
    assert second is not first
    assert second.meta.endpoint_url == "http://127.0.0.1:9"
