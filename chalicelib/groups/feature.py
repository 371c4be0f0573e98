"""Device groups: operator routes."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib.core.feature import Feature
from chalicelib.groups import routes
from chalicelib.groups.services import GroupServices

if TYPE_CHECKING:
    from pynamodb.models import Model


def models() -> tuple[type[Model], ...]:
    """Groups and their memberships."""
    from chalicelib.groups.store import GroupModel, MembershipModel
    return (GroupModel, MembershipModel)


FEATURE = Feature(name="groups", blueprints=(routes.bp,), models=models, services=GroupServices)
