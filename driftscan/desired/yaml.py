"""Declared state in YAML (design §3.1): resources by key or identity, and hosts, validated with lines."""

from __future__ import annotations

import glob
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from driftscan.desired.declaration import Check, Declaration, deep_merge, identity, set_path
from driftscan.errors import ConfigError
from driftscan.inputs import files_below, read_text
from driftscan.providers import registry
from driftscan.yamlsrc import Lines, line_for, parse_yaml, validation_error

_IDENTITY = ("key", "provider", "account", "region", "type", "name")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ResourceDecl(BaseModel):
    """A cloud resource: by `key`, or by provider + type + name (+ account, region).

    `encrypted`, `public` and `tags` are the cross-provider facets; every other key is an
    attribute, compared against the collector's attrs (`a.b: v` names a nested attribute).
    """

    model_config = ConfigDict(extra="allow", frozen=True)

    key: str | None = None
    provider: str | None = None
    account: str | None = None
    region: str | None = None
    type: str | None = None
    name: str | None = None
    encrypted: bool | None = None
    public: bool | None = None
    tags: dict[str, str] | None = None

    @field_validator("provider")
    @classmethod
    def _provider(cls, v: str | None) -> str | None:
        names = registry().names()
        if v is not None and v not in names:
            listed = " or ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names)
            raise ValueError(f"provider must be {listed}")
        return v

    @model_validator(mode="after")
    def _named(self) -> ResourceDecl:
        if self.key is None and not (self.provider and self.type and self.name):
            raise ValueError("give a 'key', or 'provider', 'type' and 'name'")
        return self


_SHA256 = re.compile(r"^(sha256:)?[0-9a-fA-F]{64}$")


class FileDecl(_Strict):
    """A file's expected content hash (an agent's policy or config file, say), mode and owner."""

    sha256: str | None = None
    mode: str | None = None
    owner: str | None = None

    @field_validator("sha256")
    @classmethod
    def _hex(cls, v: str | None) -> str | None:
        if v is not None and not _SHA256.match(v):
            raise ValueError("sha256 must be 64 hex digits (optionally prefixed 'sha256:')")
        return None if v is None else v.removeprefix("sha256:").lower()


class CertDecl(_Strict):
    """A certificate that must stay valid for at least this many days."""

    min_days_left: int = Field(ge=0)


class ContainerDecl(_Strict):
    """A running container's expected image reference and registry digest."""

    image: str | None = None
    digest: str | None = None


class HostDecl(_Strict):
    """An on-prem host (its key from the host provider): packages, services, files, certs,
    containers."""

    name: str
    packages: dict[str, str] = Field(default_factory=dict)
    packages_min: dict[str, str] = Field(default_factory=dict)
    services: dict[str, str] = Field(default_factory=dict)
    files: dict[str, FileDecl] = Field(default_factory=dict)
    certs: dict[str, CertDecl] = Field(default_factory=dict)
    containers: dict[str, ContainerDecl] = Field(default_factory=dict)
    machine_id: str | None = None


class DesiredFile(_Strict):
    """One declared-state file."""

    resources: list[ResourceDecl] = Field(default_factory=list)
    hosts: list[HostDecl] = Field(default_factory=list)


def validate_desired(data: Any, lines: Lines, file: str) -> DesiredFile:
    """Validate parsed YAML into a DesiredFile, raising ConfigError with file, line and key."""
    if data is None:
        return DesiredFile()
    if not isinstance(data, dict):
        raise ConfigError("the top level must be a mapping", file=file, line=1)
    try:
        return DesiredFile.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc, data, lines, file) from None


def _attrs(extra: dict[str, Any], file: str, line: int | None, loc: str) -> dict[str, Any]:
    """Extra keys → a nested document (`a.b: v` is `a: {b: v}`)."""
    out: dict[str, Any] = {}
    for k in sorted(extra):
        path = tuple(str(k).split("."))
        if any(not p for p in path):
            raise ConfigError(
                "empty segment in attribute path", file=file, line=line, key=f"{loc}.{k}"
            )
        nested: dict[str, Any] = {}
        set_path(nested, path, extra[k])
        try:
            _merge_strict(out, nested)
        except ValueError:
            raise ConfigError(
                "attribute declared twice (dotted and nested)",
                file=file,
                line=line,
                key=f"{loc}.{k}",
            ) from None
    return out


