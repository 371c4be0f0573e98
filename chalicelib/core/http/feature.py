"""What every route stands on: the one error shape, the request's correlation id and the operator authorizer."""
from __future__ import annotations

from chalicelib.core.auth import routes as auth
from chalicelib.core.http import edge
from chalicelib.core.observability import routes as observability
from chalicelib.features import Feature

FEATURE = Feature(blueprints=(edge.bp, observability.bp, auth.bp))
