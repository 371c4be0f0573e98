"""Every function's IAM policy has one statement per table, so its statement ids are unique (cfn-lint E3510)."""
from __future__ import annotations

import collections

from chalicelib.features import function_access
from infra.aws.iam import policy_document


def test_a_table_several_features_need_in_one_function_is_one_statement_with_all_their_actions() -> None:
    for function, access in function_access().items():
        statements = policy_document(function, access, "prod", "fleet-prod")["Statement"]
        sids = collections.Counter(s["Sid"] for s in statements)
        assert [sid for sid, n in sids.items() if n > 1] == [], function
    device_message = function_access()["device_message"]
    devices = [t for t in device_message.tables if t.model.Meta.table_suffix == "devices"]  # type: ignore[attr-defined]
    assert len(devices) == 1 and {"PutItem", "UpdateItem", "GetItem"} <= set(devices[0].actions)
