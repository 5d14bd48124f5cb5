"""Drift: set-level comparison in SQL, attribute detail (deepdiff) for the few that differ."""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

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
    json_text,
    set_path,
)
from driftscan.drift.changes import DRIFT_SIDES, doc_changes, ignored_paths, is_ignored
from driftscan.errors import StoreError
from driftscan.model import Drift, canonical_json
from driftscan.providers import registry
from driftscan.store import Store
from driftscan.store.reads import drift_from_row


def _pointer(path: tuple[str, ...]) -> str:
    return "".join("/" + p.replace("~", "~0").replace("/", "~1") for p in path)


def _label(d: Declaration) -> str:
    """How a declaration by identity is named when nothing live matches it."""
    parts = (d.provider, d.type, d.account or "*", d.region or "*", d.name)
    return ":".join(str(p) for p in parts)


def tables(desired: DesiredSet) -> tuple[pa.Table, pa.Table]:
    """Declarations and their compared leaves as Arrow tables (bulk-loaded, never row by row)."""
    decls = desired.declarations
    n = len(decls)
    leaves = desired.leaves()
    c_ids: list[int] = []
    c_ptrs: list[str] = []
    c_ops: list[str] = []
    c_vals: list[str] = []
    for i, d in enumerate(decls):
        for c in d.checks:
            c_ids.append(i)
            c_ptrs.append(_pointer(c.path))
            c_ops.append(c.op)
            c_vals.append(json_text(c.value))
    decl = pa.table(
        [
            pa.array(range(n), pa.int64()),
            [d.key for d in decls],
            [None if d.key is not None else _label(d) for d in decls],
            [d.provider for d in decls],
            [d.account for d in decls],
            [d.region for d in decls],
            [d.type for d in decls],
            [d.name for d in decls],
            [d.source for d in decls],
            [d.presence_only for d in decls],
        ],
        schema=sd.DECL_SCHEMA,
    )
    # each leaf's declaration index, from the per-declaration counts (no per-leaf Python int)
    m = len(leaves.ptr_ids)
    offsets = pa.array(itertools.accumulate(leaves.counts, initial=0), pa.int32())
    ptr_idx = pa.Array.from_buffers(pa.int32(), m, [None, pa.py_buffer(leaves.ptr_ids)])
    val_idx = pa.Array.from_buffers(pa.int32(), m, [None, pa.py_buffer(leaves.val_ids)])
    parents = pc.list_parent_indices(pa.ListArray.from_arrays(offsets, ptr_idx))
    # pointers and values as dictionaries over the distinct ones: nothing repeated 4M times
    eq = pa.table(
        [
            pc.cast(parents, pa.int64()),
            pa.DictionaryArray.from_arrays(ptr_idx, pa.array(leaves.ptrs, pa.string())),
            pa.DictionaryArray.from_arrays(pa.repeat(pa.scalar(0, pa.int32()), m), ["eq"]),
            pa.DictionaryArray.from_arrays(val_idx, pa.array(leaves.vals, pa.string())),
        ],
        schema=sd.LEAF_SCHEMA,
    )
    checks = pa.table([c_ids, c_ptrs, c_ops, c_vals], schema=sd.LEAF_SCHEMA)
    return decl, pa.concat_tables([eq, checks])


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
    decls = desired.declarations
    decl_t, leaf_t = tables(desired)
    fold = [p.type for p in registry() if p.case_insensitive]
    session = sd.DriftSession(store, n, decl_t, leaf_t, fold_case=fold)
    try:
        v_ids: list[int] = []
        v_keys: list[str] = []
        v_status: list[str] = []
        v_changes: list[str] = []
        ignores: dict[str, frozenset[str]] = {}
        for c in session.candidates():
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
        session.save(
            verdicts,
            presence_only=canonical_json(desired.presence_only),
            skipped=canonical_json(desired.skipped),
            files=canonical_json(desired.files),
            diffed_at=datetime.now(UTC),
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
    return DriftResult(scan_id, rec.status, drifts, cov)


__all__ = [
    "DriftResult",
    "attribute_changes",
    "compare",
    "load_result",
    "tables",
]
