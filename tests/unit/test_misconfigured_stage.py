"""A stage whose FLEET_* settings do not validate: the caller did nothing wrong, so never a 4xx naming a setting."""
from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from chalicelib.core.config import Settings, get_settings
from chalicelib.core.http.views import answer


@pytest.fixture
def misconfigured(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("FLEET_MQTT_PORT", "not-a-port")
    get_settings.cache_clear()
    yield
    monkeypatch.undo()
    get_settings.cache_clear()


@pytest.mark.usefixtures("misconfigured")
def test_settings_that_do_not_validate_are_a_bare_500_not_a_400_naming_the_setting() -> None:
    # Given a view that needs the settings (every view does, through the container or the page limits)
    def view() -> Settings:
        return get_settings()

    # When it runs behind the edge on a stage whose settings do not validate
    resp = answer(view, "view", lambda: "req-1")
    # Then the answer is the bare 500 of a server fault: not the caller's 400, no setting named
    body = json.loads(resp.body)
    assert resp.status_code == 500 and body["error"] == "internal", resp.body
    assert "mqtt_port" not in resp.body and "field" not in body


@pytest.mark.usefixtures("misconfigured")
def test_the_error_still_says_which_setting_is_wrong_to_whoever_reads_the_log() -> None:
    with pytest.raises(RuntimeError, match="mqtt_port"):
        get_settings()


def test_the_error_names_the_setting_but_never_its_value(monkeypatch: pytest.MonkeyPatch) -> None:
    # A value may be a secret pasted into the wrong variable
    monkeypatch.setenv("FLEET_MQTT_PORT", "s3cret-pasted-here")
    get_settings.cache_clear()
    try:
        with pytest.raises(RuntimeError) as raised:
            get_settings()
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
    assert "mqtt_port" in str(raised.value) and "s3cret" not in str(raised.value)
    assert raised.value.__cause__ is None and raised.value.__suppress_context__
