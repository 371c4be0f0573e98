"""Where `fleet` takes its API URL and token from, and how it reads the API's errors."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from fleet_cli.client import resource
from fleet_cli.config import resolve
from fleet_cli.errors import ApiError, ConfigError

PROFILES = """
[default]
api_url = "https://default.example.com"
token = "default-token"

[staging]
api_url = "https://staging.example.com/"
token = "staging-token"
"""


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A project folder with a running local stack and a profile file."""
    (tmp_path / ".devstack").mkdir()
    (tmp_path / ".devstack" / "stack.json").write_text(json.dumps(
        {"api_url": "http://127.0.0.1:8000", "operator_token": "local-token"}))
    (tmp_path / "config.toml").write_text(PROFILES)
    (tmp_path / "src" / "deep").mkdir(parents=True)
    return tmp_path


def _env(home: Path, **extra: str) -> dict[str, str]:
    return {"FLEET_CONFIG": str(home / "config.toml"), **extra}


def test_flags_win_over_everything(home: Path) -> None:
    env = _env(home, FLEET_API_URL="https://env.example.com", FLEET_TOKEN="env-token")
    conn = resolve("https://flag.example.com", "flag-token", None, env=env, cwd=home)
    assert (conn.api_url, conn.token, conn.source) == ("https://flag.example.com", "flag-token", "flag")


def test_environment_wins_over_the_profile_file(home: Path) -> None:
    env = _env(home, FLEET_API_URL="https://env.example.com", FLEET_TOKEN="env-token")
    conn = resolve(None, None, None, env=env, cwd=home)
    assert (conn.api_url, conn.token) == ("https://env.example.com", "env-token")


def test_the_default_profile_wins_over_the_local_stack(home: Path) -> None:
    conn = resolve(None, None, None, env=_env(home), cwd=home)
    assert (conn.api_url, conn.token) == ("https://default.example.com", "default-token")


def test_a_named_profile_from_flag_or_environment(home: Path) -> None:
    assert resolve(None, None, "staging", env=_env(home), cwd=home).api_url == "https://staging.example.com"
    by_env = resolve(None, None, None, env=_env(home, FLEET_PROFILE="staging"), cwd=home)
    assert by_env.token == "staging-token"


def test_an_unknown_profile_is_an_error_naming_the_known_ones(home: Path) -> None:
    with pytest.raises(ConfigError, match=r"'prod' not found.*default, staging"):
        resolve(None, None, "prod", env=_env(home), cwd=home)


def test_without_profiles_the_local_stack_is_found_from_a_subfolder(home: Path) -> None:
    env = {"FLEET_CONFIG": str(home / "missing.toml")}
    conn = resolve(None, None, None, env=env, cwd=home / "src" / "deep")
    assert (conn.api_url, conn.token) == ("http://127.0.0.1:8000", "local-token")
    assert conn.source.startswith("local stack")


def test_stack_dir_names_the_stack_file(home: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    other = tmp_path_factory.mktemp("other-stack")
    (other / "stack.json").write_text(json.dumps({"api_url": "http://127.0.0.1:9", "operator_token": "t9"}))
    env = {"FLEET_CONFIG": str(home / "missing.toml"), "STACK_DIR": str(other)}
    assert resolve(None, None, None, env=env, cwd=home).token == "t9"


def test_the_local_token_is_never_sent_to_another_url(home: Path) -> None:
    env = {"FLEET_CONFIG": str(home / "missing.toml")}
    conn = resolve("https://prod.example.com", None, None, env=env, cwd=home)
    assert conn.api_url == "https://prod.example.com" and conn.token is None


def test_nothing_configured_is_an_error_that_says_how_to_configure(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="--api-url"):
        resolve(None, None, None, env={"FLEET_CONFIG": str(tmp_path / "missing.toml")}, cwd=tmp_path)


def test_an_unreadable_profile_file_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text("[default\napi_url=")
    with pytest.raises(ConfigError, match="cannot read"):
        resolve(None, None, None, env={"FLEET_CONFIG": str(tmp_path / "config.toml")}, cwd=tmp_path)


@pytest.mark.parametrize("body", [
    {"error": "not_found", "message": "device x not found", "field": "device_id"},
    {"code": "not_found", "message": "device x not found", "field": "device_id"},
])
def test_both_error_shapes_give_code_message_and_field(body: dict[str, str]) -> None:
    err = ApiError(404, body, json.dumps(body))
    assert err.message == "HTTP 404 not_found: device x not found (field: device_id)"
    assert err.exit_code == 1


def test_a_non_json_error_shows_the_start_of_the_body() -> None:
    err = ApiError(502, None, "<html>Bad Gateway</html>")
    assert err.message == "HTTP 502: <html>Bad Gateway</html>"


@pytest.mark.parametrize(("device_id", "path"), [
    ("sim-1", "/customer/devices/sim-1"),
    ("../jobs", "/customer/devices/..%2Fjobs"),
    ("..", "/customer/devices/%2E%2E"),
    ("x?status=active#", "/customer/devices/x%3Fstatus%3Dactive%23"),
])
def test_an_id_is_one_escaped_path_segment(device_id: str, path: str) -> None:
    assert resource("customer", "devices", device_id) == path


def test_a_planted_stack_file_never_receives_a_token_from_elsewhere(tmp_path: Path) -> None:
    # Given a stack file somebody left in a shared folder, pointing at their own listener
    planted = tmp_path / "shared"
    (planted / ".devstack").mkdir(parents=True)
    (planted / ".devstack" / "stack.json").write_text(json.dumps({"api_url": "http://127.0.0.1:18498"}))
    (tmp_path / "config.toml").write_text('[default]\ntoken = "profile-secret"\n')
    env = {"FLEET_CONFIG": str(tmp_path / "config.toml"), "FLEET_TOKEN": "env-secret"}
    # When the CLI takes its URL from that file
    conn = resolve(None, None, None, env=env, cwd=planted)
    # Then it sends no token but the file's own (none here): not the environment's, not the profile's
    assert conn.api_url == "http://127.0.0.1:18498" and conn.token is None


def test_a_stack_file_naming_a_remote_url_is_refused(tmp_path: Path) -> None:
    (tmp_path / ".devstack").mkdir()
    (tmp_path / ".devstack" / "stack.json").write_text(json.dumps(
        {"api_url": "https://collector.example.com", "operator_token": "t"}))
    with pytest.raises(ConfigError, match="non-loopback"):
        resolve(None, None, None, env={"FLEET_CONFIG": str(tmp_path / "missing.toml")}, cwd=tmp_path)


def test_an_empty_id_is_a_usage_error_not_the_listing() -> None:
    from fleet_cli.errors import UsageError

    with pytest.raises(UsageError):
        resource("customer", "devices", "")


def test_api_text_is_printed_with_control_characters_escaped() -> None:
    from fleet_cli.output import fmt

    assert fmt("<x>\x1b[31mRED\x1b]0;pwn\x07") == "<x>\\x1b[31mRED\\x1b]0;pwn\\x07"
    assert fmt("plain name") == "plain name"
