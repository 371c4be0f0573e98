"""The twin's write listeners (wired by the composition root) run each, whatever the one before did."""
from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from chalicelib.aws_iot.services import AwsIotServices
from chalicelib.core.messaging.base import Message
from chalicelib.firmware.services import FirmwareServices
from chalicelib.wiring import twin_hooks


def test_a_failing_version_counter_does_not_skip_the_shadow_listener() -> None:
    event = Message(topic="$aws/things/d/shadow/update/accepted", payload={"state": {}})
    seen: list[tuple[Any, ...]] = []

    def broken(*change: Any) -> list[Message]:
        raise RuntimeError("counter write refused")

    def shadow(*change: Any) -> list[Message]:
        seen.append(change)
        return [event]

    parts = {FirmwareServices: SimpleNamespace(firmware_versions=SimpleNamespace(twin_written=broken)),
             AwsIotServices: SimpleNamespace(shadow_service=SimpleNamespace(twin_written=shadow))}
    core = SimpleNamespace(settings=SimpleNamespace(serves_aws_iot_topics=lambda: True), of=parts.__getitem__)
    after = SimpleNamespace(tenant_id="t-1", device_id="d", reported={"firmware_version": "x"})
    hooks = twin_hooks(core)
    assert hooks.on_written is not None
    assert hooks.on_written(after, after, None, {"firmware_version": "x"}) == [event]  # type: ignore[arg-type]
    assert len(seen) == 1
