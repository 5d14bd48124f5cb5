"""Attribute-level differences between two documents as {path, desired/old, actual/new} rows."""

from __future__ import annotations

import re
from typing import Any

from deepdiff import DeepDiff

_PART = re.compile(r"\[(?:'((?:[^'\\]|\\.)*)'|(\d+))\]")


def _path(deep_path: str) -> str:
    """deepdiff's `root['attrs']['versioning'][0]` → `attrs.versioning[0]`."""
    out = ""
    for key, index in _PART.findall(deep_path):
        if index:
            out += f"[{index}]"
        else:
            out += f".{key}" if out else key
    return out


def _at(doc: Any, deep_path: str) -> Any:
    cur = doc
    for key, index in _PART.findall(deep_path):
        cur = cur[int(index)] if index else cur[key]
    return cur


_MISSING: Any = None


def doc_changes(
    old: Any, new: Any, *, ignore_paths: set[str] | frozenset[str] = frozenset()
) -> list[dict[str, Any]]:
    """Path-level changes from `old` to `new`, sorted by path; absent values are None.

    Lists are compared in order, since reordered rules are a change worth seeing; paths in
    `ignore_paths` (and anything under them) are left out.
    """
    diff = DeepDiff(old, new, verbose_level=2, view="tree", threshold_to_diff_deeper=0)
    rows: dict[str, dict[str, Any]] = {}
    for change_type, items in diff.items():
        for item in items:
            p = item.path()
            path = _path(p)
            if any(
                path == ig or path.startswith(ig + ".") or path.startswith(ig + "[")
                for ig in ignore_paths
            ):
                continue
            before = item.t1 if "added" not in change_type else _MISSING
            after = item.t2 if "removed" not in change_type else _MISSING
            if change_type.startswith("type_changes") or change_type.startswith("values_changed"):
                before, after = item.t1, item.t2
            rows[path] = {"path": path, "old": _plain(before), "new": _plain(after)}
    return [rows[k] for k in sorted(rows)]


def _plain(v: Any) -> Any:
    # deepdiff hands back a NotPresent sentinel for absent sides
    return None if type(v).__name__ == "NotPresent" else v
