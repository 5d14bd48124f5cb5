"""Azure identity: ARM resource IDs compared case-insensitively, stored lower-case (design §3.2)."""

from __future__ import annotations

import re

from driftscan.providers import Identity

SUBSCRIPTION_TYPE = "microsoft.resources/subscriptions"
RESOURCE_GROUP_TYPE = "microsoft.resources/subscriptions/resourcegroups"
_AZURE_ID = re.compile(r"^/subscriptions/([^/]+)(?:/resourcegroups/([^/]+))?(.*)$", re.I)


def identify(key: str) -> Identity | None:
    """Subscription, type and name of an ARM ID, lower-cased; None for other keys."""
    m = _AZURE_ID.match(key)
    if not m:
        return None
    low = key.lower()
    return Identity(low, "azure", m.group(1).lower(), None, azure_type(low), low.rsplit("/", 1)[-1])


def azure_type(rid: str) -> str | None:
    """The lower-case ARM type of a resource ID (Resource Graph's spelling)."""
    low = rid.lower().rstrip("/")
    segs = low.split("/")
    if "providers" not in segs:
        if len(segs) == 5 and segs[3] == "resourcegroups":
            return RESOURCE_GROUP_TYPE
        if len(segs) == 3 and segs[1] == "subscriptions":
            return SUBSCRIPTION_TYPE
        return None
    i = len(segs) - 1 - segs[::-1].index("providers")
    rest = segs[i + 1 :]
    if len(rest) < 3:
        return None
    # namespace/type/name[/subtype/subname...] → namespace/type[/subtype...]
    return "/".join([rest[0], *rest[1::2]])


def owns_type(pattern: str) -> bool:
    """ARM types are Azure's (a subscription slice reads them all through Resource Graph)."""
    return pattern.lower().startswith("microsoft.")
