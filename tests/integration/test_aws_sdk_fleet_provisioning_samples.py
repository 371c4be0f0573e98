"""The SDK's own fleet-provisioning samples, unedited, enrol boards on the stack's port for devices.

`tests/aws_samples/` holds byte-for-byte copies of the AWS IoT Device SDK v2 for Python's
`fleet_provisioning_basic.py` and `fleet_provisioning_csr.py` (MQTT 5, the request-response
identity client). Each runs in a process of its own against the certificate listener, the one
AWS devices use (8883 on `make run`), with the claim certificate and a template name; the device
it enrols then logs in with its new certificate, as its thing, and receives the operator's command.
"""
from __future__ import annotations

import ast
import hashlib
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.cert_support import logged_in, tls_peer
from tests.conftest import Stack
from tests.integration.aws_sdk_support import aws_bridge  # noqa: F401
from tests.integration.claims_support import make_claim
from tests.support import Api

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("aws_bridge")]
SAMPLES = Path(__file__).parents[1] / "aws_samples"
PUBLISHED = {  # SHA-256 of the files as published at v1.28.0: an edited sample fails here
    "fleet_provisioning_basic.py": "2151cb3060f231b6870a5c86d335801ab8141411a374953d94c27486369a57b8",
    "fleet_provisioning_csr.py": "2cc7a5be53abdaf4f0568abe7b3bb375430810c82e7a42dc2fe8e45bc2bff987",
}


def _run_sample(stack: Stack, sample: str, *args: str) -> str:
    tls = stack.broker.tls
    assert tls is not None
    path = SAMPLES / sample
    assert hashlib.sha256(path.read_bytes()).hexdigest() == PUBLISHED[sample], f"{sample} is not the published one"
    done = subprocess.run([sys.executable, str(SAMPLES / "connect_here.py"), str(tls.mtls_port), str(tls.ca_file),
                           str(path), "--endpoint", "localhost", *args],
                          capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert done.returncode == 0, f"{sample} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _printed(stdout: str, response: str) -> dict[str, Any]:
    """The fields of a response object the sample printed (`awsiot.iotidentity.X(a='..', b=..)`)."""
    match = re.search(rf"awsiot\.iotidentity\.{response}\((.*)\)\s*$", stdout, re.MULTILINE)
    assert match, f"no {response} in the sample's output:\n{stdout}"
    call = ast.parse(f"f({match.group(1)})", mode="eval").body
    assert isinstance(call, ast.Call)
    return {k.arg: ast.literal_eval(k.value) for k in call.keywords if k.arg}


def _claim_files(api: Api, folder: Path) -> tuple[str, str]:
    claim = make_claim(api)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "claim.pem").write_text(claim["certificate_pem"])
    (folder / "claim.key").write_text(claim["private_key_pem"])
    return str(folder / "claim.pem"), str(folder / "claim.key")


def _device_gets_a_command(stack: Stack, api: Api, folder: Path, thing: str, certificate_id: str, cert_pem: str,
                           key_pem: str) -> None:
    stack.sync.sync_once()
    tls = stack.broker.tls
    assert tls is not None
    device_id = thing.split(".", 1)[1]
    device = tls_peer(stack.broker.host, tls.mtls_port, tls.ca_file, folder, cert_pem, key_pem, client_id=thing)
    try:
        assert logged_in(device)
        device.subscribe(f"tenant/{api.tenant_id}/device/{device_id}/commands")
        sent = api.post(f"/customer/devices/{device_id}/commands", {"command_type": "ping", "command_params": {}})
        assert sent.status == 201, sent.body
        _, command, _ = device.expect(timeout=15)
        assert command["command_id"] == sent.body["command_id"]
        # And when the operator revokes the certificate, the session it opened under the thing's client id
        # is closed (the certificate's name, `cert-...`, is not that client id)
        path = f"/customer/devices/{device_id}/certificates/{certificate_id}"
        assert api.patch(path, {"status": "REVOKED"}).status == 200, api.get(path).body
        stack.sync.sync_once()
        assert device.disconnected.wait(10), "the disabled device's certificate session stayed open"
    finally:
        device.close()


def test_the_basic_sample_enrols_a_board_that_then_receives_a_command(stack: Stack, api: Api, tmp_path: Path) -> None:
    cert, key = _claim_files(api, tmp_path)
    stack.sync.sync_once()
    out = _run_sample(stack, "fleet_provisioning_basic.py", "--cert", cert, "--key", key, "--template_name", "esp32",
                      "--template_parameters", '{"SerialNumber": "SAMPLE01", "MacAddress": "24:0A:C4:00:00:51"}')
    made = _printed(out, "CreateKeysAndCertificateResponse")
    thing = _printed(out, "RegisterThingResponse")["thing_name"]
    assert thing == f"{api.tenant_id}.esp32-240ac4000051"
    assert api.get("/customer/devices/esp32-240ac4000051").body["status"] == "pending_mapping"
    _device_gets_a_command(stack, api, tmp_path / "device", thing, made["certificate_id"], made["certificate_pem"],
                           made["private_key"])


def test_the_csr_sample_enrols_a_board_whose_key_never_left_it(stack: Stack, api: Api, tmp_path: Path) -> None:
    cert, key = _claim_files(api, tmp_path)
    stack.sync.sync_once()
    board_key = ec.generate_private_key(ec.SECP256R1())
    csr = (x509.CertificateSigningRequestBuilder()
           .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "board")]))
           .sign(board_key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM).decode())
    (tmp_path / "board.csr").write_text(csr)
    out = _run_sample(stack, "fleet_provisioning_csr.py", "--cert", cert, "--key", key, "--template_name", "esp32",
                      "--csr_file", str(tmp_path / "board.csr"),
                      "--template_parameters", '{"SerialNumber": "SAMPLE02", "MacAddress": "24:0A:C4:00:00:52"}')
    made = _printed(out, "CreateCertificateFromCsrResponse")
    thing = _printed(out, "RegisterThingResponse")["thing_name"]
    assert thing == f"{api.tenant_id}.esp32-240ac4000052"
    key_pem = board_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()).decode()
    _device_gets_a_command(stack, api, tmp_path / "device", thing, made["certificate_id"], made["certificate_pem"],
                           key_pem)
