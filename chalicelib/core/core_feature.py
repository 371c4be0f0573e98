"""What every route stands on, declared like a feature: the one error shape, the request's correlation id
and access line, the operator authorizer, and the idempotency records every create shares."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib.core.auth import routes as auth
from chalicelib.core.feature import Feature
from chalicelib.core.http import edge
from chalicelib.core.observability import routes as observability

if TYPE_CHECKING:
    from pynamodb.models import Model


def models() -> tuple[type[Model], ...]:
    """The idempotency records (client tokens of creates)."""
    from chalicelib.core.storage.idempotency import IdempotencyModel
    return (IdempotencyModel,)


CORE: Feature[None] = Feature(name="core", blueprints=(edge.bp, observability.bp, auth.bp), models=models)
