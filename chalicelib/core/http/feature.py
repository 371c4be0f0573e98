"""What every route stands on: the one error shape and the operator authorizer."""
from __future__ import annotations

from chalicelib.core.auth import routes as auth
from chalicelib.core.http import edge
from chalicelib.features import Feature

FEATURE = Feature(blueprints=(edge.bp, auth.bp))
