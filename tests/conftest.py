"""Session fixtures: a DynamoDB engine and a real Mosquitto, on free loopback ports.

The engine is DynamoDB Local (in memory), started here, or moto's server with
LOCAL_DDB=moto. Unit tests use moto's in-process `mock_aws` instead.
"""
from __future__ import annotations

import os
import secrets
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from chalice.test import Client

from chalicelib.container import container, rebuild
from chalicelib.core.identity import mqtt_username
from chalicelib.core.storage import tables
from chalicelib.features import all_models
from infra.local import broker_tls
from infra.local.api_server import install_gateway_fixes, make_server
from infra.local.broker import Broker, ServiceUser, service_users
from infra.local.broker_tls import TlsFiles
from infra.local.credential_sync import CredentialSync
from infra.local.ddb_server import database_child, engine_from_env, wait_ready
from infra.local.processes import free_port
from infra.local.s3_server import S3Server
from tests.support import Api, MqttPeer, mqtt_peer, restore_environ


@dataclass
class Stack:
    """What the integration tests talk to."""

    ddb_endpoint: str
    broker: Broker
    sync: CredentialSync
    users: dict[str, ServiceUser]

    def peer(self, username: str, password: str, client_id: str = "", clean: bool = True,
             wait: bool = True) -> MqttPeer:
        return mqtt_peer(self.broker.host, self.broker.port_for(username), username, password, client_id, clean, wait)

    def observer(self) -> MqttPeer:
        u = self.users["observer"]
        return self.peer(u.username, u.password)

    def device_peer(self, tenant_id: str, device_id: str, token: str, clean: bool = True,
                    wait: bool = True) -> MqttPeer:
        """A device logged in as itself: username (and so client id) `{tenant_id}.{device_id}`."""
        self.sync.sync_once()
        return self.peer(mqtt_username(tenant_id, device_id), token, clean=clean, wait=wait)


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    work: Path = tmp_path_factory.mktemp("stack")
    ddb_port = free_port()
    ddb = database_child(engine_from_env(), ddb_port, None, work / "dynamodb.log").start()
    users = service_users()
    ca_dir = work / "ca"
    tls, authority = broker_tls.prepare(ca_dir, work / "broker", free_port(), free_port(), free_port())
    broker = Broker(work / "broker", free_port(), list(users.values()), tls=tls)
    try:
        wait_ready(f"http://127.0.0.1:{ddb_port}", ddb)
        broker.start()
    except BaseException:
        broker.stop()
        ddb.stop()
        raise
    env = {
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
        "FLEET_STAGE": "test",
        "FLEET_TABLE_PREFIX": f"test-{uuid.uuid4().hex[:8]}",
        "FLEET_DDB_ENDPOINT": f"http://127.0.0.1:{ddb_port}",
        "FLEET_JWT_SECRET": secrets.token_urlsafe(32),
        "FLEET_MQTT_BACKEND": "paho",
        "FLEET_MQTT_HOST": broker.host,
        "FLEET_MQTT_PORT": str(broker.service_port),
        "FLEET_MQTT_USERNAME": users["cloud"].username,
        "FLEET_MQTT_PASSWORD": users["cloud"].password,
        "FLEET_MQTT_PUBLISH_TIMEOUT_S": "1.0",
        "FLEET_CERTIFICATE_CA_DIR": str(ca_dir),
    }
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    rebuild()
    tables.create_tables(container().settings, all_models())
    sync = CredentialSync(container().device_repository, broker,
                          tls=broker_tls.TlsAccess(authority, tls, broker.tls_acl_path))
    sync.sync_once(force=True)
    install_gateway_fixes()
    try:
        yield Stack(env["FLEET_DDB_ENDPOINT"], broker, sync, users)
    finally:
        broker.stop()
        ddb.stop()
        restore_environ(saved)
        rebuild()


@pytest.fixture(scope="module")
def api_url(stack: Stack) -> Iterator[str]:
    """The app over real HTTP (chalice local), as simulated devices reach it."""
    port = free_port()
    server = make_server("127.0.0.1", port)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()


@pytest.fixture(scope="session")
def chalice_client(stack: Stack) -> Iterator[Client]:
    from app import app

    with Client(app) as client:
        yield client


def _tenant() -> str:
    return f"t-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def api(chalice_client: Client) -> Api:
    """An operator of a fresh tenant."""
    return Api(chalice_client, _tenant())


@pytest.fixture
def other_api(chalice_client: Client) -> Api:
    """An operator of a second, unrelated tenant."""
    return Api(chalice_client, _tenant())


# Process-level tests are marked `slow` here, by what they stand on, rather than one by one: a test
# in these folders, or one using one of these fixtures (the app over real HTTP, an MQTT bridge, a
# whole `make run` stack, a packaged build) or in one of these modules (broker sessions), is slow.
# `make test` still runs them; `-m "not slow"` is the quick loop.
PROCESS_FOLDERS = frozenset({"browser", "cli"})
PROCESS_FIXTURES = frozenset({"api_url", "bridge", "bridge_settings", "aws_bridge", "running_stack", "demo_stack",
                              "local_stack", "console_stack", "packaged", "local_url"})
PROCESS_MODULES = frozenset({"test_broker_acl.py", "test_disabled_session.py", "test_broker_tls.py"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if (PROCESS_FOLDERS & set(item.path.parts) or PROCESS_FIXTURES & fixtures
                or item.path.name in PROCESS_MODULES):
            item.add_marker(pytest.mark.slow)


@dataclass
class S3:
    """The S3 endpoint of the firmware tests (SeaweedFS, as in `make run`) and the stage's bucket."""

    endpoint: str
    bucket: str
    server: S3Server


@pytest.fixture(scope="session")
def s3(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3]:
    """A real S3 (it checks presigned URLs) with the firmware bucket; the stage is rebuilt to use it."""
    work: Path = tmp_path_factory.mktemp("s3")
    server = S3Server(work / "data", work / "s3.log", os.environ["AWS_ACCESS_KEY_ID"],
                      os.environ["AWS_SECRET_ACCESS_KEY"]).start()
    bucket = f"fleet-test-firmware-{uuid.uuid4().hex[:8]}"
    env = {"FLEET_FIRMWARE_BUCKET": bucket, "FLEET_S3_ENDPOINT": server.endpoint}
    saved = {k: os.environ.get(k) for k in env}
    try:
        server.wait_ready()
        server.ensure_bucket(bucket)
        os.environ.update(env)
        rebuild()
        yield S3(server.endpoint, bucket, server)
    finally:
        server.stop()
        restore_environ(saved)
        rebuild()


@pytest.fixture
def tls(stack: Stack) -> TlsFiles:
    """The session broker's TLS files and ports (every listener on)."""
    assert stack.broker.tls is not None
    return stack.broker.tls


@pytest.fixture
def peers() -> Iterator[list[MqttPeer]]:
    """MQTT clients a test opened, closed when it ends."""
    made: list[MqttPeer] = []
    yield made
    for peer in made:
        peer.client.disconnect()
        peer.client.loop_stop()
