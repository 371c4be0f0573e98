"""The side table of the API contract: (method, path) of each Chalice route -> its models.

Routes stay as they are; this table says what each one takes and answers. The document
builder walks the Chalice route table and looks every route up here, so a route without an
entry fails the contract test instead of silently missing from the document.
"""
from __future__ import annotations

from chalicelib.apidocs.control_operations import CONTROL
from chalicelib.apidocs.operation import Auth, Operation
from chalicelib.apidocs.registry_operations import REGISTRY

__all__ = ["OPERATIONS", "Auth", "Operation"]

OPERATIONS: dict[tuple[str, str], Operation] = {**REGISTRY, **CONTROL}
