"""The demo tenant of the local stack: devices, a group, simulated devices, the banner."""
from __future__ import annotations

import contextlib
import json
import logging
import os
import shlex
from pathlib import Path
from typing import Any

from chalicelib.certificates.local_ca import write_private
from chalicelib.certificates.schemas import CertificateStatus
from chalicelib.certificates.x509 import facts
from chalicelib.container import container
from chalicelib.core.errors import Conflict, NotFound, Unauthenticated
from chalicelib.core.identity import mqtt_username
from chalicelib.devices.schemas import CreateDevice, CreateGroup
from infra.local.simulator import DeviceIdentity, SimulatedDevice, build_device

log = logging.getLogger(__name__)
DEMO_TENANT = "demo"
# (device_id, options): sim-2 answers over HTTPS instead of MQTT and logs in with a client certificate on
# the mutual-TLS listener (SIM_TRANSPORT=mtls puts every one there); sim-3 starts unmapped.
DEMO_DEVICES: list[tuple[str, dict[str, Any]]] = [
    ("sim-1", {}),
    ("sim-2", {"ack_over_http": True, "transport": "mtls"}),
    ("sim-3", {"unmapped": True}),
]
DEMO_GROUP = "demo-fleet"


def seed_demo(stack: Any) -> dict[str, Any]:
    """Create the demo tenant's devices and group (idempotent); returns what stack.json holds.

    Against a database kept from an earlier run the devices exist already: their tokens
    come from the stack's private token file, or are rotated when that file is gone.
    """
    groups = container().group_service
    token_file = Path(stack.o.workdir) / "demo-tokens.json"
    known = _read_tokens(token_file)
    seeded: list[dict[str, Any]] = []
    for device_id, options in DEMO_DEVICES:
        token = _demo_token(device_id, known.get(device_id))
        seeded.append({"device_id": device_id, "provision_token": token, "options": options})
    _write_tokens(token_file, {d["device_id"]: d["provision_token"] for d in seeded})
    with contextlib.suppress(Conflict):
        groups.create(DEMO_TENANT, CreateGroup(group_id=DEMO_GROUP, name="Demo fleet"))
    for device in seeded:
        groups.add_member(DEMO_TENANT, DEMO_GROUP, device["device_id"])
    extra = _seed_feature_demo(seeded)
    return {
        "api_url": stack.api_url,
        "mqtt": {"host": "127.0.0.1", "port": stack.o.mqtt_port, "tls_port": stack.o.mqtt_tls_port,
                 "tls_token_port": stack.o.mqtt_tls_token_port, "claim_port": stack.o.mqtt_claim_port,
                 "ca_file": str(stack.o.ca_dir / "ca.pem")},
        "tenant_id": DEMO_TENANT,
        "operator_token": stack.operator_token(DEMO_TENANT),
        "devices": [{"device_id": d["device_id"], "mqtt_username": mqtt_username(DEMO_TENANT, d["device_id"]),
                     "provision_token": d["provision_token"]} for d in seeded],
        "group_id": DEMO_GROUP,
        **extra,
        "_options": {d["device_id"]: d["options"] for d in seeded},
    }


def _demo_token(device_id: str, known: str | None) -> str:
    """The device's provision token: a new device's, the remembered one, or a rotated one."""
    devices = container().device_service
    try:
        return devices.create(DEMO_TENANT, CreateDevice(device_id=device_id, name=f"Simulated {device_id}")
                              ).provision_token
    except Conflict:
        pass
    if known:
        try:
            principal = devices.authenticate(known)
            if (principal.tenant_id, principal.device_id) == (DEMO_TENANT, device_id):
                return known
        except Unauthenticated:
            pass
    return devices.rotate_token(DEMO_TENANT, device_id)


