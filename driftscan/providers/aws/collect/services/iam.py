"""AWS IAM (global): roles, users, groups, customer-managed policies, the account's password policy and summary."""

from __future__ import annotations

import csv
import io
import json
import time
import urllib.parse
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from driftscan.providers.aws.collect.specs import (
    Found,
    Item,
    Reader,
    ResourceSpec,
    ServiceSpec,
    is_denied,
    iso,
    missing,
    optional_get,
    tag_dict,
)
from driftscan.redaction import Fingerprinter

# --- shared helpers ------------------------------------------------------------------------


def utc_iso(value: Any) -> str | None:
    """A timestamp as ISO 8601 in UTC, so rules can take its date with left(x, 10) whatever the
    scanning host's zone (botocore hands out timestamps in local time)."""
    if isinstance(value, datetime):
        return (value if value.tzinfo is None else value.astimezone(UTC)).isoformat()
    return iso(value)


def _document(doc: Any) -> Any:
    # botocore decodes IAM's URL-encoded policy documents; a proxy or an old SDK may not.
    if isinstance(doc, str):
        return json.loads(urllib.parse.unquote(doc))
    return doc


def _inline(
    fingerprint: Fingerprinter, policies: list[Item] | None
) -> tuple[list[str], dict[str, str]]:
    """Inline policies: their names, and a fingerprint of each document (a document can carry a
    secret in a condition value; the fingerprint still shows when it changes)."""
    names, prints = [], {}
    for p in policies or []:
        name = str(p["PolicyName"])
        names.append(name)
        doc = _document(p.get("PolicyDocument"))
        prints[name] = fingerprint(json.dumps(doc, sort_keys=True, separators=(",", ":")))
    return sorted(names), prints


def _attached(policies: list[Item] | None) -> tuple[list[str], list[str]]:
    """Attached managed policies: sorted names and sorted ARNs (names repeat across paths)."""
    items = policies or []
    return sorted(str(p.get("PolicyName")) for p in items), sorted(
        str(p.get("PolicyArn")) for p in items
    )


def _details(r: Reader, kind: str, field: str) -> Iterator[Item]:
    """One kind of GetAccountAuthorizationDetails (users, groups, roles, policies with their
    versions), a page of up to 100 at a time, instead of several calls per entity."""
    pages = r.client.get_paginator("get_account_authorization_details").paginate(Filter=[kind])
    yield from (d for d in pages.search(f"{field}[]") if d is not None)


# --- roles ---------------------------------------------------------------------------------


def _role_tags(r: Reader, items: list[Item]) -> None:
    # ListRoles leaves tags and attached policies out; the authorization details carry every
    # role's, 100 a page, instead of ListRoleTags and ListAttachedRolePolicies calls per role.
    details = {str(d["RoleName"]): d for d in _details(r, "Role", "RoleDetailList")}
    for i in items:
        d = details.get(i["RoleName"])
        i["_tags"] = tag_dict((d or {}).get("Tags"))
        # None: the role was created after the listing; its policies are unknown, not none.
        i["_attached"] = None if d is None else _attached(d.get("AttachedManagedPolicies"))


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
    trust = _document(role.get("AssumeRolePolicyDocument"))
    attached = role.get("_attached")
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
            "attached_policies": None if attached is None else attached[0],
            "attached_policy_arns": None if attached is None else attached[1],
        },
        public=_trust_is_public(trust),
    )


# --- the credential report -----------------------------------------------------------------

# How long to wait for IAM to generate the credential report (it takes seconds, more for
# thousands of users) before reading the account without it.
REPORT_WAIT_S = 30.0
_REPORT_PENDING = ("ReportInProgress", "ReportNotPresent", "ReportExpired")
# The report's ways of saying "no value".
_NO_VALUE = frozenset({"", "N/A", "no_information", "not_supported"})
ROOT_ROW = "<root_account>"


def _cell(value: str | None) -> str | bool | None:
    if value is None or value in _NO_VALUE:
        return None
    return {"true": True, "false": False}.get(value, value)


