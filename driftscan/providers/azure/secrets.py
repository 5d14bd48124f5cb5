"""The Azure collector's redaction of what it stores, and the same redaction for declared attributes."""

from __future__ import annotations

from typing import Any

from driftscan.providers.azure.keys import SUBSCRIPTION_TYPE
from driftscan.redaction import Fingerprinter, redact_tree

# Inside a secret subtree (connection strings, app settings) these keys describe an entry.
KEEP_IN_SECRETS = frozenset({"name", "type", "slotSetting"})
# The parts of a resource document kept beside `properties`.
TOP_LEVEL = ("kind", "sku", "identity", "managedBy", "plan", "zones")


def redact(
    value: Any, fingerprint: Fingerprinter, *, keep: frozenset[str] = KEEP_IN_SECRETS
) -> Any:
    """Fingerprint string values under secret-looking keys (customData, passwords, app settings)."""
    return redact_tree(value, fingerprint, keep=keep)


def redact_declared(rtype: str | None, attrs: dict[str, Any], fp: Fingerprinter) -> dict[str, Any]:
    """Declared attributes redacted as the collector's `_build` redacts each part: the
    document's `properties` and top-level parts keeping entry names, the extra reads
    (`appSettings`, ...) keeping none; a subscription's attributes whole, keeping names.

    The collector's derived attributes keep names too, but are flat values (no entry a
    `keep` could spare), so they redact alike either way."""
    out: dict[str, Any] = {}
    for k, v in attrs.items():
        names = (rtype or "").lower() == SUBSCRIPTION_TYPE or k == "properties" or k in TOP_LEVEL
        out.update(redact({k: v}, fp, keep=KEEP_IN_SECRETS if names else frozenset()))
    return out
