"""Terraform states (format 3 and 4) as declared state: local files, globs and s3:// objects."""

from __future__ import annotations

import codecs
import glob
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from driftscan.desired.declaration import (
    Declaration,
    deep_merge,
    fingerprint_secrets,
    identity,
)
from driftscan.desired.tfmap import Mapped, TfContext, mappings
from driftscan.errors import ConfigError
from driftscan.inputs import NotReadable, read_bounded, too_large
from driftscan.redaction import Fingerprinter
from driftscan.yamlsrc import MAX_DEPTH, describe_validation, dotted

SUPPORTED_VERSIONS = (3, 4)
# Bounds on a hostile state (design §1.7): nesting as for every other input (MAX_DEPTH); size
# and instance count far beyond any real state (the largest public ones are tens of MB).
MAX_STATE_BYTES = 512 * 2**20
MAX_INSTANCES = 1_000_000
DisplayFn = Callable[[Path], str]
VERSION_HINT = (
    "driftscan reads format version 3 (Terraform 0.7 to 0.11, and terraformer) and "
    "4 (Terraform 0.12 and later)"
)


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
    """The top level of a v4 state file (a v3 one is converted into this shape)."""

    version: Literal[3, 4]
    terraform_version: str | None = None
    serial: int = 0
    lineage: str = ""
    outputs: dict[str, Any] = Field(default_factory=dict)
    resources: list[TfResource] = Field(default_factory=list)
    check_results: Any = None


# --- format version 3 -----------------------------------------------------------------------


class _Loose(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)


class V3Primary(_Loose):
    """An instance of a v3 resource: its id and the flatmap of its attributes."""

    id: str = ""
    attributes: dict[str, Any] = Field(default_factory=dict)
    tainted: bool = False


class V3Resource(_Loose):
    """One `TYPE.NAME[.N]` entry of a v3 module's `resources`."""

    type: str
    primary: V3Primary | None = None
    provider: str = ""


class V3Module(_Loose):
    """A v3 module: its path from the root and its resources by address."""

    path: list[str] = Field(default_factory=lambda: ["root"])
    resources: dict[str, V3Resource] = Field(default_factory=dict)


class V3State(_Loose):
    """The top level of a v3 state (Terraform 0.7 to 0.11, terraformer)."""

    version: Literal[3]
    terraform_version: str | None = None
    serial: int = 0
    lineage: str = ""
    modules: list[V3Module] = Field(default_factory=list)


def expand_flatmap(flat: dict[str, Any], where: str = "attributes") -> dict[str, Any]:
    """A v3 `primary.attributes` flatmap as the nested value v4 writes: `x.#` counts make
    lists (set hashes and indices alike, in index order), `x.%` counts make maps whose keys
    may hold dots (`tags.kubernetes.io/cluster/x`), other dotted keys nest. Leaves stay text:
    the mappings read numbers and booleans from either format."""
    trie: dict[Any, Any] = {}
    for k, v in flat.items():
        segs = str(k).split(".")
        if len(segs) > MAX_DEPTH:
            raise ValueError(f"{where}.{k[:80]}: nested deeper than {MAX_DEPTH} levels")
        node = trie
        for s in segs:
            node = node.setdefault(s, {})
        node[None] = "" if v is None else (v if isinstance(v, str) else json.dumps(v))
    return _node_map(trie, top=True)


