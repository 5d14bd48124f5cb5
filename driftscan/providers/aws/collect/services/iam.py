"""AWS IAM (global): roles."""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

from driftscan.providers.aws.collect.specs import (
    Found,
    Item,
    Reader,
    ResourceSpec,
    ServiceSpec,
    iso,
    tag_dict,
)

# --- IAM (global) --------------------------------------------------------------------------


def _role_tags(r: Reader, items: list[Item]) -> None:
    # ListRoles leaves tags out; the authorization details carry every role's, 100 a page,
    # instead of one ListRoleTags call per role.
    pages = r.client.get_paginator("get_account_authorization_details").paginate(Filter=["Role"])
    tags = {str(d["RoleName"]): tag_dict(d.get("Tags")) for d in pages.search("RoleDetailList[]")}
    for i in items:
        i["_tags"] = tags.get(i["RoleName"], {})


def _trust_is_public(doc: Any) -> bool:
    """An Allow statement that trusts any principal ("*") without conditions."""
    statements = doc.get("Statement", []) if isinstance(doc, dict) else []
    for st in statements if isinstance(statements, list) else [statements]:
        principal = st.get("Principal")
        aws = principal.get("AWS") if isinstance(principal, dict) else None
        anyone = principal == "*" or aws == "*" or (isinstance(aws, list) and "*" in aws)
        if st.get("Effect") == "Allow" and anyone and not st.get("Condition"):
            return True
    return False


def _role(r: Reader, role: Item) -> Found:
    trust = role.get("AssumeRolePolicyDocument")
    if isinstance(trust, str):  # botocore decodes it; a proxy or an old SDK may not
        trust = json.loads(urllib.parse.unquote(trust))
    return Found(
        name=role["RoleName"],
        tags=role.get("_tags", {}),
        attrs={
            "role_id": role.get("RoleId"),
            "path": role.get("Path"),
            "description": role.get("Description"),
            "max_session_duration": role.get("MaxSessionDuration"),
            "create_date": iso(role.get("CreateDate")),
            "trust_policy": trust,
        },
        public=_trust_is_public(trust),
    )


IAM = ServiceSpec(
    "iam",
    "iam",
    (
        ResourceSpec(
            "AWS::IAM::Role",
            "list_roles",
            "Roles",
            key=lambda r, role: str(role["Arn"]),
            build=_role,
            enrich_batch=_role_tags,
        ),
    ),
    is_global=True,
)

REGIONAL: tuple[ServiceSpec, ...] = ()
GLOBAL: tuple[ServiceSpec, ...] = (IAM,)
