"""A simulated board that boots with only a claim certificate and a template name.

On first boot it enrols the way AWS IoT's fleet-provisioning samples do: it connects to the
claim listener with the claim certificate, asks for a certificate and key
(`$aws/certificates/create/json`), registers itself through the template
(`$aws/provisioning-templates/{name}/provision/json`) with its parameters, and keeps the new
certificate and key in its folder (owner-only files). Then, and on every later boot, it logs in
with its own certificate on the mutual-TLS listener as the device the template made, and
behaves like every other simulated device: commands and twin over MQTT, and jobs (firmware
updates included) on AWS IoT Jobs' topics, `$aws/things/{thing}/jobs/...`, since it has no
token for the HTTPS device API (infra/local/behaviours/aws_jobs.py).
"""
from __future__ import annotations

import json
import queue
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt

from chalicelib.certificates.local_ca import write_private
from infra.local.simulator import DeviceIdentity, SimulatedDevice, build_device

CREATE = "$aws/certificates/create/json"


@dataclass(frozen=True)
class ClaimBoard:
    """What the factory flashed: the CA to trust, the claim certificate and key, the template, its parameters."""

    ca_file: str
    claim_cert_file: str
    claim_key_file: str
    template_name: str
    parameters: dict[str, str]


@dataclass(frozen=True)
class Enrolled:
    """What an enrolment left in the board's folder."""

    thing_name: str
    certificate_id: str
    cert_file: Path
    key_file: Path

    @property
    def tenant_id(self) -> str:
        return self.thing_name.split(".", 1)[0]

    @property
    def device_id(self) -> str:
        return self.thing_name.split(".", 1)[1]


class EnrolmentRefused(RuntimeError):
    """The cloud answered on a `rejected` topic (its errorCode and errorMessage say what to fix)."""


class NoAnswer(EnrolmentRefused):
    """Nothing came back in time (e.g. a bridge still subscribing on the stack's first start): worth a retry."""


def stored(folder: Path) -> Enrolled | None:
    """The certificate a previous boot enrolled, if its files are all there."""
    try:
        facts = json.loads((folder / "thing.json").read_text())
        enrolled = Enrolled(str(facts["thing_name"]), str(facts["certificate_id"]),
                            folder / "certificate.pem", folder / "private.key")
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return enrolled if enrolled.cert_file.exists() and enrolled.key_file.exists() else None


def enrol(board: ClaimBoard, host: str, claim_port: int, folder: Path, timeout_s: float = 20.0) -> Enrolled:
    """Create keys and provision through the claim listener; the new certificate and key land in `folder`."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    provision = f"$aws/provisioning-templates/{board.template_name}/provision/json"
    answers: queue.Queue[tuple[str, dict[str, Any]]] = queue.Queue()
    subscribed = threading.Event()
    # A client id of its own, as the samples make (never a device's or a service's: the listener checks).
    client = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2, client_id=f"board-{uuid.uuid4().hex}")
    client.tls_set(ca_certs=board.ca_file, certfile=board.claim_cert_file, keyfile=board.claim_key_file)

    def on_message(c: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        try:
            answers.put((msg.topic, json.loads(msg.payload)))
        except ValueError:
            answers.put((msg.topic, {"errorMessage": "answer is not JSON"}))

    def on_connect(c: mqtt.Client, userdata: Any, flags: Any, rc: mqtt.ReasonCode, props: Any) -> None:
        if rc.is_failure:
            answers.put(("connect/rejected", {"errorMessage": f"claim listener refused the claim: {rc}"}))
            return
        c.subscribe([(f"{CREATE}/+", 1), (f"{provision}/+", 1)])

    client.on_message = on_message
    client.on_connect = on_connect
    client.on_subscribe = lambda *a: subscribed.set()
    client.connect(host, claim_port, keepalive=30)
    client.loop_start()
    try:
        _wait_subscribed(subscribed, answers, timeout_s)
        made = _ask(client, answers, CREATE, {}, timeout_s)
        cert_file, key_file = folder / "certificate.pem", folder / "private.key"
        write_private(key_file, made["privateKey"])  # the key is answered once: keep it before anything else
        cert_file.write_text(made["certificatePem"])
        try:
            thing = _ask(client, answers, provision, {"certificateOwnershipToken": made["certificateOwnershipToken"],
                                                      "parameters": board.parameters}, timeout_s)
        except EnrolmentRefused:
            # The certificate stays PENDING_ACTIVATION for ever: its key is of no use to keep.
            key_file.unlink(missing_ok=True)
            cert_file.unlink(missing_ok=True)
            raise
    finally:
        client.disconnect()
        client.loop_stop()
    enrolled = Enrolled(thing["thingName"], made["certificateId"], cert_file, key_file)
    write_private(folder / "thing.json", json.dumps({"thing_name": enrolled.thing_name,
                                                     "certificate_id": enrolled.certificate_id}))
    return enrolled


def _wait_subscribed(subscribed: threading.Event, answers: queue.Queue[tuple[str, dict[str, Any]]],
                     timeout_s: float) -> None:
    if subscribed.wait(timeout_s):
        return
    if not answers.empty():
        raise EnrolmentRefused(answers.get()[1].get("errorMessage"))
    raise NoAnswer("the claim listener did not answer (connection or subscription)")


def _ask(client: mqtt.Client, answers: queue.Queue[tuple[str, dict[str, Any]]], topic: str,
         body: dict[str, Any], timeout_s: float) -> dict[str, Any]:
    """Publish one request and wait for its accepted answer; a rejected one raises with AWS's error."""
    client.publish(topic, json.dumps(body), qos=1)
    try:
        got, answer = answers.get(timeout=timeout_s)
    except queue.Empty:
        raise NoAnswer(f"no answer on {topic}/accepted|rejected within {timeout_s:.0f}s") from None
    if got != f"{topic}/accepted":
        raise EnrolmentRefused(f"{got}: {answer.get('errorCode')} {answer.get('errorMessage')}")
    return answer


def boot(board: ClaimBoard, folder: Path, host: str, claim_port: int, mtls_port: int, api_url: str,
         still_valid: Callable[[Enrolled], bool] = lambda e: True, on_enrolled: Callable[[], object] = lambda: None,
         heartbeat_s: float = 30.0, attempts: int = 3, timeout_s: float = 10.0
         ) -> tuple[SimulatedDevice, Enrolled, bool]:
    """(the started device, its certificate, whether it enrolled on this boot).

    A certificate kept from an earlier boot is used when `still_valid` says so; otherwise the
    board enrols (up to `attempts` times while nothing answers). `on_enrolled` runs before the
    device logs in (the local stack syncs the broker's ACL there).
    """
    enrolled = stored(folder)
    fresh = enrolled is None or not still_valid(enrolled)
    for attempt in range(attempts if fresh else 0):
        try:
            enrolled = enrol(board, host, claim_port, folder, timeout_s)
            break
        except NoAnswer:
            if attempt == attempts - 1:
                raise
    if fresh:
        on_enrolled()
    assert enrolled is not None
    # No provision token: this device has only its certificate (its behaviours answer over MQTT, its jobs
    # on AWS IoT Jobs' topics).
    identity = DeviceIdentity(enrolled.tenant_id, enrolled.device_id, "", {"jobs_api": "aws"},
                              (board.ca_file, str(enrolled.cert_file), str(enrolled.key_file)))
    device = build_device(identity, host, mtls_port, api_url, heartbeat_s).start()
    return device, enrolled, fresh
