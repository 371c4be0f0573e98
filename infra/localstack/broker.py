"""The compose file's broker: Mosquitto with the registry's device credentials, as on the local stack.

Devices log in on BROKER_PORT, the cloud publisher and the bridge on BROKER_SERVICE_PORT.

    python -m infra.localstack.broker      # FLEET_* for the registry, BROKER_* for the service users
"""
from __future__ import annotations

import logging
import os
import signal
import threading
from pathlib import Path
from typing import Any

from chalicelib.container import container
from infra.local.broker import Broker, ServiceUser, bridge_acl, cloud_acl
from infra.local.credential_sync import CredentialSync


def service_users(env: dict[str, str]) -> list[ServiceUser]:
    """The cloud publisher and the bridge, with the passwords the stage and the bridge container use."""
    return [
        ServiceUser(env.get("BROKER_CLOUD_USERNAME", "svc-cloud"), env["BROKER_CLOUD_PASSWORD"], cloud_acl()),
        ServiceUser(env.get("BROKER_BRIDGE_USERNAME", "svc-bridge"), env["BROKER_BRIDGE_PASSWORD"], bridge_acl()),
    ]


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    env = dict(os.environ)
    broker = Broker(Path(env.get("BROKER_WORKDIR", "/var/lib/fleet-broker")), int(env.get("BROKER_PORT", "1883")),
                    service_users(env), host="0.0.0.0", service_port=int(env.get("BROKER_SERVICE_PORT", "1884")))
    broker.start()
    sync = CredentialSync(container().device_repository, broker, interval_s=1.0).start()
    stop = threading.Event()

    def on_signal(signum: int, frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    stop.wait()
    sync.stop()
    broker.stop()


if __name__ == "__main__":
    main()
