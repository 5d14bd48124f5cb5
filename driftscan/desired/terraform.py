"""Terraform state v4 as declared state: local files, globs and s3://bucket/key objects."""

from __future__ import annotations

import glob
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from driftscan.desired.declaration import Declaration, deep_merge, identity
from driftscan.desired.tfmap import Mapped, TfContext, mappings
from driftscan.errors import ConfigError
from driftscan.redaction import Fingerprinter
from driftscan.yamlsrc import MAX_DEPTH, describe_validation, dotted

SUPPORTED_VERSION = 4
DisplayFn = Callable[[Path], str]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TfInstance(BaseModel):
    """One instance of a resource (count / for_each give several). Terraform adds keys here
    over time (identity, ...), so unknown ones are accepted."""

    model_config = ConfigDict(extra="allow", frozen=True)

    index_key: int | str | None = None
    schema_version: int = 0
    attributes: dict[str, Any] | None = None
    deposed: str | None = None


class TfResource(_Strict):
    """One resource block of the state."""

    module: str | None = None
    mode: Literal["managed", "data"]
    type: str
    name: str
    each: Literal["list", "map"] | None = None
    provider: str
    instances: list[TfInstance] = Field(default_factory=list)


class TfState(_Strict):
    """The top level of a v4 state file."""

    version: Literal[4]
    terraform_version: str | None = None
    serial: int = 0
    lineage: str = ""
    outputs: dict[str, Any] = Field(default_factory=dict)
    resources: list[TfResource] = Field(default_factory=list)
    check_results: Any = None


@dataclass
class TfLoad:
    """Declarations from Terraform states, plus what could only be counted as present."""

    declarations: list[Declaration] = field(default_factory=list)
    presence_only: dict[str, int] = field(default_factory=dict)  # tf type → instances
    skipped: dict[str, int] = field(default_factory=dict)  # tf type → instances with no key
    fingerprint: Fingerprinter | None = None  # the store's key; a random one when None


def _line_of(text: str, loc: tuple[str | int, ...]) -> int | None:
    """Best-effort line of a key path in JSON text: the first occurrence of its last key name."""
    for part in reversed(loc):
        if isinstance(part, str):
            m = re.search(r'"' + re.escape(part) + r'"\s*:', text)
            if m:
                return text.count("\n", 0, m.start()) + 1
    return None


def _too_deep(data: Any) -> tuple[str | int, ...] | None:
    """The key path of a value nested deeper than MAX_DEPTH, or None.

    Everything after the parse (mappings, merges, flattening, json.dumps) recurses into
    attribute values, so the bound is checked once here, level by level, without recursing.
    """
    level, depth = [data], 0
    while level:
        depth += 1
        if depth > MAX_DEPTH:
            break
        level = [
            c
            for v in level
            for c in (v.values() if isinstance(v, dict) else v)
            if isinstance(c, dict | list)
        ]
    else:
        return None
    # Only on the way to an error: find one such path, keeping the keys this time.
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(data, ())]
    while stack:
        v, path = stack.pop()
        if len(path) >= MAX_DEPTH:
            return path
        items = v.items() if isinstance(v, dict) else enumerate(v)
        stack.extend((c, (*path, k)) for k, c in items if isinstance(c, dict | list))
    return None  # pragma: no cover - the level walk found one


