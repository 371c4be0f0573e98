"""Request and answer bodies of the broker's HTTP authentication and authorization calls (EMQX shapes)."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.broker_auth.service import Result


class _Body(BaseModel):
    # Brokers send extra placeholders (peerhost, protocol...) when configured to: ignore them.
    model_config = ConfigDict(extra="ignore")


class AuthnRequest(_Body):
    """EMQX `authentication` body: {"username": "${username}", "password": "${password}", "clientid": "${clientid}"}."""

    username: str = Field(max_length=256)
    password: str = Field(default="", max_length=512)
    clientid: str = Field(default="", max_length=256)


class AuthzRequest(_Body):
    """EMQX `authorization` HTTP body: {"username": "${username}", "topic": "${topic}", "action": "${action}"}."""

    username: str = Field(max_length=256)
    topic: str = Field(min_length=1, max_length=1024)
    action: Literal["publish", "subscribe", "all"]


class Decision(BaseModel):
    """The answer body; EMQX reads `result` (and `is_superuser` on authentication)."""

    result: Result
    is_superuser: bool = False