def _read_tokens(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def _write_tokens(path: Path, tokens: dict[str, str]) -> None:
    path.write_text(json.dumps(tokens, indent=2))
    path.chmod(0o600)


def _seed_feature_demo(seeded: list[dict[str, Any]]) -> dict[str, Any]:
    """Hook for features that add demo data (sites, a provisioning template); returns extra stack.json keys."""
    from infra.local.demo_provisioning import seed_demo_template
    from infra.local.demo_sites import seed_demo_site

    return {**seed_demo_site(DEMO_TENANT, seeded), **seed_demo_template(DEMO_TENANT, DEMO_GROUP)}


def start_simulators(stack: Any, info: dict[str, Any], heartbeat_s: float = 20.0) -> list[SimulatedDevice]:
    """One simulated device per demo device, each with its own broker credentials."""
    options = info.pop("_options")
    everyone_mtls = os.environ.get("SIM_TRANSPORT", "tcp") == "mtls"
    certificates = {}
    for device in info["devices"]:
        if everyone_mtls or options.get(device["device_id"], {}).get("transport") == "mtls":
            certificates[device["device_id"]] = demo_certificate(Path(stack.o.workdir), device["device_id"])
            device["certificate_file"], device["key_file"] = certificates[device["device_id"]][1:]
    stack.sync.sync_once()  # the broker must know the new devices (and certificates) before they connect
    sims = []
    for device in info["devices"]:
        identity = DeviceIdentity(info["tenant_id"], device["device_id"], device["provision_token"],
                                  options.get(device["device_id"], {}), certificates.get(device["device_id"]))
        port = stack.o.mqtt_tls_port if identity.certificate else stack.o.mqtt_port
        sims.append(build_device(identity, "127.0.0.1", port, stack.api_url, heartbeat_s).start())
    sims += _claim_board(stack, info, heartbeat_s)
    for sim in sims:
        sim.connected.wait(10)
    return sims


def _claim_board(stack: Any, info: dict[str, Any], heartbeat_s: float) -> list[SimulatedDevice]:
    """The board that enrols itself by claim; a failed enrolment is reported, not fatal to the stack."""
    from infra.local.claim_enrolment import EnrolmentRefused
    from infra.local.demo_provisioning import start_claim_board

    try:
        board, info["claim_board"] = start_claim_board(stack, info["tenant_id"], heartbeat_s)
    except (EnrolmentRefused, OSError) as exc:
        log.error("the demo board could not enrol by claim: %s", exc)
        info["claim_board"] = {"error": str(exc)}
        return []
    return [board]


def print_banner(stack: Any, info: dict[str, Any], state_file: Path, elapsed_s: float) -> None:
    """What a developer needs to start poking at the stack."""
    token = info["operator_token"]
    dev = info["devices"][0]
    auth = shlex.quote(f"Authorization: Bearer {token}")
    api = info["api_url"]
    group = info.get("group_id", DEMO_GROUP)
    mq = info["mqtt"]
    print(f"""
Fleet control plane is up in {elapsed_s:.1f}s  (Ctrl-C stops everything)
  API        {api}        (health: {api}/health)
  MQTT       {info['mqtt']['host']}:{info['mqtt']['port']}
             username = tenant_id.device_id (e.g. {dev['mqtt_username']}), password = provision token
             AWS IoT SDK devices: thing name = username, $aws/things/{dev['mqtt_username']}/shadow|jobs/...
  MQTT TLS   {mq['host']}:{mq['tls_port']} client certificate (CN = username); {mq['host']}:{mq['tls_token_port']} token
             {mq['host']}:{mq['claim_port']} boards enrolling with a claim certificate (fleet provisioning)
             CA file {mq['ca_file']}
  DynamoDB   {stack.env()['FLEET_DDB_ENDPOINT']}
{_console_line(info)}  state      {state_file}
  logs       {stack.o.workdir / 'logs'}

Demo tenant '{info['tenant_id']}' with devices {', '.join(d['device_id'] for d in info['devices'])}.
{_claim_line(info)}  export TOKEN={token}

  curl -s {api}/customer/devices -H "Authorization: Bearer $TOKEN"
  curl -s -X POST {api}/customer/devices -H "Authorization: Bearer $TOKEN" \\
       -H 'Content-Type: application/json' -d '{{"device_id": "my-device", "name": "My device"}}'
  curl -s -X POST {api}/customer/devices/{dev['device_id']}/commands -H "Authorization: Bearer $TOKEN" \\
       -H 'Content-Type: application/json' -d '{{"command_type": "ping", "command_params": {{}}}}'
  curl -s {api}/device/v1/commands/pending -H 'X-Provision-Token: {dev['provision_token']}'
  curl -s -X PATCH {api}/customer/devices/{dev['device_id']}/twin/desired -H "Authorization: Bearer $TOKEN" \\
       -H 'Content-Type: application/json' -d '{{"desired": {{"interval_s": 30}}}}'
  curl -s -X POST {api}/customer/jobs -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \\
       -d '{{"document_type": "reboot", "document_params": {{}}, "target_group_id": "{group}"}}'
{_mapping_hint(api, info)}(auth header for copy-paste: {auth})
""", flush=True)


def _claim_line(info: dict[str, Any]) -> str:
    """The board that enrolled itself by claim (template, device, where its files are)."""
    board = info.get("claim_board") or {}
    if "device_id" not in board:
        return f"  claim board: not enrolled ({board.get('error', 'not started')})\n"
    how = "enrolled by claim now" if board["enrolled_on_this_start"] else "its stored certificate"
    return (f"  {board['device_id']} enrolled itself by claim through template '{board['template_name']}' "
            f"({how}); its jobs on $aws/things/{board['thing_name']}/jobs/...;\n"
            f"  claim certificate and key: {board['claim_certificate_file']}, {board['claim_key_file']}\n")


def _console_line(info: dict[str, Any]) -> str:
    """The console URL, signed in to the demo tenant (the token rides in the URL fragment)."""
    url = info.get("console_url")
    return f"  Console    {url}\n" if url else "  Console    not built (run `make console`)\n"


def _mapping_hint(api: str, info: dict[str, Any]) -> str:
    """The site-mapping step of the walk-through, when a demo device was left unmapped."""
    unmapped = info.get("unmapped_devices") or []
    if not unmapped or not info.get("site_id"):
        return ""
    return (f"  curl -s -X PUT {api}/customer/devices/{unmapped[0]}/site -H \"Authorization: Bearer $TOKEN\" \\\n"
            f"       -H 'Content-Type: application/json' -d '{{\"site_id\": \"{info['site_id']}\"}}'\n")


def demo_certificate(workdir: Path, device_id: str) -> tuple[str, str, str]:
    """(CA, certificate, key) files of a demo device on mutual TLS: kept while ACTIVE, else issued anew."""
    service = container().certificate_service
    folder = workdir / "demo-certs"
    folder.mkdir(mode=0o700, exist_ok=True)
    cert_file, key_file = folder / f"{device_id}.pem", folder / f"{device_id}.key"
    ca_file = str(workdir / "ca" / "ca.pem")
    if cert_file.exists() and key_file.exists():
        with contextlib.suppress(NotFound, ValueError):
            kept = service.get(DEMO_TENANT, device_id, facts(cert_file.read_text()).certificate_id)
            if kept.status is CertificateStatus.ACTIVE:
                return ca_file, str(cert_file), str(key_file)
    issued = service.issue(DEMO_TENANT, device_id)
    assert issued.private_key_pem is not None  # the local CA makes the key pair
    write_private(key_file, issued.private_key_pem)
    cert_file.write_text(issued.certificate.certificate_pem)
    return ca_file, str(cert_file), str(key_file)
