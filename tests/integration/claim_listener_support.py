"""What the claim-listener tests share: claim certificates its ACL lets in, boards on it, the cloud's side."""
from __future__ import annotations

import queue
import uuid
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

from infra.local import claim_plugin
from infra.local.broker_tls import TlsFiles
from tests.cert_support import signed_by, stack_ca, tls_peer
from tests.conftest import Stack
from tests.support import MqttPeer, mqtt_peer

CREATE = "$aws/certificates/create/json"
# The listeners that take claims: the claim listener and the certificate listener (the device port,
# 8883 on `make run`, where AWS's own samples connect). The claim tests run on both.
LISTENERS = ["claim listener", "certificate listener"]


def under_test(listener: str, stack: Stack) -> TlsFiles:
    """The stack's TLS files, with `claim_port` the listener under test."""
    files = stack.broker.tls
    assert files is not None
    return files if listener == "claim listener" else replace(files, claim_port=files.mtls_port)


def signed(tls: TlsFiles, cn: str) -> tuple[str, str]:
    """(certificate PEM, key PEM) of a certificate of the stack CA for this CN, valid for a day."""
    return signed_by(*stack_ca(tls), cn, datetime.now(timezone.utc), 1)


def listed_claim(stack: Stack, tls: TlsFiles, template: str = "tmpl") -> tuple[str, str, str]:
    """(cn, certificate PEM, key PEM) of a claim certificate the ACLs of both listeners let in."""
    cn = f"claim-{uuid.uuid4().hex}"
    cert_pem, key_pem = signed(tls, cn)
    acl = claim_plugin.acl_path(stack.broker.workdir)
    request_topics = ["certificates/create/json", "certificates/create-from-csr/json",
                      f"provisioning-templates/{template}/provision/json"]
    lines = [f"user {cn}", *(f"topic write $aws/{t}" for t in request_topics),
             *(f"topic read $aws/{t}/+" for t in request_topics), ""]
    for path in (acl, stack.broker.tls_acl_path):  # both listeners that take claims
        with open(path, "a") as f:
            f.write("\n".join(lines) + "\n")
    assert stack.broker.reload(wait_s=15)
    return cn, cert_pem, key_pem


def board(stack: Stack, tls: TlsFiles, tmp_path: Path, peers: list[MqttPeer], cert: str, key: str,
          client_id: str, clean: bool = True) -> MqttPeer:
    """A board on the listener under test (`tls.claim_port`); it never reconnects by itself (a comeback is
    tried by hand)."""
    assert tls.claim_port is not None
    peer = tls_peer(stack.broker.host, tls.claim_port, tls.ca_file, tmp_path, cert, key, client_id=client_id,
                    clean=clean)
    peer.client.reconnect_delay_set(min_delay=120, max_delay=240)
    peers.append(peer)
    return peer


def cloud(stack: Stack, peers: list[MqttPeer]) -> MqttPeer:
    """The cloud's side: a service client reading every request the claim listener forwards."""
    observer = stack.users["observer"]
    peer = mqtt_peer(stack.broker.host, stack.broker.service_port, observer.username, observer.password)
    peers.append(peer)
    peer.subscribe("$fleet/claims/#")
    return peer


def nothing(peer: MqttPeer, timeout: float = 1.0) -> bool:
    """Whether no message reaches the peer within the timeout."""
    try:
        peer.messages.get(timeout=timeout)
    except queue.Empty:
        return True
    return False