def credential_report(r: Reader) -> tuple[str, dict[str, dict[str, str | bool | None]], str | None]:
    """The account's credential report as (status, rows by user name, generated time).

    GenerateCredentialReport is needed first (it returns at once when a report younger than
    four hours exists). Status is "read", "denied" (the role lacks the two report actions) or
    "not ready" (not generated within REPORT_WAIT_S); rows are empty unless read."""
    deadline, delay = time.monotonic() + REPORT_WAIT_S, 0.2
    try:
        while True:
            state = r.client.generate_credential_report().get("State")
            if state == "COMPLETE":
                try:
                    report = r.client.get_credential_report()
                    break
                except ClientError as exc:
                    if not missing(exc, *_REPORT_PENDING):
                        raise
            if time.monotonic() + delay > deadline:
                return "not ready", {}, None
            time.sleep(delay)
            delay = min(delay * 2, 4.0)
    except ClientError as exc:
        if is_denied(exc):
            return "denied", {}, None
        raise
    content = report.get("Content") or b""
    text = content.decode("utf-8") if isinstance(content, bytes) else str(content)
    rows = {
        str(row.get("user")): {k: _cell(v) for k, v in row.items() if k != "user"}
        for row in csv.DictReader(io.StringIO(text))
    }
    return "read", rows, utc_iso(report.get("GeneratedTime"))


# --- users ---------------------------------------------------------------------------------


def _users(r: Reader) -> Iterator[Item]:
    return _details(r, "User", "UserDetailList")


def _user_report(r: Reader, items: list[Item]) -> None:
    """The credential report's per-user fields, one report for every user of the account."""
    status, rows, _ = credential_report(r)
    for i in items:
        i["_report"] = rows.get(str(i["UserName"])) if status == "read" else None


def _user_enrich(r: Reader, item: Item) -> None:
    """Console access (a login profile), MFA devices, and each access key with its last use."""
    user = item["UserName"]
    profile = optional_get(r.client.get_login_profile, ("NoSuchEntity",), UserName=user)
    item["_login"] = None if profile is None else profile.get("LoginProfile", {})
    mfa = r.client.get_paginator("list_mfa_devices").paginate(UserName=user)
    item["_mfa"] = [
        {"serial_number": d.get("SerialNumber"), "enable_date": utc_iso(d.get("EnableDate"))}
        for d in mfa.search("MFADevices[]")
        if d is not None
    ]
    keys = []
    pages = r.client.get_paginator("list_access_keys").paginate(UserName=user)
    for k in pages.search("AccessKeyMetadata[]"):
        if k is None:
            continue
        last = r.client.get_access_key_last_used(AccessKeyId=k["AccessKeyId"]).get(
            "AccessKeyLastUsed", {}
        )
        keys.append(
            {
                "access_key_id": k["AccessKeyId"],
                "status": k.get("Status"),
                "create_date": utc_iso(k.get("CreateDate")),
                # None: never used (AWS answers "N/A" for the service and region then).
                "last_used_date": utc_iso(last.get("LastUsedDate")),
                "last_used_service": _cell(last.get("ServiceName")),
                "last_used_region": _cell(last.get("Region")),
            }
        )
    item["_keys"] = sorted(keys, key=lambda k: (str(k["create_date"]), k["access_key_id"]))


def _user(r: Reader, u: Item) -> Found:
    login, report = u["_login"], u.get("_report")
    inline, inline_prints = _inline(r.fingerprint, u.get("UserPolicyList"))
    attached, attached_arns = _attached(u.get("AttachedManagedPolicies"))

    def reported(column: str) -> Any:
        return None if report is None else report.get(column)

    return Found(
        name=u["UserName"],
        tags=tag_dict(u.get("Tags")),
        attrs={
            "user_id": u.get("UserId"),
            "path": u.get("Path"),
            "create_date": utc_iso(u.get("CreateDate")),
            "permissions_boundary": (u.get("PermissionsBoundary") or {}).get(
                "PermissionsBoundaryArn"
            ),
            "groups": sorted(u.get("GroupList") or []),
            "attached_policies": attached,
            "attached_policy_arns": attached_arns,
            "inline_policies": inline,
            "inline_policy_fingerprints": inline_prints,
            # Console access: the user has a login profile (a password).
            "console_access": login is not None,
            "login_profile_create_date": None
            if login is None
            else utc_iso(login.get("CreateDate")),
            "password_reset_required": None
            if login is None
            else login.get("PasswordResetRequired"),
            "mfa_devices": u["_mfa"],
            "mfa_enabled": bool(u["_mfa"]),
            # Each key: access_key_id, status, create_date, last_used_date (null: never used),
            # last_used_service, last_used_region. Ages are the rules' to compute.
            "access_keys": u["_keys"],
            # From the credential report; null where it could not be read (see the account
            # summary's credential_report).
            "password_enabled": reported("password_enabled"),
            "password_last_used": reported("password_last_used"),
            "password_last_changed": reported("password_last_changed"),
            "password_next_rotation": reported("password_next_rotation"),
            "mfa_active": reported("mfa_active"),
        },
    )


# --- groups --------------------------------------------------------------------------------


