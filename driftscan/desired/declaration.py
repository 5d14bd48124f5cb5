"""One declared resource, its comparable leaves, identity parsed from keys, and version order."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

from driftscan.model import canonical_json
from driftscan.providers import Identity, load_object, registry
from driftscan.redaction import Fingerprinter, redact_tags

Op = Literal["eq", "min", "min_version"]
# First segments of a comparable path that are resource columns, not attrs: the same meaning
# on every provider (design §3.1).
FACETS = ("encrypted", "public", "tags")


@dataclass(frozen=True, slots=True)
class Check:
    """A declared lower bound: a package's minimum version or a certificate's days left."""

    path: tuple[str, ...]
    op: Op
    value: Any


@dataclass(slots=True)
class Declaration:
    """What one desired-state input says about one resource.

    `declared` is a partial document over the comparable shape of a live resource,
    `{**attrs, "tags": {...}, "encrypted": b, "public": b}`: only what it names is compared,
    nested mappings partially, lists and scalars whole. `key` is None when the resource is
    named by identity (provider, account, region, type, name) and resolved against the scan.
    """

    key: str | None
    provider: str | None
    type: str | None
    source: str  # where it was declared: file:line, or tfstate#address
    account: str | None = None
    region: str | None = None
    name: str | None = None
    declared: dict[str, Any] = field(default_factory=dict)
    checks: list[Check] = field(default_factory=list)
    presence_only: bool = False  # a Terraform type without a mapping: managed, not compared


_encode_str = json.encoder.encode_basestring


def json_text(v: Any) -> str:
    """Canonical JSON of a declared value, with fast paths for the common scalars."""
    t = type(v)
    if t is str:
        return str(_encode_str(v))
    if t is bool:
        return "true" if v else "false"
    if t is int:
        return str(v)
    if v is None:
        return "null"
    return canonical_json(v)


def iter_leaves(
    doc: dict[str, Any], prefix: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Leaf paths of a partial document: non-empty mappings recurse, anything else is a leaf."""
    for k in sorted(doc):
        v = doc[k]
        if isinstance(v, dict):
            yield from iter_leaves(v, (*prefix, str(k)))
        else:
            yield (*prefix, str(k)), v


def pointer(path: tuple[str, ...]) -> str:
    """RFC 6901 JSON pointer (DuckDB's json_extract reads these): `~` → `~0`, `/` → `~1`."""
    return "".join("/" + p.replace("~", "~0").replace("/", "~1") for p in path)


def get_path(doc: Any, path: tuple[str, ...]) -> Any:
    """The value at `path`, or None where any step is absent."""
    cur = doc
    for p in path:
        if not isinstance(cur, dict) or p not in cur:
            return None
        cur = cur[p]
    return cur


def set_path(doc: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    """Set `value` at `path`, creating mappings on the way."""
    cur = doc
    for p in path[:-1]:
        nxt = cur.get(p)
        if not isinstance(nxt, dict):
            nxt = cur[p] = {}
        cur = nxt
    cur[path[-1]] = value


def deep_merge(into: dict[str, Any], other: dict[str, Any]) -> dict[str, Any]:
    """Merge `other` into `into` (mappings recursively, anything else replaced)."""
    for k, v in other.items():
        if isinstance(v, dict) and isinstance(into.get(k), dict):
            deep_merge(into[k], v)
        else:
            into[k] = v
    return into


def comparable(
    attrs: dict[str, Any], tags: dict[str, Any], encrypted: Any, public: Any
) -> dict[str, Any]:
    """A live resource in the shape declarations use; the facets win over same-named attrs."""
    return {**attrs, "tags": tags, "encrypted": encrypted, "public": public}


# --- secrets ---------------------------------------------------------------------------------

Redactor = Callable[[str | None, dict[str, Any], Fingerprinter], dict[str, Any]]


@lru_cache(maxsize=16)
def _redactor(target: str) -> Redactor:
    fn: Redactor = load_object(target)
    return fn


def fingerprint_secrets(
    decl: Declaration, fingerprint: Fingerprinter, *, attributes: bool = True
) -> Declaration:
    """`decl` with its secrets fingerprinted where its provider's collector fingerprints live
    ones, in place: tags by the rule every collector's tags pass, the other attributes by the
    provider's `redact_declared`. So a declared secret is stored as its live counterpart is,
    a keyed fingerprint, and one that did not change compares equal to it.

    `attributes=False` for a provider's own loader, whose declarations are its collector's
    document already (Kubernetes manifests pass `document()`): only their tags are redacted.
    """
    fingerprint_declared(decl.provider, decl.type, decl.declared, fingerprint,
                         attributes=attributes)  # fmt: skip
    return decl


def fingerprint_declared(
    provider: str | None,
    rtype: str | None,
    d: dict[str, Any],
    fingerprint: Fingerprinter,
    *,
    attributes: bool = True,
) -> dict[str, Any]:
    """fingerprint_secrets of one declared document `d` (changed in place, and returned)."""
    tags = d.get("tags")
    if isinstance(tags, dict) and tags:
        d["tags"] = redact_tags(tags, fingerprint)
    p = registry().get(provider) if attributes else None
    if p is not None and p.redact_declared is not None:
        attrs = {k: v for k, v in d.items() if k not in FACETS}
        if attrs:
            redacted = _redactor(p.redact_declared)(rtype, attrs, fingerprint)
            if redacted is not attrs:  # a hook returns its argument when nothing is secret
                d.update(redacted)
    return d


# --- identity from keys --------------------------------------------------------------------


def identity(key: str) -> Identity:
    """Provider, account, region, type and name as far as the key shows them, asked of the
    registered providers (a key none of them recognises says only itself)."""
    return registry().identity(key)


# --- version order (dpkg's algorithm; rpm's differs only in corner cases) ------------------


def _order(c: str) -> int:
    if c == "~":
        return -1
    if c.isalpha():
        return ord(c)
    return ord(c) + 256


def _verrevcmp(a: str, b: str) -> int:
    i = j = 0
    while i < len(a) or j < len(b):
        first_diff = 0
        while (i < len(a) and not a[i].isdigit()) or (j < len(b) and not b[j].isdigit()):
            ac = _order(a[i]) if i < len(a) and not a[i].isdigit() else 0
            bc = _order(b[j]) if j < len(b) and not b[j].isdigit() else 0
            if ac != bc:
                return ac - bc
            i += 1
            j += 1
        while i < len(a) and a[i] == "0":
            i += 1
        while j < len(b) and b[j] == "0":
            j += 1
        while i < len(a) and a[i].isdigit() and j < len(b) and b[j].isdigit():
            if not first_diff:
                first_diff = ord(a[i]) - ord(b[j])
            i += 1
            j += 1
        if i < len(a) and a[i].isdigit():
            return 1
        if j < len(b) and b[j].isdigit():
            return -1
        if first_diff:
            return first_diff
    return 0


def _split_version(v: str) -> tuple[int, str, str]:
    epoch, sep, rest = v.partition(":")
    if not sep or not epoch.isdigit():
        epoch, rest = "0", v
    upstream, sep, revision = rest.rpartition("-")
    if not sep:
        upstream, revision = rest, ""
    return int(epoch), upstream, revision


def compare_versions(a: str, b: str) -> int:
    """<0, 0, >0 as Debian orders versions: epoch, then upstream, then revision (`~` sorts first)."""
    ea, ua, ra = _split_version(a.strip())
    eb, ub, rb = _split_version(b.strip())
    if ea != eb:
        return -1 if ea < eb else 1
    return _verrevcmp(ua, ub) or _verrevcmp(ra, rb)
