"""AWS IoT's fleet-provisioning MQTT API, answered from the device-message function.

A board holding a claim certificate asks for a certificate (`certificates/create/json`, or
`certificates/create-from-csr/json` with its CSR) and then provisions it
(`provisioning-templates/<name>/provision/json` with the ownership token and its parameters).
The claim is named by the broker (its CN), so it is trusted to be the board's; whether it may
still enrol (ACTIVE, unexpired, its template enabled, the template asked its own) is checked on
every request. Each failure is answered on `/rejected` with AWS's document saying what to fix.
"""
from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from chalicelib.certificates.claim_store import ClaimRepository
from chalicelib.certificates.ports import CertificateAuthority, Signed
from chalicelib.certificates.schemas import ClaimCertificate
from chalicelib.certificates.x509 import checked_csr_key
from chalicelib.core.clock import Clock, utcnow
from chalicelib.core.errors import Conflict, DomainError, InvalidInput, NotFound, Unavailable
from chalicelib.core.identity import mqtt_username
from chalicelib.core.messaging.base import Message, Publisher
from chalicelib.core.observability.log import logger
from chalicelib.core.observability.metrics import metrics
from chalicelib.core.storage.errors import is_invalid_request
from chalicelib.core.topics import device_root
from chalicelib.provisioning import claim_rules as rules
from chalicelib.provisioning.claim_rules import ClaimTopic, CreateFromCsrRequest, ProvisionRequest
from chalicelib.provisioning.enrol import Enroller
from chalicelib.provisioning.errors import ProvisioningRefused
from chalicelib.provisioning.schemas import Template
from chalicelib.provisioning.service import TemplateService

# The CN of a certificate a board makes through a claim: its device is not known yet, so the name is
# random; the broker's certificate ACL maps it to the device it is provisioned into.
DEVICE_CN_PREFIX = "cert-"
_AWS_CODES: dict[type[DomainError], tuple[int, str]] = {
    NotFound: (404, "ResourceNotFound"), Conflict: (409, "ResourceConflict")}