def _group_members(r: Reader, items: list[Item]) -> None:
    # Members from the users' group lists, a page of users at a time, instead of a GetGroup
    # call per group.
    members: dict[str, list[str]] = {}
    for u in _users(r):
        for g in u.get("GroupList") or []:
            members.setdefault(str(g), []).append(str(u["UserName"]))
    for i in items:
        i["_members"] = sorted(members.get(str(i["GroupName"]), []))


def _group(r: Reader, g: Item) -> Found:
    inline, inline_prints = _inline(r.fingerprint, g.get("GroupPolicyList"))
    attached, attached_arns = _attached(g.get("AttachedManagedPolicies"))
    return Found(
        name=g["GroupName"],
        attrs={
            "group_id": g.get("GroupId"),
            "path": g.get("Path"),
            "create_date": utc_iso(g.get("CreateDate")),
            "members": g["_members"],
            "attached_policies": attached,
            "attached_policy_arns": attached_arns,
            "inline_policies": inline,
            "inline_policy_fingerprints": inline_prints,
        },
    )


# --- customer-managed policies -------------------------------------------------------------


def _policy_tags(r: Reader, item: Item) -> None:
    pages = r.client.get_paginator("list_policy_tags").paginate(PolicyArn=item["Arn"])
    item["_tags"] = tag_dict(pages.search("Tags[]"))


def _policy(r: Reader, p: Item) -> Found:
    versions = p.get("PolicyVersionList") or []
    default = next(
        (v for v in versions if v.get("IsDefaultVersion")),
        next((v for v in versions if v.get("VersionId") == p.get("DefaultVersionId")), None),
    )
    return Found(
        # The authorization details name every policy, except where an endpoint leaves the
        # name out (moto): the ARN's last segment is the name.
        name=p.get("PolicyName") or str(p["Arn"]).rsplit("/", 1)[-1],
        tags=p.get("_tags", {}),
        attrs={
            "policy_id": p.get("PolicyId"),
            "path": p.get("Path"),
            "description": p.get("Description"),
            "default_version_id": p.get("DefaultVersionId"),
            "version_count": len(versions),
            "attachment_count": p.get("AttachmentCount"),
            "permissions_boundary_usage_count": p.get("PermissionsBoundaryUsageCount"),
            "is_attachable": p.get("IsAttachable"),
            "create_date": utc_iso(p.get("CreateDate")),
            "update_date": utc_iso(p.get("UpdateDate")),
            # The default version's document: what the policy grants today.
            "document": None if default is None else _document(default.get("Document")),
        },
    )


# --- the account: password policy and summary (one resource each per account) ---------------


def _singleton(r: Reader) -> Iterator[Item]:
    # The account's one resource of the type; its Get runs as the enrichment, so a denied Get
    # marks only this resource not assessed, not the whole IAM slice.
    yield {}


def _password_policy_enrich(r: Reader, item: Item) -> None:
    got = optional_get(r.client.get_account_password_policy, ("NoSuchEntity",))
    item["_policy"] = None if got is None else got.get("PasswordPolicy", {})


# Attribute ← PasswordPolicy field.
_PASSWORD_FIELDS = {
    "minimum_password_length": "MinimumPasswordLength",
    "require_symbols": "RequireSymbols",
    "require_numbers": "RequireNumbers",
    "require_uppercase": "RequireUppercaseCharacters",
    "require_lowercase": "RequireLowercaseCharacters",
    "allow_users_to_change_password": "AllowUsersToChangePassword",
    "expire_passwords": "ExpirePasswords",
    "max_password_age": "MaxPasswordAge",
    "password_reuse_prevention": "PasswordReusePrevention",
    "hard_expiry": "HardExpiry",
}


def _password_policy(r: Reader, item: Item) -> Found:
    policy = item["_policy"]
    # No password policy is a finding of its own, so it is a resource (configured=false) with
    # every setting null (IAM's defaults then apply), not an absence.
    return Found(
        name="account-password-policy",
        attrs={
            "configured": policy is not None,
            **{a: None if policy is None else policy.get(f) for a, f in _PASSWORD_FIELDS.items()},
        },
    )


def _root_virtual_mfa(r: Reader) -> bool | None:
    """Whether the root user's MFA device is a virtual one (CIS wants hardware for root): an
    assigned virtual device of the root user; None when ListVirtualMFADevices was denied."""
    root = f"arn:{r.partition}:iam::{r.account}:root"
    pages = r.client.get_paginator("list_virtual_mfa_devices").paginate(AssignmentStatus="Assigned")
    try:
        return any(
            (d.get("User") or {}).get("Arn") == root
            or str(d.get("SerialNumber", "")).endswith(":mfa/root-account-mfa-device")
            for d in pages.search("VirtualMFADevices[]")
            if d is not None
        )
    except ClientError as exc:
        if not is_denied(exc):
            raise
        return None


