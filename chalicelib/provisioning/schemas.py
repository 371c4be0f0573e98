"""Shapes of provisioning templates: parameters with patterns, what an enrolment makes, the pre-provisioning check."""
from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, Field, StringConstraints, field_validator, model_validator

from chalicelib.core.schema import Description, Record, Request, ResourceId, StrictBool
from chalicelib.devices.schemas import AttributeKey

ParameterName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_]{0,63}$")]
# What a device sends and an allow-list holds: printable, short.
ParameterValue = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[\x21-\x7e]+$")]
PLACEHOLDER = re.compile(r"\{([A-Za-z][A-Za-z0-9_]{0,63})\}")
MAX_ALLOW_LIST = 2000


def _compiles(pattern: str) -> str:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"not a regular expression: {exc}") from exc
    return pattern


Pattern = Annotated[str, StringConstraints(min_length=1, max_length=200), AfterValidator(_compiles)]
# A string that may hold {Parameter} placeholders: the device id, attribute values.
TemplateText = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"^[\x20-\x7e]+$")]


class Normalize(StrEnum):
    """How a parameter's value is rewritten before it is checked and used."""

    NONE = "none"
    MAC = "mac"  # AA:BB:CC:DD:EE:FF, aa-bb-..., aabb.ccdd.eeff -> aabbccddeeff


class ReEnrolment(StrEnum):
    """What an enrolment whose device exists already gets: refused, or a new credential for that same device."""

    REFUSE = "refuse"
    NEW_CREDENTIAL = "new_credential"


class ParameterSpec(Request):
    """One parameter a device may send: its pattern (matched whole, after normalisation) and if it must be sent."""

    pattern: Pattern | None = None
    required: StrictBool = True
    normalize: Normalize = Normalize.NONE


class PreProvisioningHook(Request):
    """An HTTPS endpoint asked before every enrolment, like AWS IoT's pre-provisioning hook."""

    url: Annotated[str, StringConstraints(min_length=9, max_length=500, pattern=r"^https?://[^\s]+$")]
    timeout_s: float = Field(default=5.0, gt=0, le=10)


class TemplateBody(Request):
    """What a template says (PUT replaces it whole)."""

    description: Description | None = None
    enabled: StrictBool = True
    parameters: dict[ParameterName, ParameterSpec] = Field(default_factory=dict, max_length=20)
    device_id: TemplateText = Field(description="the new device's id, e.g. esp32-{MacAddress}")
    name: TemplateText | None = None
    attributes: dict[AttributeKey, TemplateText] = Field(default_factory=dict, max_length=50)
    groups: Annotated[list[ResourceId], Field(max_length=10)] = Field(default_factory=list)
    site_id: ResourceId | None = None
    # The parameter whose (normalised) value must be on the allow-list, and the list.
    allow_list_parameter: ParameterName | None = None
    allow_list: Annotated[list[ParameterValue], Field(max_length=MAX_ALLOW_LIST)] = Field(default_factory=list)
    pre_provisioning_hook: PreProvisioningHook | None = None
    re_enrolment: ReEnrolment = ReEnrolment.REFUSE
    # How long a claim certificate of this template lives, unless its own request says otherwise.
    claim_validity_days: int = Field(default=365, ge=1, le=3650)

    @model_validator(mode="after")
    def _placeholders_are_parameters(self) -> TemplateBody:
        texts = {"device_id": self.device_id, "name": self.name or "",
                 **{f"attributes.{k}": v for k, v in self.attributes.items()}}
        for field, text in texts.items():
            for used in PLACEHOLDER.findall(text):
                if used not in self.parameters:
                    raise ValueError(f"{field} uses {{{used}}}, which is not one of the parameters")
        if self.allow_list_parameter is not None and self.allow_list_parameter not in self.parameters:
            raise ValueError("allow_list_parameter must name one of the parameters")
        if self.allow_list and self.allow_list_parameter is None:
            raise ValueError("an allow_list needs allow_list_parameter (which parameter it holds)")
        return self

    @field_validator("allow_list")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        return sorted(set(value))


class CreateTemplate(TemplateBody):
    """POST /customer/provisioning-templates."""

    template_name: ResourceId


class Template(Record):
    """A stored template, with the counts of what it enrolled and refused, and the last refusal's reason."""

    tenant_id: str
    template_name: str
    description: str | None = None
    enabled: bool = True
    parameters: dict[str, ParameterSpec] = Field(default_factory=dict)
    device_id: str
    name: str | None = None
    attributes: dict[str, str] = Field(default_factory=dict)
    groups: list[str] = Field(default_factory=list)
    site_id: str | None = None
    allow_list_parameter: str | None = None
    allow_list: list[str] = Field(default_factory=list)
    pre_provisioning_hook: PreProvisioningHook | None = None
    re_enrolment: ReEnrolment = ReEnrolment.REFUSE
    claim_validity_days: int = 365
    created_at: datetime
    updated_at: datetime
    provisioned_count: int = 0
    refused_count: int = 0
    last_refusal: dict[str, Any] | None = None


class DryRun(Request):
    """POST /customer/provisioning-templates/{name}/dry-run: what an enrolment with these parameters would do."""

    parameters: dict[ParameterName, Annotated[str, StringConstraints(max_length=256)]] = Field(default_factory=dict)
    call_hook: StrictBool = True


class Enrolment(Record):
    """What a successful enrolment makes: the device, its attributes, groups and site."""

    template_name: str
    device_id: str
    name: str | None = None
    attributes: dict[str, str] = Field(default_factory=dict)
    groups: list[str] = Field(default_factory=list)
    site_id: str | None = None
    parameters: dict[str, str] = Field(default_factory=dict)


class DryRunResult(Record):
    """The answer of a dry run: the enrolment it would make, or why it would be refused (AWS's fields)."""

    allowed: bool
    enrolment: Enrolment | None = None
    status_code: int | None = None
    error_code: str | None = None
    error_message: str | None = None
