"""`make run` on TLS: a CA kept across restarts and cleared by reset, a demo device on mutual TLS,
and a revocation that cuts a live certificate session through the running credential sync."""
from __future__ import annotations

import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.cert_support import logged_in, tls_peer
from tests.stack_support import ROOT, RunningStack, start_stack, wait_for

pytestmark = pytest.mark.slow


def _seen(stack: RunningStack, device_id: str) -> bool:
    return stack.get(f"/customer/devices/{device_id}").get("last_seen_at") is not None


def test_the_stack_serves_mutual_tls_and_a_revocation_cuts_the_session(tmp_path: Path) -> None:
    workdir = tmp_path / "devstack"
    stack = start_stack(workdir)
    try:
        mq = stack.info["mqtt"]
        ca_file = Path(mq["ca_file"])
        # The CA: its certificate named in stack.json and the banner, its key owner-only
        assert ca_file.exists() and str(ca_file) in stack.output.read_text()
        assert stat.S_IMODE((ca_file.parent / "ca.key").stat().st_mode) == 0o600
        ca_before = ca_file.read_bytes()
        # The demo's certificate device (sim-2) is online over mutual TLS
        sim2 = next(d for d in stack.info["devices"] if d["device_id"] == "sim-2")
        assert Path(sim2["certificate_file"]).exists()
        assert wait_for(lambda: _seen(stack, "sim-2"), 30)
        # A certificate made through the API logs in on the mTLS listener
        stack.post("/customer/devices", {"device_id": "tls-dev"})
        made = stack.post("/customer/devices/tls-dev/certificates", {})
        peer = None
        deadline = time.monotonic() + 30  # the sync polls the registry every second
        while peer is None or not logged_in(peer):
            assert time.monotonic() < deadline, "the new certificate never logged in"
            peer = tls_peer(mq["host"], mq["tls_port"], ca_file, tmp_path / "certs", made["certificate_pem"],
                            made["private_key_pem"])
        # When it is revoked, its session is cut within 5 s by the running stack
        started = time.monotonic()
        resp = requests.patch(f"{stack.api}/customer/devices/tls-dev/certificates/{made['certificate_id']}",
                              json={"status": "REVOKED"}, headers=stack.auth, timeout=15)
        assert resp.status_code == 200, resp.text
        assert peer.disconnected.wait(5.0)
        print(f"revoke-to-disconnect on the running stack: {(time.monotonic() - started) * 1000:.0f} ms")
        peer.client.loop_stop()
    finally:
        assert stack.stop() == 0
    # The CA is kept across a restart (devices' certificates stay valid) ...
    again = start_stack(workdir)
    try:
        assert Path(again.info["mqtt"]["ca_file"]).read_bytes() == ca_before
    finally:
        assert again.stop() == 0
    # ... and `make reset` forgets it with the registry
    subprocess.run([sys.executable, "-m", "infra.local.reset"], cwd=ROOT, env={**stack.env, "STACK_DIR": str(workdir)},
                   check=True, capture_output=True)
    assert not (workdir / "ca").exists()