def _summary_enrich(r: Reader, item: Item) -> None:
    item["_summary"] = r.client.get_account_summary().get("SummaryMap", {})
    status, rows, generated = credential_report(r)
    item.update(_report=status, _root=rows.get(ROOT_ROW), _at=generated)
    item["_root_virtual_mfa"] = _root_virtual_mfa(r)


# Attribute ← SummaryMap entry (counts; the quotas are left out).
_SUMMARY_COUNTS = {
    "users": "Users",
    "groups": "Groups",
    "roles": "Roles",
    "policies": "Policies",
    "mfa_devices": "MFADevices",
    "mfa_devices_in_use": "MFADevicesInUse",
    "providers": "Providers",
    "server_certificates": "ServerCertificates",
}
# Attribute ← the root row of the credential report.
_ROOT_FIELDS = {
    "root_password_last_used": "password_last_used",
    "root_mfa_active": "mfa_active",
    "root_access_key_1_active": "access_key_1_active",
    "root_access_key_1_last_used_date": "access_key_1_last_used_date",
    "root_access_key_2_active": "access_key_2_active",
    "root_access_key_2_last_used_date": "access_key_2_last_used_date",
}


def _flag(summary: dict[str, Any], name: str) -> bool | None:
    return None if summary.get(name) is None else summary[name] == 1


def _summary(r: Reader, item: Item) -> Found:
    summary, root = item["_summary"], item["_root"]
    return Found(
        name="account-summary",
        attrs={
            "root_mfa_enabled": _flag(summary, "AccountMFAEnabled"),
            "root_access_keys_present": _flag(summary, "AccountAccessKeysPresent"),
            "root_signing_certificates_present": _flag(
                summary, "AccountSigningCertificatesPresent"
            ),
            **{a: summary.get(f) for a, f in _SUMMARY_COUNTS.items()},
            # "read", "denied" or "not ready": whether the per-user credential fields (and the
            # root_* ones below) could be read at all.
            "credential_report": item["_report"],
            "credential_report_generated": item["_at"],
            # Whether the report had a root row at all (null: the report was not read); a
            # root_* field below that is null in a present row means never used / no value.
            "root_in_credential_report": None if item["_report"] != "read" else root is not None,
            # An assigned virtual MFA device of root (false: hardware, or no MFA at all; see
            # root_mfa_enabled); null when the devices could not be listed.
            "root_virtual_mfa": item["_root_virtual_mfa"],
            **{a: None if root is None else root.get(f) for a, f in _ROOT_FIELDS.items()},
        },
    )


def _account_key(resource: str) -> Callable[[Reader, Item], str]:
    return lambda r, item: f"arn:{r.partition}:iam::{r.account}:{resource}"


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
        ResourceSpec(
            "AWS::IAM::User",
            "get_account_authorization_details",
            "UserDetailList",
            key=lambda r, u: str(u["Arn"]),
            build=_user,
            lister=_users,
            enrich=_user_enrich,
            enrich_batch=_user_report,
        ),
        ResourceSpec(
            "AWS::IAM::Group",
            "get_account_authorization_details",
            "GroupDetailList",
            key=lambda r, g: str(g["Arn"]),
            build=_group,
            lister=lambda r: _details(r, "Group", "GroupDetailList"),
            enrich_batch=_group_members,
        ),
        ResourceSpec(
            # Customer-managed policies only (Scope=Local); AWS-managed ones are AWS's.
            "AWS::IAM::ManagedPolicy",
            "get_account_authorization_details",
            "Policies",
            key=lambda r, p: str(p["Arn"]),
            build=_policy,
            lister=lambda r: _details(r, "LocalManagedPolicy", "Policies"),
            enrich=_policy_tags,
        ),
        ResourceSpec(
            # A singleton per account, keyed arn:aws:iam::<account>:account-password-policy.
            "AWS::IAM::AccountPasswordPolicy",
            "get_account_password_policy",
            "PasswordPolicy",
            key=_account_key("account-password-policy"),
            build=_password_policy,
            lister=_singleton,
            enrich=_password_policy_enrich,
        ),
        ResourceSpec(
            # A singleton per account, keyed arn:aws:iam::<account>:account-summary: root MFA,
            # root access keys, entity counts, and the credential report's root row.
            "AWS::IAM::AccountSummary",
            "get_account_summary",
            "SummaryMap",
            key=_account_key("account-summary"),
            build=_summary,
            lister=_singleton,
            enrich=_summary_enrich,
        ),
    ),
    is_global=True,
)

REGIONAL: tuple[ServiceSpec, ...] = ()
GLOBAL: tuple[ServiceSpec, ...] = (IAM,)
