"""Terraform resource types → driftscan declarations: the mapping contract and its registry.

Each provider that reads Terraform state names a TerraformMappings (Provider.terraform); each
mapping reads one instance's `attributes` and returns the declaration in the comparable
shape (`{**attrs, tags, encrypted, public}`), using the attribute names its collector
produces. Split configuration resources (a bucket's versioning, a security group's rules)
return `part=True` and are merged into their parent's declaration. A type without a mapping
counts as managed, presence only.
"""

from __future__ import annotations

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
    "clean",
    "declared",
    "first_block",
    "mappings",
    "tags_of",
]