def _leaves(node: dict[Any, Any], prefix: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, child in node.items():
        if k is None:
            out[prefix] = child
        else:
            out.update(_leaves(child, f"{prefix}.{k}"))
    return out


def _convert(node: dict[Any, Any]) -> Any:
    kids = [k for k in node if k is not None]
    if "#" in node:
        items = [k for k in kids if k != "#"]
        items.sort(key=lambda s: (0, int(s), "") if s.isdigit() else (1, 0, s))
        return [_convert(node[k]) for k in items]
    if "%" in node:
        return _node_map(node, top=False)
    if not kids:
        return node.get(None, "")
    return _node_map(node, top=True)


def _node_map(node: dict[Any, Any], *, top: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, child in node.items():
        if k is None or k == "%":
            continue
        kids = [c for c in child if c is not None]
        if not kids:
            out[k] = child.get(None, "")
        elif "#" in child or "%" in child or top:
            out[k] = _convert(child)
        else:
            # A map's key with dots in it: the rest of the flat key is the map key.
            out.update(_leaves(child, k))
    return out


def _v3_address(addr: str) -> tuple[str, str, int | None]:
    parts = addr.split(".")
    mode = "managed"
    if parts[0] == "data":
        mode, parts = "data", parts[1:]
    index = int(parts[2]) if len(parts) >= 3 and parts[2].isdigit() else None
    return mode, (parts[1] if len(parts) > 1 else parts[0]), index


def from_v3(v3: V3State, file: str) -> TfState:
    """A v3 state in the v4 shape: one resource block per `TYPE.NAME`, its counted instances."""
    blocks: dict[tuple[str | None, str, str, str], dict[str, Any]] = {}
    for m_i, mod in enumerate(v3.modules):
        path = [p for p in mod.path[1:] if p]  # the first element is "root"
        module = ".".join(f"module.{p}" for p in path) or None
        for addr, res in mod.resources.items():
            mode, name, index = _v3_address(addr)
            block = blocks.setdefault(
                (module, mode, res.type, name),
                {"module": module, "mode": mode, "type": res.type, "name": name,
                 "provider": res.provider or f"provider.{res.type.split('_')[0]}",
                 "instances": []},
            )  # fmt: skip
            if res.primary is None:
                continue
            where = f"modules.{m_i}.resources.{addr}.primary.attributes"
            try:
                attrs = expand_flatmap(res.primary.attributes, where)
            except ValueError as exc:
                raise ConfigError(str(exc), file=file, key=where) from None
            attrs.setdefault("id", res.primary.id)
            if index is not None:
                block["each"] = "list"
            block["instances"].append({"index_key": index, "attributes": attrs})
    return TfState(
        version=3, terraform_version=v3.terraform_version, serial=v3.serial, lineage=v3.lineage,
        resources=[TfResource.model_validate(b) for b in blocks.values()],
    )  # fmt: skip


# --- reading and recognising the file ---------------------------------------------------------


@dataclass
class TfLoad:
    """Declarations from Terraform states, what could only be counted, and what failed."""

    declarations: list[Declaration] = field(default_factory=list)
    presence_only: dict[str, int] = field(default_factory=dict)  # tf type → instances
    skipped: dict[str, int] = field(default_factory=dict)  # tf type → instances not compared
    mapped: dict[str, int] = field(default_factory=dict)  # tf type → instances mapped
    providers: dict[str, str] = field(default_factory=dict)  # tf type → provider name
    failed: list[ConfigError] = field(default_factory=list)  # states of a glob that failed
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


def _unfit(data: Any) -> tuple[tuple[str | int, ...], str] | None:
    """The key path of the first value JSON's text allows but no store or report can carry,
    and why: a lone surrogate (`"\\ud800"`, half a character) or a number beyond a double
    (`1e999`, and Python's json reads NaN and Infinity too). Terraform writes neither."""
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(data, ())]
    while stack:
        v, path = stack.pop()
        for k, c in v.items() if isinstance(v, dict) else enumerate(v):
            if isinstance(k, str) and not _text(k):
                return (*path, k), "a key holds a lone surrogate (half a character)"
            if isinstance(c, dict | list):
                stack.append((c, (*path, k)))
            elif isinstance(c, str) and not _text(c):
                return (*path, k), "a lone surrogate (half a character) is not text"
            elif isinstance(c, float) and not math.isfinite(c):
                why = f"a number no JSON reader holds (NaN, Infinity, or past 1e308: {c})"
                return (*path, k), why
    return None


def _text(s: str) -> bool:
    if s.isascii():
        return True
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def decode(raw: bytes, file: str) -> str:
    """State bytes as text: UTF-8 (a BOM accepted) or UTF-16 (what PowerShell's `>` writes)."""
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8) :]
    elif raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError:
            raise ConfigError(
                "UTF-16 text (by its byte order mark) that does not decode", file=file
            ) from None
    elif len(raw) >= 2 and (raw[0] == 0) != (raw[1] == 0):
        # JSON starts with an ASCII character: a NUL beside it is UTF-16 without a BOM.
        try:
            return raw.decode("utf-16-be" if raw[0] == 0 else "utf-16-le")
        except UnicodeDecodeError:
            raise ConfigError("looks like UTF-16 text but does not decode", file=file) from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"not UTF-8 text (byte {exc.start}); a Terraform state is UTF-8 JSON", file=file
        ) from None


