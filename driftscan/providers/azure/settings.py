"""Per-subscription settings CIS and PCI ask about, read as resources: Defender for Cloud pricing
tiers, the activity log's diagnostic settings, role assignments and security contacts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from driftscan.errors import SourceError
from driftscan.providers.azure.client import Arm, HttpFailure
from driftscan.providers.azure.facets import BUILTIN_ROLES, SPECS


@dataclass(frozen=True)
class Setting:
    """One subscription-level list: its path below /subscriptions/{id} and its ARM type."""

    name: str
    path: str
    type: str

    @property
    def api_version(self) -> str:
        return SPECS[self.type].api_version


SETTINGS = (
    Setting("pricings", "/providers/Microsoft.Security/pricings", "microsoft.security/pricings"),
    Setting(
        "diagnosticSettings",
        "/providers/Microsoft.Insights/diagnosticSettings",
        "microsoft.insights/diagnosticsettings",
    ),
    Setting(
        "roleAssignments",
        "/providers/Microsoft.Authorization/roleAssignments",
        "microsoft.authorization/roleassignments",
    ),
    Setting(
        "securityContacts",
        "/providers/Microsoft.Security/securityContacts",
        "microsoft.security/securitycontacts",
    ),
)
OWNER_ROLE = next(k for k, v in BUILTIN_ROLES.items() if v == "Owner")


@dataclass
class SubscriptionSettings:
    """What was read: the setting documents (each becomes a resource), a summary for the
    subscription's own resource, and the failures that make the subscription incomplete."""

    docs: list[tuple[Setting, dict[str, Any]]] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    failures: list[SourceError] = field(default_factory=list)


def _props(doc: dict[str, Any]) -> dict[str, Any]:
    p = doc.get("properties")
    return p if isinstance(p, dict) else {}


def read_settings(arm: Arm, sub: str) -> SubscriptionSettings:
    """Read every setting of one subscription. An API the endpoint does not offer is recorded
    as unread (its summary fields null) without failing the subscription; any other failure
    fails it, since a missing list would pass for "no owners" or "no contacts"."""
    out = SubscriptionSettings()
    unread: dict[str, str] = {}
    lists: dict[str, list[dict[str, Any]] | None] = {}
    prefix = f"/subscriptions/{sub}".lower()
    for setting in SETTINGS:
        try:
            items = arm.list_all(f"/subscriptions/{sub}{setting.path}", setting.api_version)
        except HttpFailure as exc:
            unread[setting.name] = f"{exc.reason}: {exc.message}"
            lists[setting.name] = None
            if exc.reason != "unsupported":
                out.failures.append(exc)
            continue
        docs = [i for i in items if isinstance(i, dict) and isinstance(i.get("id"), str)]
        if len(docs) != len(items):
            out.failures.append(
                SourceError(f"{setting.name}: an entry without an id in the list", reason="parse")
            )
        lists[setting.name] = docs
        for doc in docs:
            # Assignments made at a management group (or the root) are listed in every
            # subscription below it; they are counted here but stored by no subscription.
            if setting.name == "roleAssignments" and not doc["id"].lower().startswith(prefix + "/"):
                continue
            out.docs.append((setting, doc))
    out.summary = _summary(lists, prefix)
    out.summary["unread"] = unread
    return out


def _summary(lists: dict[str, list[dict[str, Any]] | None], prefix: str) -> dict[str, Any]:
    pricings, diags = lists.get("pricings"), lists.get("diagnosticSettings")
    roles, contacts = lists.get("roleAssignments"), lists.get("securityContacts")
    summary: dict[str, Any] = {
        # A list, not a mapping by plan: plan names such as KeyVaults read as secret names.
        "defenderPlans": None
        if pricings is None
        else sorted(
            ({"plan": str(p.get("name")), "tier": _props(p).get("pricingTier")} for p in pricings),
            key=lambda x: x["plan"],
        ),
        "activityLogExported": None
        if diags is None
        else any(
            any(
                isinstance(x, dict) and x.get("enabled") is True
                for x in _props(d).get("logs") or []
            )
            and any(
                _props(d).get(k)
                for k in ("workspaceId", "storageAccountId", "eventHubAuthorizationRuleId")
            )
            for d in diags
        ),
        "securityContactEmails": None
        if contacts is None
        else sum(1 for c in contacts if str(_props(c).get("emails") or "").strip()),
    }
    if roles is None:
        summary.update(owners=None, ownersInherited=None, externalPrincipals=None)
    else:

        def is_owner(r: dict[str, Any]) -> bool:
            role = str(_props(r).get("roleDefinitionId") or "").rsplit("/", 1)[-1].lower()
            return role == OWNER_ROLE

        def scope(r: dict[str, Any]) -> str:
            return str(_props(r).get("scope") or "").lower().rstrip("/")

        summary["owners"] = sum(1 for r in roles if is_owner(r) and scope(r) == prefix)
        summary["ownersInherited"] = sum(
            1 for r in roles if is_owner(r) and not scope(r).startswith(prefix)
        )
        summary["externalPrincipals"] = sum(
            1 for r in roles if _props(r).get("principalType") == "ForeignGroup"
        )
    return summary
