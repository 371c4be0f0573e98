"""The pure rules of provisioning by claim: the broker's claim topics, ownership tokens, request payloads.

The broker's claim plugin rewrites a board's `$aws/<suffix>` publish to
`$fleet/claims/<cn>/<nonce>/<client_id>/<suffix>` (the CN authenticated by the TLS handshake,
the nonce naming that connection) and delivers `$fleet/claim-replies/<nonce>/<client_id>/<suffix>/
accepted|rejected` to that one connection only, as `$aws/<suffix>/accepted|rejected`.
"""
from __future__ import annotations

import hashlib
import json
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any

from pydantic import ConfigDict, Field, StringConstraints, ValidationError

from chalicelib.certificates.schemas import CertificateStatus, ClaimCertificate
from chalicelib.core.schema import Request
from chalicelib.core.topics import CLAIM_REPLIES_ROOT as REPLIES_ROOT
from chalicelib.core.topics import CLAIMS_ROOT
from chalicelib.provisioning.errors import ProvisioningRefused

CLAIM_CN_PREFIX = "claim-"
CREATE = "certificates/create/json"
CREATE_FROM_CSR = "certificates/create-from-csr/json"
_PROVISION = re.compile(r"provisioning-templates/([^/]{1,128})/provision/json")
_CLIENT_ID = re.compile(r"[A-Za-z0-9_:-]{1,128}")
_NONCE = re.compile(r"[0-9]{1,20}")
# A claim's id: 48 random hex digits, so `claim-<id>` fits X.509's 64-character bound on a CN (a
# fingerprint id, 64 digits, would not; nor can a certificate name its own fingerprint).
CLAIM_ID_BYTES = 24
_CERT_ID = re.compile(r"[0-9a-f]{48}")
# How long a board has between creating its certificate and provisioning with the token (AWS: 5 minutes).
TOKEN_TTL = timedelta(minutes=5)
# A CSR, or a provision request with 20 parameters of 128 characters, fits well within this.
MAX_REQUEST_BYTES = 16 * 1024
# Certificates one claim may make in an hour: each is signed and waits on the CRL until provisioned
# or a day past its token, so a leaked claim asking in a loop must not grow the CRL without bound.
MAX_CREATES_PER_HOUR = 1000


@dataclass(frozen=True)
class ClaimTopic:
    """One request a board published through the claim listener."""

    claim_id: str
    nonce: str
    client_id: str
    suffix: str
    template_name: str | None  # of a provision request

    def reply(self, accepted: bool) -> str:
        """Where its answer goes: only that connection receives it."""
        return f"{REPLIES_ROOT}/{self.nonce}/{self.client_id}/{self.suffix}/{'accepted' if accepted else 'rejected'}"


def parse_claim_topic(topic: str) -> ClaimTopic | None:
    """The request a `$fleet/claims/...` topic carries; None for anything malformed (it cannot be answered)."""
    parts = topic.split("/")
    if len(parts) < 6 or "/".join(parts[:2]) != CLAIMS_ROOT:
        return None
    cn, nonce, client_id, suffix = parts[2], parts[3], parts[4], "/".join(parts[5:])
    if not (cn.startswith(CLAIM_CN_PREFIX) and _CERT_ID.fullmatch(cn[len(CLAIM_CN_PREFIX):])):
        return None
    if not (_NONCE.fullmatch(nonce) and _CLIENT_ID.fullmatch(client_id)) or client_id.startswith("svc-"):
        return None
    if suffix in (CREATE, CREATE_FROM_CSR):
        return ClaimTopic(cn[len(CLAIM_CN_PREFIX):], nonce, client_id, suffix, None)
    provision = _PROVISION.fullmatch(suffix)
    if provision is None:
        return None
    return ClaimTopic(cn[len(CLAIM_CN_PREFIX):], nonce, client_id, suffix, provision.group(1))


