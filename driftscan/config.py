"""Pydantic models of driftscan.yaml (design §3.1), loaded with errors that name file, line and key."""

from __future__ import annotations

import hashlib
import os
import re
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    SerializeAsAny,
    TypeAdapter,
    ValidationError,
    create_model,
    field_validator,
    model_validator,
)

from driftscan import plugins
from driftscan.errors import ConfigError
from driftscan.providers import Registry, SourceModel, registry
from driftscan.yamlsrc import (
    Lines,
    LocatedError,
    dotted,
    line_for,
    parse_yaml,
    read_yaml_text,
    validation_error,
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _source(v: Any) -> SourceModel:
    # Each entry is validated by the model of its `type`, a union built from the registered
    # providers (design §6.1): errors keep pydantic's locations and messages.
    return registry().validate_source(v)


# A `sources:` entry: an instance of its provider's source model.
Source = Annotated[SourceModel, PlainValidator(_source), SerializeAsAny()]


def source_types() -> frozenset[str]:
    """The `type:` values a source may have: the registered providers."""
    return frozenset(registry().names())


class DesiredEntry(BaseModel):
    """One declared-state input: a YAML file or folder, a Terraform state, or a provider's own
    kind of declaration written `{<provider type>: PATH}` (Provider.desired)."""

    # Extra keys are the providers' own kinds, checked against the registry below.
    model_config = ConfigDict(extra="allow", frozen=True)

    path: str | None = None
    terraform: str | None = None
    profile: str | None = None
    endpoint_url: str | None = None
    # The source a provider's own declarations are for (when it has several sources).
    source: str | None = None

    @model_validator(mode="after")
    def _one_of(self) -> DesiredEntry:
        extra = dict(self.model_extra or {})
        kinds = {p.type for p in registry() if p.desired is not None}
        unknown = sorted(k for k in extra if k not in kinds)
        if unknown:
            named = ", ".join(["path", "terraform", *sorted(kinds)])
            raise ValueError(f"unknown key '{unknown[0]}'; a desired entry is one of {named}")
        for k, v in extra.items():
            if not isinstance(v, str) or not v:
                raise ValueError(f"'{k}' must be a path")
        given = [k for k in ("path", "terraform") if getattr(self, k) is not None] + sorted(extra)
        if len(given) != 1:
            named = ", ".join(["'path'", "'terraform'", *(f"'{k}'" for k in sorted(kinds))])
            raise ValueError(f"give exactly one of {named}")
        if self.source is not None and not extra:
            raise ValueError("'source' goes with a provider's own kind of declaration")
        return self

    @property
    def provider_kind(self) -> tuple[str, str] | None:
        """(provider type, PATH) of a provider's own kind of entry, else None."""
        extra = self.model_extra or {}
        for k, v in extra.items():
            return str(k), str(v)
        return None


class IgnoreRule(_Strict):
    """A volatile attribute never reported as drift."""

    type: str = "*"
    path: str


class Waiver(_Strict):
    """An accepted exception to a rule for one resource, until it expires."""

    rule: str
    resource: str
    owner: str
    reason: str
    ticket: str
    expires: date


class Attestation(_Strict):
    """A person's statement that a manual framework requirement holds, with its evidence (a
    local file, hashed at scan time, or an https URL) and how long it stands (design §6.6)."""

    framework: str = Field(min_length=1, max_length=200)
    requirement: str = Field(min_length=1, max_length=200)
    owner: str = Field(min_length=1, max_length=200)
    statement: str = Field(min_length=1, max_length=4000)
    evidence: str = Field(min_length=1, max_length=2000)
    # `date` is the YAML key; the attribute is named for what it holds (no clash with the type).
    attested_on: date = Field(alias="date")
    expires: date

    @field_validator("requirement", mode="before")
    @classmethod
    def _quoted(cls, v: Any) -> Any:
        if isinstance(v, int | float) and not isinstance(v, bool):
            raise ValueError(f"quote the requirement id ('{v}'): YAML reads 1.10 as the number 1.1")
        return v

    @field_validator("evidence")
    @classmethod
    def _path_or_https(cls, v: str) -> str:
        if "://" in v and not v.startswith("https://"):
            raise ValueError("evidence is a local file path or an https:// URL")
        return v

    @model_validator(mode="after")
    def _expires_after(self) -> Attestation:
        if self.expires < self.attested_on:
            raise ValueError("expires is before the attestation's date")
        return self


class EmailNotify(_Strict):
    """An emailed run summary: SMTP with STARTTLS, credentials named by environment variable."""

    to: list[str] = Field(min_length=1, max_length=100)
    from_: str = Field(alias="from", min_length=3, max_length=320)
    # host:port of the SMTP server (submission, usually 587).
    smtp: str = Field(pattern=r"^[A-Za-z0-9.\-\[\]:]+:[0-9]{1,5}$")
    starttls: bool = True
    username_env: str | None = None
    password_env: str | None = None
    # A CA bundle to verify the server's certificate (a private CA); default: the system's.
    ca_bundle: str | None = None
    # {organisation}, {scan} and {status} are filled in.
    subject: str = Field(default="driftscan: {organisation} scan {scan} {status}", max_length=200)

    @field_validator("to")
    @classmethod
    def _addresses(cls, v: list[str]) -> list[str]:
        for a in v:
            if "@" not in a or any(c in a for c in "\r\n,;<>"):
                raise ValueError(f"'{a}' is not one email address")
        return v


class Notifier(_Strict):
    """One `notify:` entry: `{webhook: URL}` (Slack-compatible JSON) or `{email: {...}}`."""

    webhook: str | None = Field(default=None, max_length=2000)
    email: EmailNotify | None = None
    timeout_s: float = Field(default=10.0, gt=0, le=120)

    @field_validator("webhook")
    @classmethod
    def _http_url(cls, v: str | None) -> str | None:
        # The URL itself is never repeated: a Slack webhook's path is its token.
        if v is not None and not v.startswith(("https://", "http://")):
            raise ValueError("a webhook is an https:// (or http://) URL")
        return v

    @model_validator(mode="after")
    def _exactly_one(self) -> Notifier:
        if (self.webhook is None) == (self.email is None):
            raise ValueError("give exactly one of 'webhook' or 'email'")
        return self


class ReportsConfig(_Strict):
    """Where reports go and in which formats."""

    dir: str = "reports/out"
    # Any registered report format (driftscan.renderers); by default the built-in four.
    formats: list[str] = ["html", "pdf", "json", "csv"]
    signing_key: str | None = None
    # An AWS KMS asymmetric key (ECC_NIST_P256, or RSA) that signs manifests via kms:Sign.
    signing_kms_key: str | None = None
    kms_region: str | None = None
    kms_endpoint_url: str | None = None
    kms_profile: str | None = None
    kms_algorithm: (
        Literal["ECDSA_SHA_256", "RSASSA_PKCS1_V1_5_SHA_256", "RSASSA_PSS_SHA_256"] | None
    ) = None
    organisation: str = ""
    pdf_passing_limit: int = Field(default=500, ge=0)

    @field_validator("formats")
    @classmethod
    def _registered(cls, v: list[str]) -> list[str]:
        # The names registered under driftscan.renderers; no renderer is imported.
        registered = plugins.names(plugins.RENDERERS)
        unknown = [f for f in v if f not in registered]
        if unknown:
            raise ValueError(
                f"unknown report format '{unknown[0]}'; choose from {', '.join(registered)}"
            )
        return v

    @model_validator(mode="after")
    def _one_signer(self) -> ReportsConfig:
        if self.signing_key and self.signing_kms_key:
            raise ValueError("give at most one of 'signing_key' or 'signing_kms_key'")
        return self


_S3_URL = re.compile(r"s3://[a-z0-9][a-z0-9.\-]{2,62}(/.*)?")


class AnchorConfig(_Strict):
    """Where each sealed scan's chain head is written outside the store (design §6.7)."""

    s3: str | None = None  # s3://bucket/prefix, a bucket with Object Lock enabled
    file: str | None = None  # a local file, appended to (one JSON line per scan)
    retention_days: int = Field(default=365, ge=1, le=36500)
    profile: str | None = None
    region: str | None = None
    endpoint_url: str | None = None

    @model_validator(mode="after")
    def _one_target(self) -> AnchorConfig:
        if (self.s3 is None) == (self.file is None):
            raise ValueError("give exactly one of 's3' or 'file'")
        if self.s3 is not None and not _S3_URL.fullmatch(self.s3):
            raise ValueError(f"'{self.s3}' is not an s3://bucket/prefix URL")
        return self


class EvidenceConfig(_Strict):
    """Protections of the evidence beyond the store itself."""

    anchor: AnchorConfig | None = None


class StoreConfig(_Strict):
    """The embedded DuckDB file and how long its history is kept."""

    path: str = "./driftscan.duckdb"
    keep_days: int | None = Field(default=None, ge=1)
    # The fingerprint key, kept outside the DuckDB file (design §6.7); default `<store>.key`.
    key_file: str | None = None


class Scope(_Strict):
    """A named set of resources, by tags, regions, types and the providers' own dimensions
    (accounts, subscriptions, hosts ...: Provider.scope_dimensions)."""

    tags: dict[str, str] = Field(default_factory=dict)
    regions: list[str] = Field(default_factory=list)
    types: list[str] = Field(default_factory=list)

    def values(self, dimension: str) -> list[str]:
        """The values given for one provider dimension (empty when not given)."""
        return list(getattr(self, dimension, None) or [])


@lru_cache(maxsize=4)
def _scope_adapter(reg: Registry) -> TypeAdapter[Scope]:
    dims = {d.name for _, d in reg.scope_dimensions()}
    fields: dict[str, Any] = {n: (list[str], Field(default_factory=list)) for n in sorted(dims)}
    model = create_model("Scope", __base__=Scope, __doc__=Scope.__doc__, **fields)
    return TypeAdapter(model)


def _scope(v: Any) -> Scope:
    return _scope_adapter(registry()).validate_python(v)


class Config(_Strict):
    """The whole driftscan.yaml."""

    store: StoreConfig = Field(default_factory=StoreConfig)
    organisation: str = ""
    sources: list[Source] = Field(default_factory=list)
    # Sources collected at once (a bounded pool, not a thread per source); each source's own
    # `concurrency` bounds its hosts or requests within it.
    concurrency: int = Field(default=32, ge=1, le=1024)
    desired: list[DesiredEntry] = Field(default_factory=list)
    ignore: list[IgnoreRule] = Field(default_factory=list)
    rules: list[str] = Field(default_factory=lambda: ["builtin"])
    params: dict[str, Any] = Field(default_factory=dict)
    scopes: dict[str, Annotated[Scope, PlainValidator(_scope), SerializeAsAny()]] = Field(
        default_factory=dict
    )
    waivers: list[Waiver] = Field(default_factory=list)
    # Manual requirements attested here and in attestations/*.yaml beside this file (§6.6).
    attestations: list[Attestation] = Field(default_factory=list, max_length=10_000)
    reports: ReportsConfig = Field(default_factory=ReportsConfig)
    # Told after every `run` (design §6.5); a failed notification never changes the exit code.
    notify: list[Notifier] = Field(default_factory=list, max_length=20)
    evidence: EvidenceConfig = Field(default_factory=EvidenceConfig)
    # Every rule query runs in a sandbox with these ceilings; one that exceeds either reports
    # `error` and the other rules go on (rule files are untrusted input).
    rules_timeout_s: float = Field(default=60.0, gt=0, le=3600)
    rules_memory_mb: int = Field(default=1024, ge=64, le=65536)

    # Where the file was read from: relative paths inside it resolve against its folder.
    base_dir: Path = Field(default=Path("."), exclude=True)
    file: str = Field(default="", exclude=True)
    digest: str = Field(default="", exclude=True)

    @field_validator("store", mode="before")
    @classmethod
    def _store_shorthand(cls, v: Any) -> Any:
        return {"path": v} if isinstance(v, str) else v

    @model_validator(mode="after")
    def _unique_sources(self) -> Config:
        seen: set[str] = set()
        for i, src in enumerate(self.sources):
            if src.name in seen:
                raise LocatedError(("sources", i, "name"), f"duplicate source name '{src.name}'")
            seen.add(src.name)
        return self

    def resolve(self, p: str) -> Path:
        """A path from the config, relative to the config file's folder, with ~ expanded."""
        path = Path(os.path.expanduser(p))
        return path if path.is_absolute() else self.base_dir / path

    @property
    def store_path(self) -> Path:
        return self.resolve(self.store.path)

    @property
    def key_path(self) -> Path:
        """The fingerprint key file: `store.key_file`, else the store's path + `.key`."""
        if self.store.key_file:
            return self.resolve(self.store.key_file)
        return self.store_path.with_name(self.store_path.name + ".key")

    def source(self, name: str) -> SourceModel:
        for s in self.sources:
            if s.name == name:
                return s
        raise ConfigError(f"no source named '{name}'", file=self.file, key="sources")


def validate_config(data: Any, lines: Lines, file: str, base_dir: Path, digest: str = "") -> Config:
    """Validate parsed YAML into a Config, raising ConfigError with file, line and key."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError("the top level must be a mapping", file=file, line=1)
    nul = _nul_at(data)
    if nul is not None:
        # Every path, name and URL of a config ends up in a system call, which refuses it
        # ("embedded null byte") far from here.
        raise ConfigError("a NUL character (\\0) is not allowed in a config value",
                          file=file, line=line_for(lines, nul), key=dotted(nul) or None)  # fmt: skip
    try:
        return Config.model_validate({**data, "base_dir": base_dir, "file": file, "digest": digest})
    except ValidationError as exc:
        raise validation_error(exc, data, lines, file, tags=source_types()) from None


def _nul_at(v: Any, path: tuple[str | int, ...] = ()) -> tuple[str | int, ...] | None:
    """The key path of the first string (value or key) holding a NUL, or None."""
    if isinstance(v, str):
        return path if "\0" in v else None
    items = v.items() if isinstance(v, dict) else enumerate(v) if isinstance(v, list) else ()
    for k, c in items:
        if isinstance(k, str) and "\0" in k:
            return (*path, k)
        found = _nul_at(c, (*path, k))
        if found is not None:
            return found
    return None


def find_config(explicit: str | None) -> Path:
    """--config, else $DRIFTSCAN_CONFIG, else ./driftscan.yaml."""
    return Path(explicit or os.environ.get("DRIFTSCAN_CONFIG") or "driftscan.yaml")


def load_config(path: str | Path | None = None) -> Config:
    """Find, read and validate the configuration."""
    p = find_config(str(path) if path else None)
    text = read_yaml_text(p)  # read once: what is validated is what the digest names
    data, lines = parse_yaml(text, str(p))
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return validate_config(data, lines, str(p), p.resolve().parent, digest)
