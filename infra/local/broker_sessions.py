"""Closing live sessions on the local broker, as the credential sync does when a credential stops working.

Client ids are the broker's own namespace across listeners; a CONNECT with an id in use closes
the older connection, and a clean session takes the session state away with it. A device's
client id is its username, so the sync's service user takes it over. Boards sharing a claim
have client ids of their own: the claim plugin closes every session of a claim on request.
"""
from __future__ import annotations

import logging
import time

import paho.mqtt.client as mqtt

from chalicelib.core.topics import CLAIM_CUTS_ROOT
from infra.local.claim_plugin import CLAIM_CN_PREFIX

log = logging.getLogger(__name__)


def cut(host: str, port: int, username: str, password: str, names: list[str]) -> None:
    """Close the sessions of these names, logging in on the service listener as the sync's user."""
    claims = [n for n in names if n.startswith(CLAIM_CN_PREFIX)]
    if claims:
        _cut_claims(host, port, username, password, claims)
    for name in (n for n in names if n not in claims):
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


def _cut_claims(host: str, port: int, username: str, password: str, names: list[str]) -> None:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"{username}-claims", clean_session=True)
    client.username_pw_set(username, password)
    try:
        client.connect(host, port, keepalive=10)
        client.loop_start()
        sent = [client.publish(f"{CLAIM_CUTS_ROOT}/{name}", b"", qos=1) for name in names]
        for info in sent:
            info.wait_for_publish(5)
        client.disconnect()
        client.loop_stop()
    except (OSError, RuntimeError, ValueError):
        log.exception("could not cut the sessions of %s", names)
