"""The pre-provisioning hook: an HTTPS endpoint of the tenant that allows (or not) each enrolment.

It is asked like AWS IoT's pre-provisioning hook Lambda: a JSON body with the claim
certificate's id, the template and the parameters; it answers `{"allowProvisioning": bool,
"parameterOverrides": {...}}`. A timeout, an error, a redirect or an answer of any other shape
refuses the enrolment: no answer is no permission. The URL is the tenant's, so the call must
not reach the function's own network: plain HTTP, and addresses that are not public, are
refused unless the stage names the host in `FLEET_PROVISIONING_HOOK_INSECURE_HOSTS` (tests,
a hook on the same private network).
"""
from __future__ import annotations

import ipaddress
import json
import socket
import urllib.error
import urllib.request
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

from chalicelib.provisioning.errors import ProvisioningRefused

MAX_ANSWER_BYTES = 16 * 1024


@dataclass(frozen=True)
class HookDecision:
    """What the hook answered: allowed, and the parameters it replaces."""

    allowed: bool
    overrides: dict[str, str] = field(default_factory=dict)


class Hook(Protocol):
    """The port the enrolment asks; the adapter below calls HTTPS."""

    def ask(self, url: str, timeout_s: float, event: Mapping[str, Any]) -> HookDecision:
        """The hook's decision; ProvisioningRefused when it cannot be had (timeout, error, garbage)."""


class HttpsHook:
    """Calls the hook over HTTPS with urllib: no redirects followed, a bounded answer, a timeout."""

    def __init__(self, insecure_hosts: Collection[str] = ()) -> None:
        self._insecure = frozenset(insecure_hosts)

    def ask(self, url: str, timeout_s: float, event: Mapping[str, Any]) -> HookDecision:
        """POST the event; see the module docstring for what refuses."""
        self._check_target(url)
        request = urllib.request.Request(url, data=json.dumps(event).encode(), method="POST",
                                         headers={"Content-Type": "application/json"})
        opener = urllib.request.build_opener(_NoRedirect)
        try:
            with opener.open(request, timeout=timeout_s) as resp:
                raw = resp.read(MAX_ANSWER_BYTES + 1)
        except TimeoutError as exc:
            raise _refused(f"did not answer within {timeout_s:g}s") from exc
        except urllib.error.HTTPError as exc:
            raise _refused(f"answered HTTP {exc.code}") from exc
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            if isinstance(reason, TimeoutError | socket.timeout):
                raise _refused(f"did not answer within {timeout_s:g}s") from exc
            raise _refused("could not be reached") from exc
        return decision(raw)

    def _check_target(self, url: str) -> None:
        parts = urlsplit(url)
        host = parts.hostname or ""
        if host in self._insecure:
            return
        if parts.scheme != "https":
            raise _refused("must be an https:// URL")
        try:
            found = socket.getaddrinfo(host, parts.port or 443, proto=socket.IPPROTO_TCP)
            addresses = {str(info[4][0]) for info in found}
        except OSError as exc:
            raise _refused("host name does not resolve") from exc
        for address in addresses:
            if not ipaddress.ip_address(address.split("%")[0]).is_global:
                raise _refused("resolves to an address that is not public")


def decision(raw: bytes) -> HookDecision:
    """Read the hook's answer; anything but the documented shape refuses."""
    if len(raw) > MAX_ANSWER_BYTES:
        raise _refused(f"answered more than {MAX_ANSWER_BYTES} bytes")
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise _refused("answered something that is not JSON") from exc
    if not isinstance(body, dict) or not isinstance(body.get("allowProvisioning"), bool):
        raise _refused('answered without a boolean "allowProvisioning"')
    overrides = body.get("parameterOverrides") or {}
    if not isinstance(overrides, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                                  for k, v in overrides.items()):
        raise _refused('answered "parameterOverrides" that is not an object of strings')
    return HookDecision(body["allowProvisioning"], dict(overrides))


def _refused(why: str) -> ProvisioningRefused:
    return ProvisioningRefused(f"the pre-provisioning hook {why}: no device was made", status_code=403,
                               error_code="AccessDenied", field="pre_provisioning_hook")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None
