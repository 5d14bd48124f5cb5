"""Delta: what changed in the live estate between two scans, with attribute detail."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import driftscan.store.drift as sd
from driftscan.config import IgnoreRule
from driftscan.desired.declaration import comparable
from driftscan.drift.changes import doc_changes, ignored_paths
from driftscan.errors import StoreError
from driftscan.redaction import fingerprint_key_id
from driftscan.store import Store


@dataclass
class ScanDelta:
    """What changed in the live estate from scan `against` to scan `scan_id`."""

    scan_id: int
    against: int
    status: str
    changes: list[dict[str, Any]] = field(default_factory=list)
    # Fingerprints that differ only in their key id: the fingerprint key was rotated between
    # the scans, so whether the secret changed cannot be told. Counted, never shown as a change.
    rekeyed: int = 0

    def doc(self) -> dict[str, Any]:
        return {"scan": self.scan_id, "against": self.against, "changes": self.changes}


def _rekeyed(change: dict[str, Any]) -> bool:
    old, new = change.get("old"), change.get("new")
    a, b = fingerprint_key_id(old or ""), fingerprint_key_id(new or "")
    return (
        isinstance(old, str) and isinstance(new, str) and a is not None and b is not None and a != b
    )


def _doc(r: dict[str, Any], side: str) -> dict[str, Any]:
    attrs = json.loads(r[f"{side}_attrs"])
    doc = comparable(
        attrs, json.loads(r[f"{side}_tags"]), r[f"{side}_encrypted"], r[f"{side}_public"]
    )
    doc.update(name=r[f"{side}_name"], region=r[f"{side}_region"], error=r[f"{side}_error"])
    return doc


def between(
    store: Store, scan_id: int | None, against: int, ignore: Sequence[IgnoreRule] = ()
) -> ScanDelta:
    """Appeared / disappeared / changed (with path detail) between two scans."""
    n = scan_id if scan_id is not None else sd.latest_scan(store)
    if n is None:
        raise StoreError("the store holds no scans yet; run `driftscan scan` first")
    rec = store.scan(n)
    store.scan(against)  # must exist
    out: list[dict[str, Any]] = []
    rekeyed = 0
    for r in sd.scan_delta(store, n, against):
        item: dict[str, Any] = {
            "resource": r["key"], "type": r["type"], "provider": r["provider"],
            "kind": r["kind"], "changes": [],
        }  # fmt: skip
        if r["kind"] == "changed":
            ig = ignored_paths(ignore, r["type"])
            changes = doc_changes(_doc(r, "old"), _doc(r, "new"), ignore_paths=ig)
            item["changes"] = [c for c in changes if not _rekeyed(c)]
            rekeyed += len(changes) - len(item["changes"])
            if not item["changes"]:
                continue  # only ignored (volatile) attributes moved, or fingerprints re-keyed
        out.append(item)
    return ScanDelta(n, against, rec.status, out, rekeyed)


__all__ = ["ScanDelta", "between"]