def parse_state(text: str, file: str) -> TfState:
    """Parse and validate state text; errors name the file, the line and the key."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"invalid JSON (truncated?): {exc.msg}", file=file, line=exc.lineno
        ) from None
    except RecursionError:  # json's C scanner gives up near Python's recursion limit
        raise ConfigError(
            f"JSON nested deeper than {MAX_DEPTH} levels; refusing", file=file
        ) from None
    if not isinstance(data, dict):
        raise ConfigError(
            "not a Terraform state (the top level must be an object)", file=file, line=1
        )
    deep = _too_deep(data)
    if deep is not None:
        raise ConfigError(
            f"JSON nested deeper than {MAX_DEPTH} levels; refusing",
            file=file,
            line=_line_of(text, deep[:6]),
            key=dotted(deep[:6]) + " ...",
        )
    version = data.get("version")
    if version != SUPPORTED_VERSION:
        raise ConfigError(
            f"Terraform state format version {version!r} is not supported; driftscan reads "
            f"version {SUPPORTED_VERSION} (Terraform ≥ 0.12)",
            file=file,
            line=_line_of(text, ("version",)),
            key="version",
        )
    try:
        return TfState.model_validate(data)
    except ValidationError as exc:
        loc, msg = describe_validation(exc, data)
        raise ConfigError(
            msg, file=file, line=_line_of(text, loc), key=dotted(loc) or None
        ) from None


def read_s3(uri: str, *, profile: str | None, endpoint_url: str | None, key: str) -> str:
    """The text of an s3://bucket/key object, read with the entry's profile and endpoint."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    bucket, _, obj = uri[len("s3://") :].partition("/")
    if not bucket or not obj:
        raise ConfigError("expected s3://bucket/key", file=uri, key=key)
    try:
        session = boto3.Session(profile_name=profile) if profile else boto3.Session()
        client = session.client("s3", endpoint_url=endpoint_url)
        body = client.get_object(Bucket=bucket, Key=obj)["Body"].read()
    except (BotoCoreError, ClientError) as exc:
        raise ConfigError(f"cannot read the state object: {exc}", file=uri, key=key) from None
    try:
        return str(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError("the state object is not UTF-8 text", file=uri, key=key) from None


def state_files(resolved: Path, configured: str, key: str) -> list[Path]:
    """A local state path or glob; a glob that matches nothing is an error, not an empty state."""
    if any(ch in configured for ch in "*?["):
        found = sorted(
            Path(p) for p in glob.glob(str(resolved), recursive=True) if Path(p).is_file()
        )
        if not found:
            raise ConfigError("no Terraform state matches this pattern", file=configured, key=key)
        return found
    if not resolved.is_file():
        raise ConfigError("file not found", file=configured, key=key)
    return [resolved]


def _address(r: TfResource, inst: TfInstance) -> str:
    addr = f"{r.type}.{r.name}" if r.mode == "managed" else f"data.{r.type}.{r.name}"
    if r.module:
        addr = f"{r.module}.{addr}"
    if inst.index_key is not None:
        addr += f"[{json.dumps(inst.index_key)}]"
    return addr


def declarations(state: TfState, file: str, out: TfLoad) -> None:
    """Map every managed resource instance of one state to declarations, merged by key."""
    ctx = TfContext(fingerprint=out.fingerprint) if out.fingerprint else TfContext()
    tf = mappings()
    live: list[tuple[TfResource, TfInstance, dict[str, Any]]] = []
    for r in state.resources:
        if r.mode != "managed":
            continue  # data sources read things; they declare nothing
        for inst in r.instances:
            if inst.deposed or inst.attributes is None:
                continue  # a deposed object is on its way out
            live.append((r, inst, inst.attributes))
            tf.observe(r.type, inst.attributes, ctx)
    by_key: dict[str, Declaration] = {}
    parts: list[tuple[Mapped, str]] = []
    for r, inst, attrs in live:
        src = f"{file}#{_address(r, inst)}"
        mapper = tf.mappers.get(r.type)
        if mapper is None:
            key = tf.fallback_key(attrs)
            if key is None:
                out.skipped[r.type] = out.skipped.get(r.type, 0) + 1
                continue
            out.presence_only[r.type] = out.presence_only.get(r.type, 0) + 1
            ident = identity(key)
            if ident.key not in by_key:
                by_key[ident.key] = Declaration(
                    key=ident.key, provider=ident.provider, type=ident.type, source=src,
                    account=ident.account, region=ident.region, name=ident.name,
                    presence_only=True,
                )  # fmt: skip
            continue
        mapped = mapper(attrs, ctx)
        if mapped is None:
            out.skipped[r.type] = out.skipped.get(r.type, 0) + 1
            continue
        if mapped.part:
            parts.append((mapped, src))
            continue
        _add(by_key, mapped, src)
    # Split configuration resources (bucket encryption, security group rules) join their parent.
    for mapped, src in parts:
        _add(by_key, mapped, src)
    for k in sorted(by_key):
        decl = by_key[k]
        fin = tf.finalize.get(decl.type or "")
        if fin is not None:
            fin(decl.declared)
        out.declarations.append(decl)


def _add(by_key: dict[str, Declaration], m: Mapped, src: str) -> None:
    have = by_key.get(m.key)
    if have is None:
        have = by_key[m.key] = Declaration(
            key=m.key, provider=m.provider, type=m.type, source=src, account=m.account,
            region=m.region, name=m.name,
        )  # fmt: skip
    elif have.presence_only:
        have.presence_only = False
        have.type = m.type
    for k, v in m.merge_lists.items():
        have.declared[k] = sorted([*have.declared.get(k, []), *v], key=json.dumps)
    deep_merge(have.declared, m.declared)
    if not m.part and have.source != src:
        # the resource itself outranks the split parts as the place it was declared
        have.source, have.account, have.region, have.name = src, m.account, m.region, m.name


def load(
    configured: str,
    resolved: Path | None,
    *,
    key: str,
    out: TfLoad,
    display: DisplayFn = str,
    profile: str | None = None,
    endpoint_url: str | None = None,
) -> None:
    """Load one `terraform:` entry (a file, a glob or an s3:// object) into `out`."""
    if configured.startswith("s3://"):
        text = read_s3(configured, profile=profile, endpoint_url=endpoint_url, key=key)
        declarations(parse_state(text, configured), configured, out)
        return
    assert resolved is not None
    for path in state_files(resolved, configured, key):
        name = display(path)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read: {exc}", file=name) from None
        declarations(parse_state(text, name), name, out)


__all__ = [
    "SUPPORTED_VERSION",
    "TfLoad",
    "TfState",
    "load",
    "parse_state",
    "read_s3",
    "state_files",
]
