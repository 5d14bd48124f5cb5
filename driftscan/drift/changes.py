"""Attribute-level differences between two documents as `{path, <before>, <after>}` rows."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Sequence
from typing import Any

from deepdiff import DeepDiff

from driftscan.config import IgnoreRule

# The names of a change's two sides: drift reads declared against live, a delta or a
# resource's history reads one version against the next. The JSON shapes (design §3.4) use
# these keys as they come from here.
DRIFT_SIDES = ("desired", "actual")
DELTA_SIDES = ("old", "new")

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


def ignored_paths(rules: Sequence[IgnoreRule], typ: str) -> frozenset[str]:
    """The paths the config's `ignore` rules leave out for resources of type `typ`."""
    return frozenset(r.path for r in rules if fnmatch.fnmatchcase(typ, r.type))


def is_ignored(path: str, ignore: frozenset[str]) -> bool:
    """Whether `path` is one of `ignore` or lies under one of them."""
    return any(path == ig or path.startswith((ig + ".", ig + "[")) for ig in ignore)


def doc_changes(
    before: Any,
    after: Any,
    *,
    ignore_paths: frozenset[str] = frozenset(),
    sides: tuple[str, str] = DELTA_SIDES,
) -> list[dict[str, Any]]:
    """Path-level changes from `before` to `after` as `{path, sides[0], sides[1]}` rows,
    sorted by path; absent values are None.

    Lists are compared in order, since reordered rules are a change worth seeing; paths in
    `ignore_paths` (and anything under them) are left out.
    """
    was, now = sides
    diff = DeepDiff(before, after, verbose_level=2, view="tree", threshold_to_diff_deeper=0)
    rows: dict[str, dict[str, Any]] = {}
    for change_type, items in diff.items():
        for item in items:
            p = item.path()
            path = _path(p)
            if is_ignored(path, ignore_paths):
                continue
            t1 = item.t1 if "added" not in change_type else _MISSING
            t2 = item.t2 if "removed" not in change_type else _MISSING
            if change_type.startswith("type_changes") or change_type.startswith("values_changed"):
                t1, t2 = item.t1, item.t2
            rows[path] = {"path": path, was: _plain(t1), now: _plain(t2)}
    return [rows[k] for k in sorted(rows)]


def _plain(v: Any) -> Any:
    # deepdiff hands back a NotPresent sentinel for absent sides
    return None if type(v).__name__ == "NotPresent" else v
