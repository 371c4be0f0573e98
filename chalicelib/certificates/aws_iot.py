"""AWS IoT Core as the certificate authority (boto3 `iot`): AWS signs, stores and enforces status.

The certificate is attached to the device's thing (`{tenant_id}.{device_id}`, made on
first use) and, when the stage names one, to the IoT policy devices connect under.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import boto3
from botocore.exceptions import ClientError

from chalicelib.certificates.ports import Signed
from chalicelib.certificates.schemas import CertificateStatus
from chalicelib.certificates.x509 import CertificateFacts, PublicKey, csr_alone, facts
from chalicelib.core.errors import Unavailable


class AwsIotCertificateAuthority:
    """The CertificateAuthority port over AWS IoT's CreateKeysAndCertificate / CreateCertificateFromCsr."""

    def __init__(self, region: str, policy_name: str = "", client: Any = None) -> None:
        self._client = client or boto3.client("iot", region_name=region)
        self._policy = policy_name

    def create_keys_and_certificate(self, thing: str, validity: timedelta) -> Signed:
        """AWS makes the key pair (its own validity applies; AWS IoT does not take one)."""
        answer = self._call("create_keys_and_certificate", setAsActive=True)
        self._bind(thing, answer["certificateArn"])
        return Signed(self._facts(answer), answer["keyPair"]["PrivateKey"])

    def sign_public_key(self, thing: str, public_key: PublicKey, csr_pem: str, validity: timedelta) -> Signed:
        """AWS signs the CSR the service already checked (its subject is the device's name or empty).

        AWS gets that request re-serialised, never the caller's text: whatever else the text
        carried (another PEM block after it) was not checked, so it is not sent.
        """
        answer = self._call("create_certificate_from_csr", certificateSigningRequest=csr_alone(csr_pem),
                            setAsActive=True)
        self._bind(thing, answer["certificateArn"])
        return Signed(self._facts(answer))

    def set_status(self, thing: str, certificate_id: str, status: CertificateStatus) -> None:
        """UpdateCertificate: AWS IoT refuses a certificate that is not ACTIVE."""
        self._call("update_certificate", certificateId=certificate_id, newStatus=status.value)

    def delete(self, thing: str, certificate_id: str) -> None:
        """Detach from the thing and the policy, then DeleteCertificate (AWS refuses an attached one)."""
        described = self._call("describe_certificate", certificateId=certificate_id)
        arn = described["certificateDescription"]["certificateArn"]
        self._call("detach_thing_principal", thingName=thing, principal=arn)
        if self._policy:
            self._call("detach_policy", policyName=self._policy, target=arn)
        self._call("delete_certificate", certificateId=certificate_id)

    def _bind(self, thing: str, arn: str) -> None:
        try:
            self._client.describe_thing(thingName=thing)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                raise Unavailable("AWS IoT could not be reached; retry") from exc
            self._call("create_thing", thingName=thing)
        self._call("attach_thing_principal", thingName=thing, principal=arn)
        if self._policy:
            self._call("attach_policy", policyName=self._policy, target=arn)

    @staticmethod
    def _facts(answer: dict[str, Any]) -> CertificateFacts:
        # AWS IoT's id is the SHA-256 of the DER certificate, as ours; keep AWS's own in any case.
        return replace(facts(answer["certificatePem"]), certificate_id=answer["certificateId"])

    def _call(self, name: str, **kwargs: Any) -> dict[str, Any]:
        try:
            result: dict[str, Any] = getattr(self._client, name)(**kwargs)
        except ClientError as exc:
            raise Unavailable(f"AWS IoT refused {name}; retry or check the stage's IoT permissions") from exc
        return result
