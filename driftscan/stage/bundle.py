"""One bundle: a folder of Parquet resource rows and the manifest.json that hashes and seals them."""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from driftscan.model import Resource, Slice, SourceRun, canonical_json, sha256_file
from driftscan.redaction import Fingerprinter
from driftscan.store.core import encode_versions

FORMAT = "driftscan-bundle/1"
MANIFEST = "manifest.json"
RESOURCES = "resources.parquet"
# Resources held before they are encoded and written as one Parquet row group: bounds what a
# source's collection keeps in memory however many resources it yields.
BATCH = 5_000
# A manifest is small (runs, slices, units); one past this is not a bundle this tool wrote.
MAX_MANIFEST_BYTES = 64 * 1024 * 1024

_HEX64 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
# A file of the bundle, named by the manifest: a plain name inside the bundle's folder.
_NAME = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")]


# The columns of resources.parquet: the store's version rows, then the per-scan measurements.
COLUMNS = [*encode_versions([]).schema.names, "observed"]


def _observed(rs: Sequence[Resource]) -> pa.Array:
    return pa.array([canonical_json(r.observed) if r.observed else None for r in rs], pa.string())


class BundleWriter:
    """Streams resources into `folder/resources.parquet` in batches; thread-safe.

    Rows are the store's version rows (with their doc_hash) plus each resource's per-scan
    `observed` measurements; the file is written as `.part` and renamed by close().
    """

    def __init__(self, folder: Path, *, batch: int = BATCH) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / RESOURCES
        self._part = folder / (RESOURCES + ".part")
        self._batch = batch
        self._buf: list[Resource] = []
        self._lock = threading.Lock()
        self._writer: pq.ParquetWriter | None = None
        self.rows = 0

    def add(self, resources: Sequence[Resource]) -> None:
        """Take resources already cleaned by the collect context (the sink of run_sources)."""
        with self._lock:
            self._buf.extend(resources)
            if len(self._buf) >= self._batch:
                self._flush()

    def _flush(self) -> None:
        if not self._buf:
            return
        rs, self._buf = self._buf, []
        versions = encode_versions(rs)
        table = pa.Table.from_batches([versions]).append_column("observed", _observed(rs))
        if self._writer is None:
            self._writer = pq.ParquetWriter(self._part, table.schema, compression="zstd")
        self._writer.write_table(table)
        self.rows += len(rs)

    def close(self) -> dict[str, Any] | None:
        """Finish the file; its manifest entry (name, sha256, rows, bytes), or None when no
        resource was written."""
        with self._lock:
            self._flush()
            if self._writer is None:
                self.path.unlink(missing_ok=True)  # a retried shard's earlier file
                return None
            self._writer.close()
            self._writer = None
        os.replace(self._part, self.path)
        return {
            "path": RESOURCES,
            "sha256": sha256_file(self.path),
            "rows": self.rows,
            "bytes": self.path.stat().st_size,
        }


def _columns(path: Path) -> list[str] | str:
    try:
        return list(pq.read_schema(path).names)
    except (OSError, pa.ArrowException) as exc:
        return f"unreadable ({exc})"


# -- the manifest -------------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FileEntry(_Strict):
    path: _NAME
    sha256: _HEX64
    rows: int = Field(ge=0)
    bytes: int = Field(ge=0)


class RunEntry(_Strict):
    source: str
    provider: str
    status: Literal["ok", "partial", "failed"]
    reason: str | None = None
    duration_s: float = Field(ge=0)
    identity: str | None = None
    resources: int = Field(ge=0)


class SliceEntry(_Strict):
    source: str
    provider: str
    name: str
    status: Literal["ok", "failed"]
    reason: str | None = None
    detail: str | None = None
    account: str | None = None
    region: str | None = None
    types: list[str] = Field(default_factory=list)
    keys: list[str] = Field(default_factory=list)
    resources: int = Field(default=0, ge=0)


class Manifest(_Strict):
    """manifest.json: what a bundle holds, sealed with the store's fingerprint key."""

    format: Literal["driftscan-bundle/1"]
    run_id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")]
    shard: tuple[int, int]
    config_hash: str
    key_id: str
    tool_version: str
    started_at: datetime
    finished_at: datetime
    units: list[str]
    runs: list[RunEntry]
    slices: list[SliceEntry]
    files: list[FileEntry]
    # HMAC (the fingerprint key) of the manifest without this field: only a holder of the
    # store's key writes a manifest that ingests, and no field can be edited afterwards.
    seal: str = ""


def _seal_body(doc: dict[str, Any]) -> str:
    return canonical_json({k: v for k, v in doc.items() if k != "seal"})


