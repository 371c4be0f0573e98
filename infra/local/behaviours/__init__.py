"""What simulated devices do, one installer per feature.

An installer is `install(device: SimulatedDevice) -> None`; it registers handlers with
`device.on(suffix, handler)`. Options a behaviour reads live in `device.identity.options`.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from infra.local.behaviours import commands, jobs, twin

if TYPE_CHECKING:
    from infra.local.simulator import SimulatedDevice

Installer = Callable[["SimulatedDevice"], None]

INSTALLERS: list[Installer] = [commands.install, twin.install, jobs.install]
