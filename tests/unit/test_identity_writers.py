"""Property tests: no id, however odd, can add a line, a wildcard or a second entry to the broker's files."""
from __future__ import annotations

import re
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.core.auth.tokens import mosquitto_password_hash
from chalicelib.core.identity import is_service_username, mqtt_username, parse_mqtt_username
from chalicelib.core.ids import is_valid_id
from infra.local.broker import Broker, DeviceCredential, service_users

VALID_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
# Every character that means something in a topic, an ACL file or a password file, and then some.
HOSTILE = st.text(alphabet=st.sampled_from(list("ab1-_.:/+#$ \t\n\r\x00\u2028é*%")), min_size=0, max_size=12)
ANY_TEXT = st.one_of(HOSTILE, st.text(max_size=80), st.from_regex(VALID_ID, fullmatch=True))
HASH = mosquitto_password_hash("secret", salt=b"0123456789ab")
ID = r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}"
B64 = r"[A-Za-z0-9+/=]+"
PW_LINE = re.compile(rf"{ID}\.{ID}:\$7\$[0-9]+\${B64}\${B64}")
ACL_LINE = re.compile(rf"user {ID}\.{ID}|topic readwrite tenant/{ID}/device/{ID}/#"
                      rf"|topic readwrite \$aws/things/{ID}\.{ID}/#|")


@given(ANY_TEXT)
def test_an_id_is_valid_only_when_the_whole_string_is_in_the_alphabet(value: str) -> None:
    assert is_valid_id(value) == (VALID_ID.fullmatch(value) is not None)


@given(st.sampled_from(["demo", "a-b"]), st.sampled_from(["\n", "\r\n", "\x00", " ", ":", ".", "/", "+", "#"]))
def test_a_trailing_or_embedded_separator_is_never_an_id(base: str, odd: str) -> None:
    assert not is_valid_id(base + odd)
    assert not is_valid_id(odd + base)
    assert not is_valid_id(base + odd + base)


@given(st.from_regex(VALID_ID, fullmatch=True), st.from_regex(VALID_ID, fullmatch=True))
def test_a_device_username_names_its_tenant_and_never_a_service(tenant_id: str, device_id: str) -> None:
    name = mqtt_username(tenant_id, device_id)
    assert parse_mqtt_username(name) == (tenant_id, device_id)
    assert not is_service_username(name)


def test_service_names_are_never_device_names() -> None:
    for user in service_users().values():
        assert is_service_username(user.username)
        assert parse_mqtt_username(user.username) is None


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(ANY_TEXT, ANY_TEXT, st.one_of(st.just(HASH), st.text(max_size=30))), max_size=8))
def test_the_credential_writer_writes_one_checked_line_per_distinct_valid_device(
        creds: list[tuple[str, str, str]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        broker = Broker(Path(tmp), port=1, service_users=list(service_users().values()), service_port=2)
        devices = [DeviceCredential(t, d, h) for t, d, h in creds]
        refused = broker.write_credentials(devices)
        passwd = [line for line in (Path(tmp) / "passwd").read_text().splitlines() if line]
        acl = (Path(tmp) / "acl").read_text().splitlines()
    # Every line is exactly of the expected form: no injected line, wildcard or stray entry
    assert all(PW_LINE.fullmatch(line) for line in passwd), passwd
    assert all(ACL_LINE.fullmatch(line) for line in acl), acl
    # Each written username is unique, and a user's ACL names only its own subtree
    names = [line.split(":", 1)[0] for line in passwd]
    assert len(names) == len(set(names))
    for i, line in enumerate(acl):
        if line.startswith("user "):
            tenant_id, device_id = line[5:].split(".")
            assert acl[i + 1] == f"topic readwrite tenant/{tenant_id}/device/{device_id}/#"
    # What was written is what was valid and unambiguous; everything else was refused
    keys = [(d.tenant_id, d.device_id) for d in devices]
    expected = [d for d in devices if is_valid_id(d.tenant_id) and is_valid_id(d.device_id)
                and keys.count((d.tenant_id, d.device_id)) == 1 and d.password_hash == HASH]
    assert sorted(names) == sorted(mqtt_username(d.tenant_id, d.device_id) for d in expected)
    assert len(refused) == len(devices) - len(expected)


def test_the_credential_writer_refuses_a_username_claimed_twice(tmp_path: Path) -> None:
    broker = Broker(tmp_path, port=1, service_users=list(service_users().values()), service_port=2)
    refused = broker.write_credentials([DeviceCredential("t", "d", HASH), DeviceCredential("t", "d", HASH),
                                        DeviceCredential("t", "e", HASH)])
    assert len(refused) == 2
    assert [line.split(":")[0] for line in (tmp_path / "passwd").read_text().splitlines()] == ["t.e"]


def test_device_listener_forces_client_id_to_username_and_services_have_their_own(tmp_path: Path) -> None:
    broker = Broker(tmp_path, port=1883, service_users=list(service_users().values()), service_port=1884)
    conf = (tmp_path / "mosquitto.conf").read_text()
    device_section = conf.split("listener 1883")[1].split("listener 1884")[0]
    service_section = conf.split("listener 1884")[1]
    assert "per_listener_settings true" in conf
    assert "use_username_as_clientid true" in device_section
    assert "allow_anonymous false" in device_section and "allow_anonymous false" in service_section
    assert f"password_file {tmp_path / 'passwd'}" in device_section
    assert f"password_file {tmp_path / 'service_passwd'}" in service_section
    assert broker.port_for("svc-bridge") == 1884 and broker.port_for("demo.sim-1") == 1883


def test_the_broker_files_are_readable_by_their_owner_only(tmp_path: Path) -> None:
    broker = Broker(tmp_path, port=1, service_users=list(service_users().values()), service_port=2)
    broker.write_credentials([DeviceCredential("t", "d", HASH)])
    for name in ("passwd", "acl", "service_passwd", "service_acl"):
        assert (tmp_path / name).stat().st_mode & 0o077 == 0, name