def write_manifest(
    folder: Path,
    *,
    run_id: str,
    shard: tuple[int, int],
    config_hash: str,
    tool_version: str,
    started_at: datetime,
    finished_at: datetime,
    units: Sequence[str],
    runs: Sequence[SourceRun],
    files: Sequence[dict[str, Any]],
    fingerprint: Fingerprinter,
) -> Path:
    """Write folder/manifest.json (atomically, last: a folder without one is not a bundle)."""
    doc: dict[str, Any] = {
        "format": FORMAT,
        "run_id": run_id,
        "shard": list(shard),
        "config_hash": config_hash,
        "key_id": fingerprint.key_id,
        "tool_version": tool_version,
        "started_at": started_at.isoformat(),
        "finished_at": finished_at.isoformat(),
        "units": sorted(units),
        "runs": [
            {
                "source": r.source,
                "provider": r.provider,
                "status": r.status,
                "reason": r.reason,
                "duration_s": float(r.duration_s),
                "identity": r.identity,
                "resources": r.resource_count,
            }
            for r in runs
        ],
        "slices": [
            {
                "source": s.source,
                "provider": s.provider,
                "name": s.name,
                "status": s.status,
                "reason": s.reason,
                "detail": s.detail,
                "account": s.account,
                "region": s.region,
                "types": list(s.types),
                "keys": list(s.keys),
                "resources": s.resources,
            }
            for r in runs
            for s in r.slices
        ],
        "files": list(files),
    }
    doc["seal"] = fingerprint(_seal_body(doc).encode())
    path = folder / MANIFEST
    part = folder / (MANIFEST + ".part")
    part.write_bytes(orjson.dumps(doc, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS))
    os.replace(part, path)
    return path


@dataclass
class Bundle:
    """A bundle as read back: its manifest (None when unreadable) and what is wrong with it."""

    folder: Path
    manifest: Manifest | None
    digest: str  # sha256 of manifest.json's bytes
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.manifest is not None and not self.problems

    @property
    def files(self) -> list[Path]:
        return [self.folder / f.path for f in self.manifest.files] if self.manifest else []

    def runs(self) -> list[SourceRun]:
        """The source runs it records, with their slices; resources stay in the files."""
        if self.manifest is None:
            return []
        out = []
        for r in self.manifest.runs:
            run = SourceRun(r.source, r.provider, r.status, r.reason, r.duration_s, r.identity)
            run.spooled = r.resources
            run.slices = [
                Slice(**s.model_dump()) for s in self.manifest.slices if s.source == r.source
            ]
            out.append(run)
        return out


def read_bundle(folder: Path, fingerprint: Fingerprinter, *, check_files: bool = True) -> Bundle:
    """Read and check one bundle: the manifest parses, its seal matches this key, every file
    it names is there with its SHA-256. Problems are listed, never raised."""
    path = folder / MANIFEST
    try:
        size = path.stat().st_size
        if size > MAX_MANIFEST_BYTES:
            return Bundle(folder, None, "", [f"{path}: {size} bytes, larger than a manifest"])
        raw = path.read_bytes()
    except OSError as exc:
        return Bundle(folder, None, "", [f"{path}: cannot be read: {exc.strerror or exc}"])
    digest = hashlib.sha256(raw).hexdigest()
    try:
        doc = orjson.loads(raw)
        if not isinstance(doc, dict):
            raise ValueError("not a JSON object")
        man = Manifest.model_validate(doc)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top)"
        return Bundle(folder, None, digest, [f"{path}: key '{where}': {first['msg']}"])
    except ValueError as exc:
        return Bundle(folder, None, digest, [f"{path}: not valid JSON ({exc})"])
    out = Bundle(folder, man, digest)
    k, n = man.shard
    if not (1 <= k <= n):
        out.problems.append(f"{path}: key 'shard': {k}/{n} is not a shard number")
    if man.key_id != fingerprint.key_id:
        out.problems.append(
            f"{path}: fingerprinted with key {man.key_id}, the store's key is "
            f"{fingerprint.key_id} (give every worker the store's key)"
        )
    elif fingerprint(_seal_body(doc).encode()) != man.seal:
        out.problems.append(f"{path}: the manifest was altered (its seal does not match)")
    if check_files:
        for f in man.files:
            p = folder / f.path
            if not p.is_file():
                out.problems.append(f"{p}: missing from the bundle")
            elif sha256_file(p) != f.sha256:
                out.problems.append(f"{p}: altered (SHA-256 differs from the manifest's)")
            elif (names := _columns(p)) != COLUMNS:
                out.problems.append(f"{p}: columns {names} are not a bundle's ({COLUMNS})")
    return out
