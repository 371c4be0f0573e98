"""The pure rules of an enrolment: parameters checked and normalised, the allow-list, the template rendered."""
from __future__ import annotations

import re
from collections.abc import Mapping

from chalicelib.core.ids import ID_ALPHABET, is_valid_id
from chalicelib.provisioning.errors import ProvisioningRefused
from chalicelib.provisioning.schemas import PLACEHOLDER, Enrolment, Normalize, Template

_MAC_SEPARATORS = re.compile(r"[:\-.]")
_MAC = re.compile(r"[0-9a-f]{12}")
MAX_VALUE = 128


def normalized(name: str, value: str, how: Normalize) -> str:
    """The value as the template uses it: a MAC address as 12 lower-case hex digits."""
    if how is Normalize.MAC:
        mac = _MAC_SEPARATORS.sub("", value).lower()
        if not _MAC.fullmatch(mac):
            raise ProvisioningRefused(f"parameter {name} must be a MAC address (12 hex digits, separators allowed)",
                                      field=f"parameters.{name}")
        return mac
    return value


def checked_parameters(template: Template, given: Mapping[str, object]) -> dict[str, str]:
    """The device's parameters, normalised and matched against the template's; a refusal names the first wrong one."""
    declared = template.parameters
    for name in given:
        if name not in declared:
            known = ", ".join(sorted(declared)) or "none"
            raise ProvisioningRefused(f"parameter {str(name)[:64]} is not one of template {template.template_name}'s "
                                      f"parameters ({known})", field=f"parameters.{str(name)[:64]}")
    values: dict[str, str] = {}
    for name, spec in sorted(declared.items()):
        raw = given.get(name)
        if raw is None:
            if spec.required:
                raise ProvisioningRefused(f"parameter {name} is required by template {template.template_name}",
                                          field=f"parameters.{name}")
            continue
        if not isinstance(raw, str) or not raw or len(raw) > MAX_VALUE or not raw.isprintable():
            raise ProvisioningRefused(f"parameter {name} must be a string of 1 to {MAX_VALUE} printable characters",
                                      field=f"parameters.{name}")
        value = normalized(name, raw, spec.normalize)
        if spec.pattern is not None and re.fullmatch(spec.pattern, value) is None:
            raise ProvisioningRefused(f"parameter {name} must match {spec.pattern}", field=f"parameters.{name}")
        values[name] = value
    return values


def check_allow_list(template: Template, parameters: Mapping[str, str]) -> None:
    """Refuse (403) a device whose allow-listed parameter is missing from the template's allow-list."""
    name = template.allow_list_parameter
    if name is None:
        return
    value = parameters.get(name)
    allowed = {normalized(name, v, template.parameters[name].normalize) for v in template.allow_list}
    if value is None or value not in allowed:
        raise ProvisioningRefused(f"the {name} of this device is not on template {template.template_name}'s allow-list",
                                  status_code=403, error_code="AccessDenied", field=f"parameters.{name}")


def render(text: str, parameters: Mapping[str, str]) -> str:
    """`text` with each {Parameter} replaced by its value (an optional parameter not sent renders empty)."""
    return PLACEHOLDER.sub(lambda m: parameters.get(m.group(1), ""), text)


def enrolment(template: Template, parameters: Mapping[str, str]) -> Enrolment:
    """What the enrolment makes, rendered from the template; the device id must come out as an id."""
    device_id = render(template.device_id, parameters)
    if not is_valid_id(device_id):
        raise ProvisioningRefused(f"template {template.template_name}'s device_id {template.device_id} renders an "
                                  f"invalid id; ids use {ID_ALPHABET}", field="device_id")
    name = render(template.name, parameters) if template.name else None
    return Enrolment(template_name=template.template_name, device_id=device_id, name=name or None,
                     attributes={k: render(v, parameters) for k, v in template.attributes.items()},
                     groups=list(template.groups), site_id=template.site_id, parameters=dict(parameters))