_PRINTABLE = re.compile(r"[^\x20-\x7e]")


def _shown(v: Any) -> str:
    # Values from a hostile file go into a message: printable and bounded.
    return _PRINTABLE.sub("?", str(v))[:200]


def remote_state(backend: dict[str, Any]) -> str:
    """Where a backend's state lives, from the fields that name it (never credentials)."""
    kind = str(backend.get("type") or "unknown")
    cfg = backend.get("config") if isinstance(backend.get("config"), dict) else {}
    assert isinstance(cfg, dict)
    if kind == "s3" and cfg.get("bucket"):
        return f"s3://{_shown(cfg['bucket'])}/{_shown(cfg.get('key') or '')}"
    if kind == "azurerm" and cfg.get("container_name"):
        return (
            f"azurerm storage account {_shown(cfg.get('storage_account_name') or '?')}, "
            f"container {_shown(cfg['container_name'])}, key {_shown(cfg.get('key') or '?')}"
        )
    if kind == "gcs" and cfg.get("bucket"):
        prefix = str(cfg.get("prefix") or "").strip("/")
        return (
            f"gs://{_shown(cfg['bucket'])}/{_shown(prefix + '/' if prefix else '')}default.tfstate"
        )
    if kind in ("remote", "cloud"):
        ws = cfg.get("workspaces") if isinstance(cfg.get("workspaces"), dict) else {}
        assert isinstance(ws, dict)
        name = ws.get("name") or (f"{ws['prefix']}*" if ws.get("prefix") else "?")
        return (
            f"{kind} backend: organization {_shown(cfg.get('organization') or '?')}, "
            f"workspace {_shown(name)}"
        )
    if kind == "http" and cfg.get("address"):
        u = urlsplit(str(cfg["address"]))
        return f"{_shown(u.scheme)}://{_shown(u.hostname or '')}{_shown(u.path)}"  # no userinfo, no query
    if kind == "consul" and cfg.get("path"):
        return f"consul path {_shown(cfg['path'])}"
    return f"a {_shown(kind)} backend"


def _recognise(data: dict[str, Any], text: str, file: str) -> int:
    """The state's format version, or an error saying what the file is instead."""
    for key in ("backend", "remote"):
        b = data.get(key)
        if isinstance(b, dict) and b.get("type"):
            where = remote_state(b)
            hint = (
                f"point `terraform:` at {where}"
                if where.startswith("s3://")
                else "read it with `terraform state pull > current.tfstate` and point `terraform:` there"
            )
            raise ConfigError(
                f"this is Terraform's backend settings file (.terraform/terraform.tfstate), not a "
                f"state; the state is in {where}: {hint}",
                file=file, line=_line_of(text, (key,)), key=key,
            )  # fmt: skip
    if "version" not in data:
        if "format_version" in data and ("values" in data or "planned_values" in data):
            raise ConfigError(
                "not a Terraform state: this is `terraform show -json` output; point "
                "`terraform:` at the state itself (`terraform state pull > current.tfstate`)",
                file=file, line=1,
            )  # fmt: skip
        raise ConfigError("not a Terraform state: it has no 'version' key", file=file, line=1)
    version = data["version"]
    if version in SUPPORTED_VERSIONS and type(version) is int:
        return int(version)
    if version in (1, 2) and type(version) is int:
        said = f"version {version} was written by Terraform before 0.7"
    elif isinstance(version, int) and not isinstance(version, bool) and version > 4:
        said = f"version {version} is newer than any this driftscan knows"
    else:
        said = f"version {_shown(json.dumps(version))[:40]} is not a state format version"
    raise ConfigError(
        f"Terraform state format {said}, so it is not supported; {VERSION_HINT}",
        file=file, line=_line_of(text, ("version",)), key="version",
    )  # fmt: skip


def _count_instances(data: dict[str, Any], version: int) -> int:
    if version == 4:
        res = data.get("resources")
        return sum(
            len(r.get("instances") or ()) for r in res if isinstance(r, dict)
        ) if isinstance(res, list) else 0  # fmt: skip
    mods = data.get("modules")
    return sum(
        len(m.get("resources") or ()) for m in mods if isinstance(m, dict)
    ) if isinstance(mods, list) else 0  # fmt: skip