class FleetProvisioning:
    """Answers the `$fleet/claims/...` requests the bridge forwards (see claim_rules for the topics)."""

    def __init__(self, claims: ClaimRepository, authority: CertificateAuthority, templates: TemplateService,
                 enroller: Enroller, publisher: Publisher, on_changed: Callable[[], None],
                 validity: timedelta, clock: Clock = utcnow,
                 creates_per_hour: int = rules.MAX_CREATES_PER_HOUR) -> None:
        self._claims = claims
        self._ca = authority
        self._templates = templates
        self._enroller = enroller
        self._publisher = publisher
        self._on_changed = on_changed
        self._validity = validity
        self._clock = clock
        self._creates_per_hour = creates_per_hour

    def handle(self, topic: str, payload: bytes) -> dict[str, Any]:
        """Answer one request on its `/accepted` or `/rejected` topic; what was answered (never a key)."""
        parsed = rules.parse_claim_topic(topic)
        if parsed is None:
            raise InvalidInput("not a claim request topic", field="topic")
        try:
            answer = self._answer(parsed, payload)
        except ProvisioningRefused as refused:
            return self._rejected(parsed, refused)
        except Unavailable:
            raise  # the bridge redelivers; nothing was answered
        except DomainError as error:
            status, code = _AWS_CODES.get(type(error), (400, "InvalidParameters"))
            self._reply(parsed, False, {"statusCode": status, "errorCode": code, "errorMessage": error.message})
            return {"accepted": False, "errorCode": code}
        except Exception as error:
            if not is_invalid_request(error):
                raise  # may be transient: the bridge redelivers; nothing was answered
            # DynamoDB refused the request itself: every redelivery would meet the same refusal. The board is
            # told, without the database's words (they may quote what was sent).
            return self._rejected(parsed, ProvisioningRefused("the request was refused as invalid"))
        self._reply(parsed, True, answer)
        return {"accepted": True, "suffix": parsed.suffix}

    def _answer(self, parsed: ClaimTopic, raw: bytes) -> dict[str, Any]:
        now = self._clock()
        if parsed.suffix == rules.CREATE:
            rules.payload(raw, None)
            return self._create(self._claim(parsed)[0], None)
        if parsed.suffix == rules.CREATE_FROM_CSR:
            body = rules.payload(raw, CreateFromCsrRequest)
            assert isinstance(body, CreateFromCsrRequest)
            return self._create(self._claim(parsed)[0], body.certificateSigningRequest)
        body = rules.payload(raw, ProvisionRequest)
        assert isinstance(body, ProvisionRequest) and parsed.template_name is not None
        claim, template = self._claim(parsed)
        rules.check_template_name(claim, parsed.template_name)
        hashed = rules.token_hash(body.certificateOwnershipToken)
        pending = self._claims.pending(hashed)
        rules.check_token(pending.claim_id if pending else None, pending.token_expires_at if pending else None,
                          bool(pending and pending.consumed), claim.certificate_id, now)
        assert pending is not None
        context = {"claimCertificateId": claim.certificate_id, "certificateId": pending.certificate_id}
        made = self._templates.decide(claim.tenant_id, claim.template_name, body.parameters, context,
                                      template=template)
        if not self._claims.consume(hashed, pending, self._clock()):
            # Another request took the token between the read and now (a replay racing the first use).
            rules.check_token(pending.claim_id, pending.token_expires_at, True, claim.certificate_id, now)
        try:
            status = self._enroller.enrol(claim.tenant_id, made, template.re_enrolment, now)
        except ProvisioningRefused as refused:
            self._templates.refused(claim.tenant_id, claim.template_name, refused)
            raise
        self._claims.activate(hashed, pending, made.device_id, self._clock())
        self._on_changed()
        self._templates.provisioned(claim.tenant_id, claim.template_name)
        logger.info("board enrolled by claim", tenant=claim.tenant_id, device=made.device_id,
                    template=claim.template_name, re_enrolled=status is None, outcome="provisioned")
        configuration = {"tenantId": claim.tenant_id, "deviceId": made.device_id,
                         "topicRoot": device_root(claim.tenant_id, made.device_id),
                         "status": status.value if status else "re-enrolled"}
        return {"thingName": mqtt_username(claim.tenant_id, made.device_id), "deviceConfiguration": configuration}

    def _claim(self, parsed: ClaimTopic) -> tuple[ClaimCertificate, Template]:
        claim = rules.check_claim(self._claims.claim(parsed.claim_id), parsed.claim_id, self._clock())
        template = self._templates.get_or_refused(claim.tenant_id, claim.template_name)
        if not template.enabled:
            raise ProvisioningRefused(f"template {claim.template_name} is disabled: the operator must enable it",
                                      status_code=403, error_code="AccessDenied", field="enabled")
        return claim, template

    def _create(self, claim: ClaimCertificate, csr: str | None) -> dict[str, Any]:
        now = self._clock()
        if not self._claims.count_create(claim.certificate_id, now, self._creates_per_hour):
            raise ProvisioningRefused(
                f"this claim made {self._creates_per_hour} certificates this hour, its limit: provision the ones "
                "made, or retry next hour", status_code=429, error_code="Throttling", field="claim")
        name = DEVICE_CN_PREFIX + secrets.token_hex(16)
        signed: Signed
        if csr is None:
            signed = self._ca.create_keys_and_certificate(name, self._validity)
        else:
            try:
                key = checked_csr_key(csr, None, field="certificateSigningRequest")
            except InvalidInput as bad:
                raise ProvisioningRefused(f"certificateSigningRequest: {bad.message}", status_code=400,
                                          error_code="InvalidPayload", field="certificateSigningRequest") from bad
            signed = self._ca.sign_public_key(name, key, csr, self._validity)
        token = rules.new_token()
        self._claims.add_pending(rules.token_hash(token), claim.tenant_id, claim.certificate_id, signed.facts,
                                 now + rules.TOKEN_TTL, now)
        self._on_changed()  # the broker's CRL lists it until it is provisioned
        answer = {"certificateId": signed.facts.certificate_id, "certificatePem": signed.facts.certificate_pem,
                  "certificateOwnershipToken": token}
        if signed.private_key_pem is not None:
            answer["privateKey"] = signed.private_key_pem
        return answer

    def _rejected(self, parsed: ClaimTopic, refused: ProvisioningRefused) -> dict[str, Any]:
        self._reply(parsed, False, rules.rejection(refused))
        metrics.count("ClaimRequestsRejected")
        logger.warning("claim request rejected", claim=parsed.claim_id, suffix=parsed.suffix,
                       error_code=refused.error_code, reason=refused.message, outcome="rejected")
        return {"accepted": False, "errorCode": refused.error_code}

    def _reply(self, parsed: ClaimTopic, accepted: bool, document: dict[str, Any]) -> None:
        if not self._publisher.publish(Message(topic=parsed.reply(accepted), payload=document, qos=1)):
            # Nothing to retry with: a board that hears nothing asks again (and its token expires unused).
            logger.warning("claim answer not published", claim=parsed.claim_id, suffix=parsed.suffix,
                           outcome="unpublished")
