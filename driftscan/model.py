"""Plain data records that flow through the pipeline: resources, slices, scans."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import orjson

# A registered provider's type (driftscan.providers): plain text, so a plugin adds one.
Provider = str
SliceStatus = Literal["ok", "failed"]
RunStatus = Literal["ok", "partial", "failed"]
ScanStatus = Literal["complete", "incomplete", "failed"]


_ORJSON_OPTS = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS


def sha256_file(path: Path) -> str:
    """The SHA-256 of a file's bytes, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no whitespace: equal documents give equal text.

    orjson, because this runs three times per resource on the ingest hot path.
    """
    return orjson.dumps(value, option=_ORJSON_OPTS, default=str).decode()


@dataclass(slots=True)
class Resource:
    """One live resource as a collector saw it (design §3.2)."""

    key: str
    provider: Provider
    source: str
    account: str
    region: str
    type: str
    name: str
    tags: dict[str, str] = field(default_factory=dict)
    attrs: dict[str, Any] = field(default_factory=dict)
    encrypted: bool | None = None
    public: bool | None = None
    # Set when this resource's payload could not be parsed: the resource is recorded,
    # its rules report not_assessed, and the rest of the scan goes on.
    error: str | None = None
    # Measurements that differ on every scan (a clock offset, days left on a certificate):
    # stored per scan beside the versioned document, not in it, so they neither create a new
    # version each night nor show as history. Views merge them back into `attrs`.
    observed: dict[str, Any] = field(default_factory=dict)

    def doc(self) -> dict[str, Any]:
        """The resource as one JSON-able document."""
        return {
            "key": self.key,
            "provider": self.provider,
            "source": self.source,
            "account": self.account,
            "region": self.region,
            "type": self.type,
            "name": self.name,
            "tags": self.tags,
            "attrs": self.attrs,
            "encrypted": self.encrypted,
            "public": self.public,
            "error": self.error,
        }


@dataclass(slots=True)
class Slice:
    """One unit of collection (region × service, subscription, host) and whether it was read.

    `account`, `region` and `types` say what the slice covers; None / empty means "all", so a
    source that failed as a whole is one slice with everything None.
    """

    source: str
    provider: Provider
    name: str
    status: SliceStatus = "ok"
    reason: str | None = None
    detail: str | None = None
    account: str | None = None
    region: str | None = None
    types: list[str] = field(default_factory=list)
    # Exact resource keys the slice covers (e.g. one host's `ssh://web-01`), or patterns ending
    # in `*` covering every key with that prefix (a namespace); empty = by the above.
    keys: list[str] = field(default_factory=list)
    resources: int = 0


@dataclass(slots=True)
class ScanRecord:
    """One row of the scan ledger."""

    scan_id: int
    started_at: datetime
    finished_at: datetime
    status: ScanStatus
    tool_version: str
    config_hash: str
    rules_hash: str
    resources: int
    content_hash: str
    prev_hash: str
    chain_hash: str
    pruned: bool = False
    # The result chain's head (the last sealed findings/drift/report link) when this row was
    # written, sealed into chain_hash; "" on rows written before results were chained.
    results_head: str = ""


@dataclass(slots=True)
class SourceRun:
    """Everything one source yielded in one scan."""

    source: str
    provider: Provider
    status: RunStatus = "ok"
    reason: str | None = None
    duration_s: float = 0.0
    # Who the scan ran as (an AWS caller ARN, an Azure credential, an SSH user and key): the
    # evidence names it (design §1.6). Never a secret.
    identity: str | None = None
    resources: list[Resource] = field(default_factory=list)
    slices: list[Slice] = field(default_factory=list)
    # Resources streamed to a staging bundle (driftscan.stage) instead of kept in `resources`.
    spooled: int = 0

    @property
    def resource_count(self) -> int:
        """Every resource this run yielded, kept or streamed to a bundle."""
        return len(self.resources) + self.spooled

    def finish(self) -> None:
        """Derive the run status from its slices: all ok → ok, some failed → partial, all → failed."""
        failed = [s for s in self.slices if s.status == "failed"]
        if not failed:
            self.status = "ok"
        elif len(failed) == len(self.slices) and not self.resource_count:
            self.status = "failed"
        else:
            self.status = "partial"
        if failed and self.reason is None:
            reasons = sorted({s.reason or "error" for s in failed})
            self.reason = ", ".join(reasons)


DriftKind = Literal["missing", "unmanaged", "changed"]
FindingStatus = Literal["ok", "alarm", "error", "skip", "not_assessed"]
Lifecycle = Literal["new", "persisting", "resolved", "regressed"]
Severity = Literal["info", "low", "medium", "high", "critical"]


@dataclass(slots=True)
class Drift:
    """One resource that differs from its declaration (design §3.4 diff shape)."""

    resource: str
    type: str
    provider: str
    kind: DriftKind
    desired_source: str | None
    changes: list[dict[str, Any]] = field(default_factory=list)  # [{path, desired, actual}]
    source: str | None = None
    account: str | None = None
    region: str | None = None


@dataclass(slots=True)
class Finding:
    """One rule's verdict on one resource in one scan (design §3.4 findings shape)."""

    rule: str
    resource: str
    status: FindingStatus
    reason: str
    severity: Severity
    frameworks: dict[str, list[str]] = field(default_factory=dict)
    lifecycle: Lifecycle | None = None
    waiver: dict[str, Any] | None = None
    evidence: dict[str, Any] = field(default_factory=dict)
    first_seen_scan: int | None = None
    # Days since first_seen_scan while the finding is open (new, persisting, regressed).
    days_in_violation: int | None = None
