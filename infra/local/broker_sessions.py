"""Closing live sessions on the local broker, as the credential sync does when a credential stops working.

Client ids are the broker's own namespace across listeners; a CONNECT with an id in use closes
the older connection, and a clean session takes the session state away with it. A device's
client id is its username, so the sync's service user takes it over (the session state goes too).
Boards sharing a claim have client ids of their own, and a certificate may log in under its
thing's client id or one the broker assigned: with the plugin loaded, it closes every session of
a name on request as well.
"""
from __future__ import annotations

import logging
import time

import paho.mqtt.client as mqtt

from chalicelib.core.topics import SESSION_CUTS_ROOT
from infra.local.claim_plugin import CLAIM_CN_PREFIX

log = logging.getLogger(__name__)


def cut(host: str, port: int, username: str, password: str, names: list[str], plugin: bool = True) -> None:
    """Close the sessions of these names, logging in on the service listener as the sync's user.

    `plugin`: the broker runs the plugin that closes sessions by name (the stack's does whenever TLS is on).
    """
    if plugin:
        _cut_by_name(host, port, username, password, names)
    for name in (n for n in names if not n.startswith(CLAIM_CN_PREFIX)):
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=name, clean_session=True)
        client.username_pw_set(username, password)
        try:
            client.connect(host, port, keepalive=10)
            client.loop_start()
            deadline = time.monotonic() + 5
            while not client.is_connected() and time.monotonic() < deadline:
                time.sleep(0.01)
            client.disconnect()
            client.loop_stop()
        except OSError:
            log.exception("could not cut the session of %s", name)


def _cut_by_name(host: str, port: int, username: str, password: str, names: list[str]) -> None:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"{username}-cuts", clean_session=True)
    client.username_pw_set(username, password)
    try:
        client.connect(host, port, keepalive=10)
        client.loop_start()
        sent = [client.publish(f"{SESSION_CUTS_ROOT}/{name}", b"", qos=1) for name in names]
        for info in sent:
            info.wait_for_publish(5)
        client.disconnect()
        client.loop_stop()
    except (OSError, RuntimeError, ValueError):
        log.exception("could not cut the sessions of %s", names)
