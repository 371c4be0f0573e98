"""The pre-provisioning hook over real HTTP: only an answer of the documented shape allows an enrolment."""
from __future__ import annotations

from typing import Any

import pytest

from chalicelib.provisioning.errors import ProvisioningRefused
from chalicelib.provisioning.hook import HookDecision, HttpsHook, decision
from tests.hook_support import HookServer, hook_server

__all__ = ["hook_server"]  # the fixture, used by name


def test_the_hook_allows_and_overrides_parameters(hook_server: HookServer) -> None:
    hook_server.answer({"allowProvisioning": True, "parameterOverrides": {"Model": "cam-2"}})
    got = HttpsHook(["127.0.0.1"]).ask(hook_server.url, 2, {"parameters": {"SerialNumber": "A1"}})
    assert got == HookDecision(True, {"Model": "cam-2"})
    assert hook_server.seen == [{"parameters": {"SerialNumber": "A1"}}]


@pytest.mark.parametrize(("status", "body", "says"), [
    (200, b"<html>ok</html>", "not JSON"),
    (200, {"allowProvisioning": "yes"}, 'boolean "allowProvisioning"'),
    (200, [True], 'boolean "allowProvisioning"'),
    (200, {"allowProvisioning": True, "parameterOverrides": {"a": 1}}, "parameterOverrides"),
    (500, {"allowProvisioning": True}, "HTTP 500"),
    (302, b"", "HTTP 302"),
])
def test_an_error_or_garbage_refuses(hook_server: HookServer, status: int, body: Any, says: str) -> None:
    hook_server.answer(body, status)
    hook_server.headers = {"Location": "http://169.254.169.254/"} if status == 302 else {}
    with pytest.raises(ProvisioningRefused) as refused:
        HttpsHook(["127.0.0.1"]).ask(hook_server.url, 2, {})
    assert says in refused.value.message and refused.value.error_code == "AccessDenied"


def test_a_hook_that_does_not_answer_in_time_refuses(hook_server: HookServer) -> None:
    hook_server.hold = True
    hook_server.answer({"allowProvisioning": True})
    with pytest.raises(ProvisioningRefused) as refused:
        HttpsHook(["127.0.0.1"]).ask(hook_server.url, 0.2, {})
    assert "did not answer within 0.2s" in refused.value.message


def test_a_hook_url_into_the_functions_own_network_is_refused(hook_server: HookServer) -> None:
    hook_server.answer({"allowProvisioning": True})
    with pytest.raises(ProvisioningRefused, match="https://"):
        HttpsHook().ask(hook_server.url, 1, {})
    with pytest.raises(ProvisioningRefused, match="not public"):
        HttpsHook().ask("https://127.0.0.1:9/hook", 1, {})
    assert hook_server.seen == []


def test_an_oversized_answer_refuses() -> None:
    with pytest.raises(ProvisioningRefused, match="more than"):
        decision(b" " * 20_000)