def parse_state(text: str, file: str) -> TfState:
    """Parse and validate state text (v3 converted to v4's shape); errors name the file, the
    line and the key, and say what a mistaken file is instead."""
    if not text.strip():
        raise ConfigError("empty file: there is no Terraform state in it", file=file)
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
    unfit = _unfit(data)
    if unfit is not None:
        path, why = unfit
        raise ConfigError(f"{why}; refusing", file=file, line=_line_of(text, path),
                          key=dotted(path))  # fmt: skip
    version = _recognise(data, text, file)
    n = _count_instances(data, version)
    if n > MAX_INSTANCES:
        raise ConfigError(
            f"{n:,} resource instances, more than the {MAX_INSTANCES:,} driftscan reads from "
            "one state; refusing",
            file=file,
        )
    try:
        if version == 3:
            return from_v3(V3State.model_validate(data), file)
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
        resp = client.get_object(Bucket=bucket, Key=obj)
        if int(resp.get("ContentLength") or 0) > MAX_STATE_BYTES:
            raise ConfigError(_too_big(int(resp["ContentLength"])), file=uri, key=key)
        body = resp["Body"].read(MAX_STATE_BYTES + 1)
    except (BotoCoreError, ClientError) as exc:
        raise ConfigError(f"cannot read the state object: {exc}", file=uri, key=key) from None
    if len(body) > MAX_STATE_BYTES:
        raise ConfigError(_too_big(len(body)), file=uri, key=key)
    return decode(body, uri)


def _too_big(size: int) -> str:
    return f"{too_large(size, MAX_STATE_BYTES)}; refusing"  # as read_file says it


def read_file(path: Path, name: str) -> str:
    """The text of a local state file, bounded in size."""
    try:
        raw = read_bounded(path, MAX_STATE_BYTES)
    except NotReadable as exc:
        raise ConfigError(f"{exc}; refusing", file=name) from None
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror or exc}", file=name) from None
    return decode(raw, name)


def state_files(resolved: Path, configured: str, key: str) -> list[Path]:
    """A local state path or glob; a glob that matches nothing is an error, not an empty state."""
    if is_glob(configured):
        found = sorted(
            Path(p) for p in glob.glob(str(resolved), recursive=True) if Path(p).is_file()
        )
        if not found:
            raise ConfigError("no Terraform state matches this pattern", file=configured, key=key)
        return found
    if not resolved.exists():
        raise ConfigError("file not found", file=configured, key=key)
    return [resolved]  # a folder or device is named as such when read (read_file)


def is_glob(configured: str) -> bool:
    return any(ch in configured for ch in "*?[")


# --- mapping ---------------------------------------------------------------------------------


def _address(r: TfResource, inst: TfInstance) -> str:
    addr = f"{r.type}.{r.name}" if r.mode == "managed" else f"data.{r.type}.{r.name}"
    if r.module:
        addr = f"{r.module}.{addr}"
    if inst.index_key is not None:
        addr += f"[{json.dumps(inst.index_key)}]"
    return addr


_PROVIDER_V4 = re.compile(r'provider\["([^"]+)"\]')
_PROVIDER_OLD = re.compile(r"provider\.([A-Za-z0-9_-]+)")


def provider_name(provider: str, tf_type: str) -> str:
    """The provider's short name from a state's provider address (`provider["…/hashicorp/aws"]`,
    0.12's and v3's `provider.aws`); the type's prefix when the address says nothing."""
    m = _PROVIDER_V4.search(provider)
    if m:
        return m.group(1).rsplit("/", 1)[-1]
    m = _PROVIDER_OLD.search(provider)
    return m.group(1) if m else tf_type.split("_", 1)[0]


def _count(d: dict[str, int], k: str) -> None:
    d[k] = d.get(k, 0) + 1


