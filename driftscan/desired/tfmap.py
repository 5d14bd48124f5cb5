"""Terraform resource types → driftscan declarations: the mapping contract and its registry.

Each provider that reads Terraform state names a TerraformMappings (Provider.terraform); each
mapping reads one instance's `attributes` and returns the declaration in the comparable
shape (`{**attrs, tags, encrypted, public}`), using the attribute names its collector
produces. Split configuration resources (a bucket's versioning, a security group's rules)
return `part=True` and are merged into their parent's declaration. A type without a mapping
counts as managed, presence only.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from driftscan.providers import Registry, load_object, registry
from driftscan.redaction import Fingerprinter

Attrs = dict[str, Any]


@dataclass
class Mapped:
    """One instance mapped onto a driftscan resource."""

    key: str
    provider: str
    type: str
    account: str | None
    region: str | None
    name: str | None
    declared: dict[str, Any]
    part: bool = False
    # lists appended to (not replacing) the parent's: security group rules from rule resources
    merge_lists: dict[str, list[Any]] = field(default_factory=dict)


@dataclass
class TfContext:
    """State-wide lookups a mapping may need (a rule names its group by id, not by ARN)."""

    # The store's keyed fingerprints: declared secrets compare with live ones, never in clear.
    fingerprint: Fingerprinter = field(default_factory=Fingerprinter.throwaway)
    # Per lookup name (a provider's choice): id → key, filled by the providers' `observe`.
    index: dict[str, dict[str, str]] = field(default_factory=dict)


Mapper = Callable[[Attrs, TfContext], Mapped | None]
Finalizer = Callable[[dict[str, Any]], None]


@dataclass
class TerraformMappings:
    """One provider's Terraform support: mappers by Terraform type, finalisers by driftscan
    type, a state-wide observer (run over every instance first) and a fallback key for
    unmapped types."""

    mappers: dict[str, Mapper] = field(default_factory=dict)
    finalize: dict[str, Finalizer] = field(default_factory=dict)
    observers: list[Callable[[str, Attrs, TfContext], None]] = field(default_factory=list)
    fallback_keys: list[Callable[[Attrs], str | None]] = field(default_factory=list)
    # Types whose id or ARN looks like a resource's but names something a collector never
    # stores (an alias, a subscription of a topic): never keyed by the fallback, so never
    # a false "missing".
    not_resources: set[str] = field(default_factory=set)
    # A mapping for every type of a provider's prefix (`azurerm_`) that has none of its own.
    prefix_mappers: dict[str, Mapper] = field(default_factory=dict)

    def mapping(self, *tf_types: str) -> Callable[[Mapper], Mapper]:
        """Register a mapping for one or more Terraform resource types."""

        def reg(fn: Mapper) -> Mapper:
            for t in tf_types:
                self.mappers[t] = fn
            return fn

        return reg

    def observe(self, tf_type: str, attrs: Attrs, ctx: TfContext) -> None:
        for fn in self.observers:
            fn(tf_type, attrs, ctx)

    def fallback_key(self, attrs: Attrs) -> str | None:
        """The key of an instance of an unmapped type, if some provider recognises it."""
        for fn in self.fallback_keys:
            key = fn(attrs)
            if key is not None:
                return key
        return None

    def merge(self, other: TerraformMappings) -> None:
        self.mappers.update(other.mappers)
        self.finalize.update(other.finalize)
        self.observers.extend(other.observers)
        self.fallback_keys.extend(other.fallback_keys)
        self.not_resources |= other.not_resources
        self.prefix_mappers.update(other.prefix_mappers)

    def mapper(self, tf_type: str) -> Mapper | None:
        """The type's own mapping, else its provider prefix's, else None."""
        own = self.mappers.get(tf_type)
        if own is not None:
            return own
        for prefix, fn in self.prefix_mappers.items():
            if tf_type.startswith(prefix):
                return fn
        return None


@lru_cache(maxsize=4)
def _mappings(reg: Registry) -> TerraformMappings:
    out = TerraformMappings()
    for p in reg:
        if p.terraform:
            out.merge(load_object(p.terraform))
    return out


def mappings() -> TerraformMappings:
    """Every registered provider's Terraform support, merged (loaded with the first state)."""
    return _mappings(registry())


# --- helpers the providers' mappings share ---------------------------------------------------


def tags_of(a: Attrs) -> dict[str, str] | None:
    """An instance's tags: `tags_all` (with the provider's default_tags) where present."""
    tags = a.get("tags_all") or a.get("tags")
    return {str(k): str(v) for k, v in tags.items()} if isinstance(tags, dict) and tags else None


def first_block(v: Any) -> Attrs:
    """Terraform nests blocks as one-element lists."""
    if isinstance(v, list) and v and isinstance(v[0], dict):
        return v[0]
    return v if isinstance(v, dict) else {}


def clean(d: dict[str, Any]) -> dict[str, Any]:
    """Drop what the state leaves empty or null: unset is not declared."""
    out: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, dict):
            v = clean(v)
            if v:
                out[k] = v
        elif v is not None and v != "":
            out[k] = v
    return out


def as_bool(v: Any) -> bool | None:
    """A boolean from either format: v4 writes true, v3's flatmap writes "true"."""
    if isinstance(v, bool) or v is None:
        return v
    if isinstance(v, str) and v.lower() in ("true", "false"):
        return v.lower() == "true"
    return None


def as_int(v: Any) -> int | None:
    """An integer from either format: v4 writes 8, v3's flatmap writes "8"."""
    if isinstance(v, bool) or v is None:
        return None
    if isinstance(v, int):
        return v
    if isinstance(v, float) and v.is_integer():
        return int(v)
    if isinstance(v, str) and re.fullmatch(r"-?[0-9]{1,18}", v.strip()):
        return int(v)
    return None


def as_list(v: Any) -> list[Any]:
    """A list attribute (v3's count-only empty list included); anything else is empty."""
    return [x for x in v if x not in (None, "")] if isinstance(v, list) else []


def sorted_strs(v: Any) -> list[str] | None:
    """A set of strings in the collector's order (sorted), or None when the state has none."""
    items = as_list(v)
    return sorted(str(x) for x in items) if items else None


def declared(a: Attrs, **attrs: Any) -> dict[str, Any]:
    """A declaration of these attributes plus the instance's tags."""
    d = dict(attrs)
    tags = tags_of(a)
    if tags:
        d["tags"] = tags
    return d


__all__ = [
    "Mapped",
    "TerraformMappings",
    "TfContext",
    "as_bool",
    "as_int",
    "as_list",
    "clean",
    "declared",
    "first_block",
    "mappings",
    "sorted_strs",
    "tags_of",
]
