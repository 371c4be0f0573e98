"""Parameters of known command types are validated; other types are free-form."""
from __future__ import annotations

from typing import Any

import pytest

from chalicelib.commands.params import PARAMS_BY_TYPE, check_params
from chalicelib.core.errors import InvalidInput

SHA = "0123456789abcdef" * 4


def test_the_known_types_are_seed_002s_plus_ping() -> None:
    assert set(PARAMS_BY_TYPE) == {"ping", "reboot", "capture_image", "send_image", "set_wake_schedule",
                                   "update_config", "update_firmware"}


@pytest.mark.parametrize(("command_type", "params"), [
    ("ping", {}),
    ("reboot", {}),
    ("reboot", {"delay_s": 30}),
    ("capture_image", {"count": 3}),
    ("send_image", {"image_name": "img-0001.jpg"}),
    ("set_wake_schedule", {"cron": "0 6,18 * * *", "timezone": "America/New_York",
                           "next_wake_at": "2026-01-01T06:00:00Z", "site_id": "s-1", "site_name": "North"}),
    ("update_config", {"config": {"interval_s": 60}}),
    ("update_firmware", {"url": "https://fw.example.com/2.0.bin", "version": "2.0.0-rc.1", "sha256": SHA}),
    ("flush_buffer", {"anything": ["goes", 1, None]}),
])
def test_valid_parameters_pass(command_type: str, params: dict[str, Any]) -> None:
    check_params(command_type, params)


@pytest.mark.parametrize(("command_type", "params", "field"), [
    ("update_firmware", {"url": "https://fw.example.com/2.0.bin", "version": "2.0.0"}, "command_params.sha256"),
    ("update_firmware", {"url": "https://x/y.bin", "version": "2.0", "sha256": SHA[:-1]}, "command_params.sha256"),
    ("update_firmware", {"url": "not a url", "version": "2.0", "sha256": SHA}, "command_params.url"),
    ("update_firmware", {"url": "https://x/y.bin", "version": "", "sha256": SHA}, "command_params.version"),
    ("ping", {"unexpected": True}, "command_params.unexpected"),
    ("reboot", {"delay_s": 3601}, "command_params.delay_s"),
    ("capture_image", {"count": 0}, "command_params.count"),
    ("send_image", {}, "command_params.image_name"),
    ("set_wake_schedule", {"cron": "61 * * * *"}, "command_params.cron"),
    ("set_wake_schedule", {"cron": "0 6 * * *", "timezone": "Nowhere/City"}, "command_params.timezone"),
    ("set_wake_schedule", {"cron": "0 6 * * *", "site": {"id": 1}}, "command_params.site"),
    ("update_config", {"config": {}}, "command_params.config"),
])
def test_invalid_parameters_are_rejected_naming_the_field(command_type: str, params: dict[str, Any],
                                                          field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        check_params(command_type, params)
    assert caught.value.field == field
    assert caught.value.extra["command_type"] == command_type