def declarations(state: TfState, file: str, out: TfLoad) -> None:
    """Map every managed resource instance of one state to declarations, merged by key."""
    ctx = TfContext(fingerprint=out.fingerprint) if out.fingerprint else TfContext()
    tf = mappings()
    live: list[tuple[TfResource, TfInstance, dict[str, Any]]] = []
    for r in state.resources:
        if r.mode != "managed":
            continue  # data sources read things; they declare nothing
        out.providers.setdefault(r.type, provider_name(r.provider, r.type))
        for inst in r.instances:
            if inst.deposed or inst.attributes is None:
                continue  # a deposed object is on its way out
            live.append((r, inst, inst.attributes))
            tf.observe(r.type, inst.attributes, ctx)
    by_key: dict[str, Declaration] = {}
    parts: list[tuple[Mapped, str]] = []
    for r, inst, attrs in live:
        src = f"{file}#{_address(r, inst)}"
        mapper = tf.mapper(r.type)
        if mapper is None:
            key = None if r.type in tf.not_resources else tf.fallback_key(attrs)
            if key is None:
                _count(out.skipped, r.type)
                continue
            _count(out.presence_only, r.type)
            ident = identity(key)
            if ident.key not in by_key:
                by_key[ident.key] = Declaration(
                    key=ident.key, provider=ident.provider, type=ident.type, source=src,
                    account=ident.account, region=ident.region, name=ident.name,
                    presence_only=True,
                )  # fmt: skip
            continue
        try:
            mapped = mapper(attrs, ctx)
        except (KeyError, TypeError, ValueError, AttributeError):
            mapped = None  # an instance without what its type always has: not compared
        if mapped is None:
            _count(out.skipped, r.type)
            continue
        _count(out.mapped, r.type)
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
        # Last, on the whole declaration (its parts merged): the state holds secrets in clear.
        out.declarations.append(fingerprint_secrets(decl, ctx.fingerprint))


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
    """Load one `terraform:` entry (a file, a glob or an s3:// object) into `out`.

    A single file or object that fails is an error; one state of a glob that fails is
    recorded in `out.failed` and the others still load."""
    if configured.startswith("s3://"):
        text = read_s3(configured, profile=profile, endpoint_url=endpoint_url, key=key)
        declarations(parse_state(text, configured), configured, out)
        return
    assert resolved is not None
    files = state_files(resolved, configured, key)
    for path in files:
        name = display(path)
        try:
            state = parse_state(read_file(path, name), name)
        except ConfigError as exc:
            if not is_glob(configured):
                raise
            out.failed.append(exc)
            continue
        declarations(state, name, out)


__all__ = [
    "MAX_INSTANCES",
    "MAX_STATE_BYTES",
    "SUPPORTED_VERSIONS",
    "TfLoad",
    "TfState",
    "TypeStats",
    "decode",
    "expand_flatmap",
    "load",
    "parse_state",
    "provider_name",
    "provider_share",
    "read_s3",
    "remote_state",
    "state_files",
    "type_stats",
]


# --- coverage: what the mappings compare ----------------------------------------------------


@dataclass(frozen=True)
class TypeStats:
    """Instances of one Terraform type: mapped (compared), presence only, skipped."""

    tf_type: str
    provider: str
    mapped: int
    presence_only: int
    skipped: int

    @property
    def instances(self) -> int:
        return self.mapped + self.presence_only + self.skipped


def type_stats(load: TfLoad) -> list[TypeStats]:
    """Per Terraform type, by provider then type."""
    types = set(load.mapped) | set(load.presence_only) | set(load.skipped)
    rows = [
        TypeStats(
            t,
            load.providers.get(t, t.split("_", 1)[0]),
            load.mapped.get(t, 0),
            load.presence_only.get(t, 0),
            load.skipped.get(t, 0),
        )
        for t in types
    ]
    return sorted(rows, key=lambda r: (r.provider, r.tf_type))


def provider_share(rows: list[TypeStats]) -> dict[str, dict[str, Any]]:
    """Per provider: instances, mapped, presence only, skipped, and the mapped share in %."""
    out: dict[str, dict[str, Any]] = {}
    for r in rows:
        p = out.setdefault(
            r.provider, {"instances": 0, "mapped": 0, "presence_only": 0, "skipped": 0}
        )
        p["instances"] += r.instances
        p["mapped"] += r.mapped
        p["presence_only"] += r.presence_only
        p["skipped"] += r.skipped
    for p in out.values():
        p["mapped_pct"] = round(100.0 * p["mapped"] / p["instances"], 1) if p["instances"] else None
    return dict(sorted(out.items()))
