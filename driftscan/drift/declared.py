"""Drift: set-level comparison in SQL, attribute detail (deepdiff) for the few that differ."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

import driftscan.store.drift as sd
from driftscan.config import IgnoreRule
from driftscan.desired import DesiredSet
from driftscan.desired.declaration import (
    Check,
    Declaration,
    comparable,
    compare_versions,
    get_path,
    iter_leaves,
    set_path,
)
from driftscan.drift.changes import DRIFT_SIDES, doc_changes, ignored_paths, is_ignored
from driftscan.errors import StoreError
from driftscan.model import Drift, canonical_json
from driftscan.providers import registry
from driftscan.store import Store
from driftscan.store.reads import drift_from_row


def tables(desired: DesiredSet) -> tuple[pa.Table, pa.Table]:
    """Declarations and their compared leaves as Arrow tables (bulk-loaded, never row by row)."""
    t = desired.tables()
    return t.decls, t.leaves


@dataclass
class DriftResult:
    """Drift of one scan against the declared state (design §3.4 diff shape via `doc()`)."""

    scan_id: int
    status: str  # the scan's: complete | incomplete | failed
    drifts: list[Drift]
    coverage: dict[str, Any]

    @property
    def complete(self) -> bool:
        return self.status == "complete"

    @property
    def has_drift(self) -> bool:
        return bool(self.drifts)

    def doc(self) -> dict[str, Any]:
        return {
            "scan": self.scan_id,
            "changes": [
                {
                    "resource": d.resource,
                    "type": d.type,
                    "provider": d.provider,
                    "kind": d.kind,
                    "desired_source": d.desired_source,
                    "changes": [
                        {"path": c["path"], "desired": c["desired"], "actual": c["actual"]}
                        for c in d.changes
                    ],
                }
                for d in self.drifts
            ],
            "coverage": self.coverage,
        }


def _project(declared: dict[str, Any], live: dict[str, Any]) -> dict[str, Any]:
    """The live document cut down to the declared paths (absent → None)."""
    out: dict[str, Any] = {}
    for path, _ in iter_leaves(declared):
        set_path(out, path, get_path(live, path))
    return out


def _plain_leaves(doc: dict[str, Any]) -> list[tuple[tuple[str, ...], Any]] | None:
    """The leaves of a declared document if every one is a str, bool, int or null under plain
    string keys (the common case), else None: deepdiff's paths and verdicts for those are
    known, so they are compared directly (`_leaf_changes`) rather than through deepdiff."""
    out: list[tuple[tuple[str, ...], Any]] = []
    stack: list[tuple[tuple[str, ...], dict[str, Any]]] = [((), doc)]
    while stack:
        prefix, cur = stack.pop()
        for k, v in cur.items():
            if type(k) is not str or not _PLAIN_KEY.fullmatch(k):
                return None
            if type(v) is dict:
                if not v:
                    return None  # an empty mapping: deepdiff reports it as a whole
                stack.append(((*prefix, k), v))
            elif v is None or type(v) in _PLAIN:
                out.append(((*prefix, k), v))
            else:
                return None
    return out


_PLAIN = (str, bool, int)
_PLAIN_KEY = re.compile(r"[^'\"\\]+")  # deepdiff quotes or escapes keys holding these


def _leaf_changes(
    leaves: list[tuple[tuple[str, ...], Any]], live: dict[str, Any], ignore: frozenset[str]
) -> list[dict[str, Any]]:
    """doc_changes(declared, projection) for plain leaves: a leaf differs when the live value
    at its path has another type or value (deepdiff's type_changes / values_changed)."""
    rows = []
    for path, want in leaves:
        got = get_path(live, path)
        if type(got) is not type(want) or got != want:
            p = ".".join(path)
            if not is_ignored(p, ignore):
                rows.append({"path": p, "desired": want, "actual": got})
    rows.sort(key=lambda r: str(r["path"]))
    return rows


def _check_fails(c: Check, actual: Any) -> bool:
    if c.op == "min_version":
        return not isinstance(actual, str) or compare_versions(actual, str(c.value)) < 0
    if isinstance(actual, bool) or not isinstance(actual, int | float):
        return True
    return bool(actual < c.value)


def attribute_changes(
    d: Declaration, live: dict[str, Any], provider: str, ignore: frozenset[str]
) -> tuple[list[dict[str, Any]], bool]:
    """Path-level changes of one declared resource, and whether some were not assessable."""
    changes: list[dict[str, Any]] = []
    if d.declared:
        leaves = _plain_leaves(d.declared)
        if leaves is not None:
            diffs = _leaf_changes(leaves, live, ignore)
        else:
            diffs = doc_changes(
                d.declared, _project(d.declared, live), ignore_paths=ignore, sides=DRIFT_SIDES
            )
        changes.extend({**ch, "op": "eq"} for ch in diffs)
    for c in d.checks:
        path = ".".join(c.path)
        actual = get_path(live, c.path)
        if not is_ignored(path, ignore) and _check_fails(c, actual):
            changes.append({"path": path, "desired": f">= {c.value}", "actual": actual, "op": c.op})
    dropped = False
    p = registry().get(provider)
    if p is not None and p.unassessed_paths is not None:
        skip = p.unassessed_paths(d, live)
        if skip:
            changes = [c for c in changes if not is_ignored(c["path"], frozenset(skip))]
            dropped = True
    changes.sort(key=lambda c: str(c["path"]))
    return changes, dropped


def compare(
    store: Store,
    desired: DesiredSet,
    *,
    scan_id: int | None = None,
    ignore: Sequence[IgnoreRule] = (),
) -> DriftResult:
    """Diff scan `scan_id` (default: the latest) against the declarations; store and return it."""
    n = scan_id if scan_id is not None else sd.latest_scan(store)
    if n is None:
        raise StoreError("the store holds no scans yet; run `driftscan scan` first")
    store.scan(n)  # must exist
    declared = desired.tables()
    fold = [p.type for p in registry() if p.case_insensitive]
    session = sd.DriftSession(store, n, declared.decls, declared.leaves, fold_case=fold)
    try:
        v_ids: list[int] = []
        v_keys: list[str] = []
        v_status: list[str] = []
        v_changes: list[str] = []
        ignores: dict[str, frozenset[str]] = {}
        candidates = session.candidates()
        # Only the candidates (the few that differ in SQL) become objects, from their rows.
        decls = declared.declarations(c.decl_id for c in candidates)
        for c in candidates:
            d = decls[c.decl_id]
            ig = ignores.get(c.type)
            if ig is None:
                ig = ignores[c.type] = ignored_paths(ignore, c.type)
            live = comparable(json.loads(c.attrs), json.loads(c.tags), c.encrypted, c.public)
            changes, dropped = attribute_changes(d, live, c.provider, ig)
            v_ids.append(c.decl_id)
            v_keys.append(c.key)
            v_status.append("changed" if changes else ("not_assessed" if dropped else "ok"))
            v_changes.append(canonical_json(changes))
        verdicts = pa.table([v_ids, v_keys, v_status, v_changes], schema=sd.VERDICT_SCHEMA)
        untracked: set[str] = set()
        for p in registry():
            if p.untracked is not None:
                untracked |= p.untracked(session.declared_keys(p.type), session.undeclared(p.type))
        session.save(
            verdicts,
            presence_only=canonical_json(desired.presence_only),
            skipped=canonical_json(desired.skipped),
            files=canonical_json(desired.files),
            diffed_at=datetime.now(UTC),
            untracked=sorted(untracked),
            failed=canonical_json(
                [{"file": e.file or "", "error": e.message} for e in desired.failed]
            ),
        )
    finally:
        session.close()
    return load_result(store, n, desired)


def load_result(store: Store, scan_id: int, desired: DesiredSet | None = None) -> DriftResult:
    """The stored drift of one scan, in a stable order."""
    rec = store.scan(scan_id)
    drifts = [drift_from_row(r) for r in sd.results(store, scan_id)]
    per_source = sd.coverage(store, scan_id)
    live = sum(r["live"] for r in per_source)
    assessed = sum(r["assessed"] for r in per_source)
    managed = sum(r["managed"] for r in per_source)
    declared = sd.declared_summary(store, scan_id)
    cov: dict[str, Any] = {
        "scan_status": rec.status,
        "live": live,
        "assessed": assessed,
        "managed": managed,
        "unmanaged": assessed - managed,
        "managed_pct": round(100.0 * managed / assessed, 1) if assessed else None,
        "declared": sum(declared.values()),
        "declared_not_assessed": declared.get("not_assessed", 0),
        "sources": per_source,
    }
    if desired is not None:
        cov["presence_only"] = dict(sorted(desired.presence_only.items()))
        cov["skipped"] = dict(sorted(desired.skipped.items()))
    status = rec.status
    if desired is not None and desired.failed:
        # A declared source that could not be read leaves its resources unassessed: never clean.
        cov["desired_failed"] = [str(e) for e in desired.failed]
        status = "incomplete" if status == "complete" else status
    return DriftResult(scan_id, status, drifts, cov)


__all__ = [
    "DriftResult",
    "attribute_changes",
    "compare",
    "load_result",
    "tables",
]
