"""Providers: one object per kind of source, found through the `driftscan.providers` entry points.

A provider declares everything the rest of driftscan needs to know about it (design §6.1):
its source type and pydantic model, its collector, how its keys are normalised and what a
key or a declaration's identity says, which source fields are local paths, the scope
dimensions it offers, its pip extra and its sandbox estate. The built-ins register through
the same entry-point group a third-party `driftscan-foo` package would use, so nothing
outside a provider's own package names it.
"""

from __future__ import annotations

import builtins
import importlib
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic_core import SchemaValidator, core_schema

from driftscan.errors import ConfigError

ENTRY_POINT_GROUP = "driftscan.providers"


class SourceModel(BaseModel):
    """The base of every provider's source model: a unique `name` and the provider's `type`.

    A provider's model narrows `type` to its own `Literal` and adds its own fields; unknown
    keys are errors (extra="forbid") so a typo never silently means "default".
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    type: str


@dataclass(frozen=True, slots=True)
class Identity:
    """What a key (or a declaration's identity) says about a resource; unknown parts are None."""

    key: str
    provider: str | None = None
    account: str | None = None
    region: str | None = None
    type: str | None = None
    name: str | None = None


@dataclass(frozen=True, slots=True)
class ScopeDimension:
    """A `scopes:` key that selects this provider's resources (e.g. `accounts`).

    A resource of the provider is in the scope when one of the listed values equals one of
    `columns`: key, source, account, region, type or name (the store's SCOPE_COLUMNS), or the
    text at one of the dotted `attrs` paths (`metadata.namespace`); with `fold_case` both
    sides are compared lower-case.
    """

    name: str
    columns: tuple[str, ...]
    fold_case: bool = False
    attrs: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class WorkUnit:
    """One part of a source that one shard worker reads whole (a host, an account, a
    subscription): `scan --shard K/N` gives each worker the units whose id hashes to K.

    `account`, `region`, `types` and `keys` say what the unit covers, as a Slice does: when its shard
    never arrives, a not-assessed slice with this cover keeps its resources from reading as
    gone; all None covers the whole source.
    """

    id: str
    account: str | None = None
    region: str | None = None
    types: tuple[str, ...] = ()
    keys: tuple[str, ...] = ()


def _no_identity(key: str) -> Identity | None:
    return None


def _no_key(type: str | None, name: str | None) -> str | None:
    return None


@dataclass(frozen=True)
class Provider:
    """Everything driftscan needs to know about one kind of source."""

    # The source `type:` in driftscan.yaml and the `provider` of every resource it yields.
    type: str
    # The pydantic model of one `sources:` entry of this type (`type: Literal[<type>]`).
    source_model: builtins.type[SourceModel]
    # "module:Class" of the collector, imported only when a source of this type is collected,
    # so an AWS-only user never imports the Azure SDK.
    collector: str
    # The pip extra that installs the collector's dependencies (`pip install 'driftscan[x]'`).
    extra: str
    # What a key alone says (provider, account, region, type, name), normalised; None when the
    # key is not this provider's.
    identify: Callable[[str], Identity | None] = _no_identity
    # The key of a declaration named by (type, name) when the identity alone fixes it (an S3
    # bucket's ARN), else None and the declaration is resolved against the scan.
    declared_key: Callable[[str | None, str | None], str | None] = _no_key
    # Keys and types are stored lower-case and names compare case-insensitively (ARM IDs).
    case_insensitive: bool = False
    # Source fields that name local files: relative paths mean "beside the config file".
    path_fields: tuple[str, ...] = ()
    # The `scopes:` keys this provider offers beyond the common tags, regions and types.
    scope_dimensions: tuple[ScopeDimension, ...] = ()
    # The provider whose resources a desired file's `hosts:` entries declare: name → identity.
    declare_host: Callable[[str], Identity] | None = None
    # Keys a source's config already names, with the (account, region) of the slice each is
    # read in: a declaration of such a key is placed in its slice before the scan is read.
    locate: Callable[[Any], Iterable[tuple[str, str, str]]] | None = None
    # Declared paths under facts the collector recorded as unread (declaration, live document
    # → path prefixes): a change under them is not assessed, never drift.
    unassessed_paths: Callable[[Any, dict[str, Any]], list[str]] | None = None
    # Of the provider's live resources that no declaration names — called with its declared
    # keys and those resources' (key, type, attrs) — the keys that are not unmanaged drift:
    # owned by another object, or outside what the declarations cover. None: all are.
    untracked: Callable[[list[str], list[tuple[str, str, dict[str, Any]]]], set[str]] | None = None
    # "module:ATTR" of a driftscan.desired.tfmap.TerraformMappings, loaded with the first state.
    terraform: str | None = None
    # "module:ATTR" of `(type, attributes, fingerprinter) -> attributes`: the redaction the
    # collector applies to what it stores, applied to the attributes (tags aside: every
    # provider's pass driftscan.redaction.redact_tags) of a declaration from a YAML file or a
    # Terraform state, so that declared secrets are fingerprinted in the same places live ones
    # are. None: the collector fingerprints nothing but tags.
    redact_declared: str | None = None
    # "module:ATTR" of the loader of this provider's own `desired:` entries, written
    # `{<type>: PATH}` (`{kubernetes: manifests/}`): called with a DesiredInput, it returns the
    # files it read and their driftscan.desired.Declaration objects; errors are ConfigErrors.
    desired: str | None = None
    # "module:ATTR" of the provider's local estate for the demo and tests (never imported here).
    sandbox: str | None = None
    # The work units of a source (its hosts, its listed accounts), and the source narrowed to
    # some of them by id; without both, the source is one unit that one shard reads whole.
    units: Callable[[Any], list[WorkUnit]] | None = None
    narrow: Callable[[Any, Sequence[str]], Any] | None = None
    # "module:ATTR" of the provider's part of `driftscan demo`: called with a work folder, it
    # starts its sandbox, seeds the incidents and returns a driftscan.sandbox.demo.DemoPart.
    demo: str | None = None

    # Whether a resource type (or a glob pattern of types) is this provider's: a slice that
    # lists no `types` covers all of them (a subscription, a namespace). Rules declare their
    # `types:`; one whose types no read slice covered is not assessed. None: such a slice
    # covers only the types it returned.
    owns_type: Callable[[str], bool] | None = None

    def normalise_key(self, key: str) -> str:
        """The key as the store holds it."""
        return key.lower() if self.case_insensitive else key


@dataclass(frozen=True)
class DesiredInput:
    """One `desired: [{<type>: PATH, source: NAME}]` entry, as a provider's loader gets it."""

    # Where the entry is in the config, for errors: `desired[2].kubernetes`.
    key: str
    # PATH as written, and resolved against the config's folder.
    configured: str
    path: Path
    # How a file is named in errors and `desired_source` (relative to the config's folder).
    display: Callable[[Path], str]
    # The store's fingerprinter (driftscan.redaction.Fingerprinter): declared secrets are
    # fingerprinted with the key live values are.
    fingerprint: Any
    # The configured sources of this provider, and the entry's `source:` if it names one.
    sources: tuple[SourceModel, ...]
    source: str | None = None


def load_object(target: str) -> Any:
    """Import "module:attr" (a provider's collector, Terraform mappings or sandbox)."""
    module_name, _, attr = target.partition(":")
    obj: Any = importlib.import_module(module_name)
    for part in attr.split(".") if attr else ():
        obj = getattr(obj, part)
    return obj


class Registry:
    """The registered providers by type, and what is derived from all of them."""

    def __init__(self, providers: Iterable[Provider]) -> None:
        self.providers: dict[str, Provider] = {p.type: p for p in sorted(providers, key=_type)}
        self._sources: SchemaValidator | None = None

    def __iter__(self) -> Iterator[Provider]:
        return iter(self.providers.values())

    def __contains__(self, name: object) -> bool:
        return name in self.providers

    def __getitem__(self, name: str) -> Provider:
        return self.providers[name]

    def get(self, name: str | None) -> Provider | None:
        return self.providers.get(name) if name is not None else None

    def names(self) -> tuple[str, ...]:
        """The registered types, sorted."""
        return tuple(self.providers)

    def identity(self, key: str) -> Identity:
        """What a key says, asked of every provider; a key nobody recognises says only itself."""
        for p in self:
            ident = p.identify(key)
            if ident is not None:
                return ident
        return Identity(key)

    def normalise_key(self, key: str) -> str:
        """The key as the store holds it (an ARM ID lower-cased)."""
        return self.identity(key).key

    def host_provider(self) -> Provider | None:
        """The provider that desired files' `hosts:` entries declare, if one is registered."""
        return next((p for p in self if p.declare_host is not None), None)

    def scope_dimensions(self) -> list[tuple[str, ScopeDimension]]:
        """(provider, dimension) for every registered dimension."""
        return [(p.type, d) for p in self for d in p.scope_dimensions]

    def validate_source(self, data: Any) -> SourceModel:
        """One `sources:` entry validated by the model of its `type` (a tagged union)."""
        if self._sources is None:
            choices = {p.type: p.source_model.__pydantic_core_schema__ for p in self}
            self._sources = SchemaValidator(
                core_schema.tagged_union_schema(choices, discriminator="type")
            )
        out: SourceModel = self._sources.validate_python(data)
        return out


def _type(p: Provider) -> str:
    return p.type


_lock = threading.Lock()
_current: Registry | None = None


def _discover() -> Registry:
    found: list[Provider] = []
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            obj = ep.load()
        except Exception as exc:  # a broken plugin is a clear error, never a missing provider
            raise ConfigError(
                f"provider '{ep.name}' ({ep.value}) cannot be loaded: {type(exc).__name__}: {exc}"
            ) from None
        if not isinstance(obj, Provider) or obj.type != ep.name:
            raise ConfigError(
                f"entry point '{ep.name}' ({ep.value}) in {ENTRY_POINT_GROUP} is not a "
                f"Provider of type '{ep.name}'"
            )
        found.append(obj)
    return Registry(found)


def registry() -> Registry:
    """The registered providers, discovered once per process (reset() discovers again)."""
    global _current
    reg = _current
    if reg is None:
        with _lock:
            if _current is None:
                _current = _discover()
            reg = _current
    return reg


def reset() -> None:
    """Forget the discovered providers (tests that register one, scripts that install one)."""
    global _current
    with _lock:
        _current = None


def use(providers: Iterable[Provider]) -> None:
    """Replace the registry with exactly these providers (tests, embedding)."""
    global _current
    with _lock:
        _current = Registry(providers)


def get(name: str) -> Provider:
    """The provider of a source type; a ConfigError names the registered ones otherwise."""
    p = registry().get(name)
    if p is None:
        known = ", ".join(registry().names()) or "none registered"
        raise ConfigError(f"no provider for source type '{name}' ({known})", key="sources")
    return p


__all__ = [
    "ENTRY_POINT_GROUP",
    "DesiredInput",
    "Identity",
    "Provider",
    "Registry",
    "ScopeDimension",
    "SourceModel",
    "WorkUnit",
    "get",
    "load_object",
    "registry",
    "reset",
    "use",
]