def new_token() -> str:
    """A certificate ownership token: 256 random bits."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """What the registry keeps of a token (never the token itself)."""
    return hashlib.sha256(token.encode()).hexdigest()


def check_claim(claim: ClaimCertificate | None, claim_id: str, now: datetime) -> ClaimCertificate:
    """The claim a request came through, if it may still enrol boards; AccessDenied saying why not."""
    if claim is None:
        raise _denied(f"claim certificate {claim_id} is not registered (deleted?): ask the operator for a new one")
    if claim.status is not CertificateStatus.ACTIVE:
        raise _denied(f"claim certificate {claim_id} is {claim.status.value}: it enrols no board; "
                      "ask the operator for a new one", field="status")
    if claim.not_after <= now:
        raise _denied(f"claim certificate {claim_id} expired at {claim.not_after.isoformat()}: "
                      "ask the operator for a new one", field="not_after")
    return claim


def check_template_name(claim: ClaimCertificate, asked: str) -> None:
    """A claim provisions through its own template only."""
    if asked != claim.template_name:
        raise _denied(f"this claim certificate is for template {claim.template_name}, not {asked[:128]}: "
                      f"publish to $aws/provisioning-templates/{claim.template_name}/provision/json",
                      field="template_name")


def check_token(found_claim: str | None, expires_at: datetime | None, consumed: bool, claim_id: str,
                now: datetime) -> None:
    """Refuse a token that is unknown, of another claim, used, or expired (in that order)."""
    if found_claim is None or expires_at is None:
        raise _token("certificateOwnershipToken is unknown or was used already (each token provisions once): "
                     "create a new certificate and use the token that certificates/create/json (or create-from-csr) "
                     "answers")
    if found_claim != claim_id:
        raise _token("certificateOwnershipToken was made through another claim certificate: provision with "
                     "the claim that created the certificate")
    if consumed:
        raise _token("certificateOwnershipToken was used already (each token provisions once): create a new "
                     "certificate")
    if expires_at <= now:
        raise _token(f"certificateOwnershipToken expired at {expires_at.isoformat()} (tokens live "
                     f"{int(TOKEN_TTL.total_seconds() // 60)} minutes): create a new certificate and provision "
                     "at once")


class CreateFromCsrRequest(Request):
    """`$aws/certificates/create-from-csr/json`."""

    model_config = ConfigDict(extra="ignore")
    certificateSigningRequest: Annotated[str, StringConstraints(min_length=1, max_length=MAX_REQUEST_BYTES)]


class ProvisionRequest(Request):
    """`$aws/provisioning-templates/<name>/provision/json`."""

    model_config = ConfigDict(extra="ignore")
    certificateOwnershipToken: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    parameters: dict[Annotated[str, StringConstraints(max_length=64)],
                     Annotated[str, StringConstraints(max_length=256)]] = Field(default_factory=dict, max_length=20)


def payload(raw: bytes, model: type[Request] | None) -> Request | None:
    """The request body checked against its model (None for an empty body's create); 400 InvalidPayload naming
    the field otherwise."""
    if len(raw) > MAX_REQUEST_BYTES:
        raise ProvisioningRefused(f"payload exceeds {MAX_REQUEST_BYTES} bytes", status_code=413,
                                  error_code="PayloadTooLarge")
    try:
        body: Any = json.loads(raw) if raw.strip() else {}
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise _invalid("payload is not JSON: send a JSON object") from exc
    if not isinstance(body, dict):
        raise _invalid("payload must be a JSON object")
    if model is None:
        return None
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first.get("loc", ()))
        raise _invalid(f"{field}: {first.get('msg')}", field=field) from exc


def rejection(refused: ProvisioningRefused) -> dict[str, Any]:
    """AWS's `/rejected` document."""
    return {"statusCode": refused.status_code, "errorCode": refused.error_code, "errorMessage": refused.message}


def _invalid(message: str, field: str | None = None) -> ProvisioningRefused:
    return ProvisioningRefused(message, status_code=400, error_code="InvalidPayload", field=field)


def _denied(message: str, field: str = "claim") -> ProvisioningRefused:
    return ProvisioningRefused(message, status_code=403, error_code="AccessDenied", field=field)


def _token(message: str) -> ProvisioningRefused:
    return ProvisioningRefused(message, status_code=400, error_code="InvalidCertificateOwnershipToken",
                               field="certificateOwnershipToken")
