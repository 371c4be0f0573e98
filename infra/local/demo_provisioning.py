"""The demo tenant's provisioning template, and one board that enrols itself through it by claim."""
from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

from chalicelib.certificates.local_ca import write_private
from chalicelib.certificates.schemas import CertificateStatus
from chalicelib.container import container
from chalicelib.core.errors import Conflict, NotFound
from chalicelib.provisioning.schemas import CreateTemplate
from chalicelib.provisioning.services import ProvisioningServices
from infra.local.claim_enrolment import ClaimBoard, Enrolled, boot
from infra.local.simulator import SimulatedDevice

DEMO_TEMPLATE = "esp32-demo"
# The demo board's parameters: the template makes it esp32-240ac4000001.
DEMO_BOARD = {"SerialNumber": "DEMO0001", "MacAddress": "24:0A:C4:00:00:01"}


def seed_demo_template(tenant_id: str, group_id: str) -> dict[str, Any]:
    """Create the template once (a kept database has it already); returns the stack.json key naming it.

    Its boards join the demo's group (`group_id`): having only a certificate, they take their jobs
    (firmware rollouts included) on AWS IoT Jobs' topics, as devices written for AWS IoT do.
    """
    template = CreateTemplate.model_validate({
        "template_name": DEMO_TEMPLATE,
        "description": "ESP32 boards: the id from the MAC address, the serial as an attribute, in the demo fleet",
        "parameters": {"SerialNumber": {"pattern": "[A-Z0-9]{6,16}"}, "MacAddress": {"normalize": "mac"}},
        "device_id": "esp32-{MacAddress}",
        "name": "ESP32 {SerialNumber}",
        "attributes": {"serial": "{SerialNumber}"},
        "groups": [group_id],
        # A demo board whose stored certificate was lost (a deleted work dir) enrols again as the same device.
        "re_enrolment": "new_credential",
    })
    with contextlib.suppress(Conflict):
        container().of(ProvisioningServices).template_service.create(tenant_id, template)
    return {"provisioning_template": DEMO_TEMPLATE}


def start_claim_board(stack: Any, tenant_id: str, heartbeat_s: float) -> tuple[SimulatedDevice, dict[str, Any]]:
    """The demo board: enrols by claim on its first boot, then reuses its certificate while it is ACTIVE."""
    folder = Path(stack.o.workdir) / "claim-board"
    ca_file = str(stack.o.ca_dir / "ca.pem")

    def still_valid(enrolled: Enrolled) -> bool:
        with contextlib.suppress(NotFound, ValueError):
            kept = container().certificate_service.get(tenant_id, enrolled.device_id, enrolled.certificate_id)
            return enrolled.tenant_id == tenant_id and kept.status is CertificateStatus.ACTIVE
        return False

    claim_cert, claim_key = _demo_claim(tenant_id, folder)
    stack.sync.sync_once()  # the claim listener must know the claim before the board connects
    board = ClaimBoard(ca_file, str(claim_cert), str(claim_key), DEMO_TEMPLATE, DEMO_BOARD)
    device, enrolled, fresh = boot(board, folder, "127.0.0.1", stack.o.mqtt_claim_port, stack.o.mqtt_tls_port,
                                   stack.api_url, still_valid, stack.sync.sync_once, heartbeat_s)
    return device, {"device_id": enrolled.device_id, "thing_name": enrolled.thing_name,
                    "template_name": DEMO_TEMPLATE, "certificate_id": enrolled.certificate_id,
                    "certificate_file": str(enrolled.cert_file), "key_file": str(enrolled.key_file),
                    "claim_certificate_file": str(claim_cert), "claim_key_file": str(claim_key),
                    "enrolled_on_this_start": fresh}


def _demo_claim(tenant_id: str, folder: Path) -> tuple[Path, Path]:
    """The claim certificate flashed into the demo board: kept while ACTIVE, else issued anew (0600 key)."""
    from cryptography import x509

    claims = container().of(ProvisioningServices).claim_service
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    cert_file, key_file = folder / "claim.pem", folder / "claim.key"
    if cert_file.exists() and key_file.exists():
        with contextlib.suppress(NotFound, ValueError, IndexError):
            cn = x509.load_pem_x509_certificate(cert_file.read_bytes()).subject.get_attributes_for_oid(
                x509.NameOID.COMMON_NAME)[0].value
            kept = claims.get(tenant_id, DEMO_TEMPLATE, str(cn).removeprefix("claim-"))
            if kept.status is CertificateStatus.ACTIVE:
                return cert_file, key_file
    claim, key = claims.issue(tenant_id, DEMO_TEMPLATE, None)
    write_private(key_file, key)
    cert_file.write_text(claim.certificate_pem)
    return cert_file, key_file
