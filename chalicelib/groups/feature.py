"""Device groups: operator routes, and the per-minute resume of group deletes."""
from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from chalicelib.core.feature import Feature, FunctionAccess, TableAccess
from chalicelib.groups import routes, schedule
from chalicelib.groups.services import GroupServices

if TYPE_CHECKING:
    from pynamodb.models import Model


def models() -> tuple[type[Model], ...]:
    """Groups and their memberships."""
    from chalicelib.groups.store import GroupModel, MembershipModel
    return (GroupModel, MembershipModel)


def access() -> Mapping[str, FunctionAccess]:
    """Group deletes whose run died: the due index, the memberships (Query, BatchWriteItem), the group item."""
    from chalicelib.groups.store import GroupModel, MembershipModel
    return {
        "group_deletes": FunctionAccess(tables=(
            TableAccess(GroupModel, ("Query", "UpdateItem", "DeleteItem"), ("delete_due",)),
            TableAccess(MembershipModel, ("Query", "BatchWriteItem")),
        )),
    }


FEATURE = Feature(name="groups", blueprints=(routes.bp,), schedules=(schedule.bp,), models=models,
                  services=GroupServices, access=access)