def _merge_strict(into: dict[str, Any], other: dict[str, Any]) -> None:
    for k, v in other.items():
        if k in into:
            if isinstance(into[k], dict) and isinstance(v, dict):
                _merge_strict(into[k], v)
            else:
                raise ValueError(k)
        else:
            into[k] = v


def declarations(doc: DesiredFile, lines: Lines, file: str) -> list[Declaration]:
    """Declarations from one validated file; each names its file and line as its source."""
    out: list[Declaration] = []
    for i, r in enumerate(doc.resources):
        line = line_for(lines, ("resources", i))
        declared = _attrs(dict(r.model_extra or {}), file, line, f"resources[{i}]")
        if r.tags:
            declared["tags"] = dict(r.tags)
        for facet in ("encrypted", "public"):
            if getattr(r, facet) is not None:
                declared[facet] = getattr(r, facet)
        if r.key is not None:
            ident = identity(r.key)
            key: str | None = ident.key
            provider, typ = r.provider or ident.provider, r.type or ident.type
            account, region, name = (
                r.account or ident.account,
                r.region or ident.region,
                r.name or ident.name,
            )
        else:
            provider, typ, account, region, name = r.provider, r.type, r.account, r.region, r.name
            p = registry().get(provider)
            key = p.declared_key(typ, name) if p is not None else None
            if key is None and p is not None and p.case_insensitive and typ is not None:
                typ = typ.lower()
        out.append(
            Declaration(
                key=key, provider=provider, type=typ, source=f"{file}:{line}", account=account,
                region=region, name=name, declared=declared,
            )
        )  # fmt: skip
    hosts = registry().host_provider() if doc.hosts else None
    if doc.hosts and (hosts is None or hosts.declare_host is None):
        line = line_for(lines, ("hosts",))
        raise ConfigError(
            "no registered provider declares hosts", file=file, line=line, key="hosts"
        )
    for i, h in enumerate(doc.hosts):
        line = line_for(lines, ("hosts", i))
        d: dict[str, Any] = {}
        checks: list[Check] = []
        if h.packages:
            d["packages"] = dict(h.packages)
        for pkg, v in sorted(h.packages_min.items()):
            checks.append(Check(("packages", pkg), "min_version", v))
        if h.services:
            d["services"] = dict(h.services)
        for path, f in h.files.items():
            spec = {k: v for k, v in f.model_dump().items() if v is not None}
            if spec:
                deep_merge(d.setdefault("files", {}), {path: spec})
        for path, c in sorted(h.certs.items()):
            checks.append(Check(("certs", path, "days_left"), "min", c.min_days_left))
        for cname, cont in h.containers.items():
            spec = {k: v for k, v in cont.model_dump().items() if v is not None}
            if spec:
                deep_merge(d.setdefault("containers", {}), {cname: spec})
        if h.machine_id is not None:
            d["machine_id"] = h.machine_id
        assert hosts is not None and hosts.declare_host is not None
        ident = hosts.declare_host(h.name)
        out.append(
            Declaration(
                key=ident.key, provider=ident.provider, type=ident.type, source=f"{file}:{line}",
                name=h.name, declared=d, checks=checks,
            )
        )  # fmt: skip
    return out


def load_file(path: Path, display: str) -> list[Declaration]:
    """Parse, validate and convert one declared-state file."""
    try:
        text = read_text(path)
    except (OSError, ValueError) as exc:  # ValueError: not UTF-8, not a regular file, too large
        raise ConfigError(f"cannot read: {exc}", file=display) from None
    data, lines = parse_yaml(text, display)
    return declarations(validate_desired(data, lines, display), lines, display)


def yaml_files(root: Path, configured: str) -> list[Path]:
    """The files a `path:` entry names: a file, every *.yaml / *.yml under a folder, or a glob."""
    if any(ch in configured for ch in "*?["):
        found = sorted(Path(p) for p in glob.glob(str(root), recursive=True) if Path(p).is_file())
        if not found:
            raise ConfigError("no files match this pattern", file=configured)
        return found
    if root.is_dir():
        return files_below(root)
    if not root.exists():
        raise ConfigError("file not found", file=configured)
    return [root]


__all__ = [
    "DesiredFile",
    "HostDecl",
    "ResourceDecl",
    "declarations",
    "load_file",
    "validate_desired",
    "yaml_files",
]
