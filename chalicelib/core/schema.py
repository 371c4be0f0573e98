"""Field types and base classes of the request and record models (pydantic).

Imported by the features' schemas only: a function whose cold start parses no body never loads pydantic.
"""
from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, Strict, StringConstraints

from chalicelib.core.ids import ID_PATTERN, check_id, check_printable

# The pattern documents the alphabet in JSON schemas; check_id is the check that counts.
ResourceId = Annotated[str, StringConstraints(pattern=ID_PATTERN), AfterValidator(check_id)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True),
                 AfterValidator(check_printable)]
# Longer display text (descriptions): the same rule, newlines and tabs allowed.
Description = Annotated[str, StringConstraints(max_length=1000), AfterValidator(
    lambda v: check_printable(v.replace("\n", " ").replace("\t", " ")) and v)]
JsonObject = dict[str, Any]
# Body fields are strict: JSON `true` is not 1 and `"5"` is not 5 (query strings stay lax).
StrictInt = Annotated[int, Strict()]
StrictBool = Annotated[bool, Strict()]


# defer_build: every model's validator is built on its first use, not when its module is
# imported; a function that serves one route uses a few of the models it imports.


class Request(BaseModel):
    """Base of request bodies: unknown fields are an error, so typos are not ignored."""

    model_config = ConfigDict(defer_build=True, extra="forbid", str_strip_whitespace=False)


class Record(BaseModel):
    """Base of the records repositories return and routes serialise."""

    model_config = ConfigDict(defer_build=True, extra="ignore")


class PageQuery(BaseModel):
    """Pagination query parameters shared by every listing."""

    model_config = ConfigDict(defer_build=True, extra="ignore")

    limit: int | None = Field(default=None, ge=1, le=1000)
    next_token: str | None = Field(default=None, max_length=4096)
