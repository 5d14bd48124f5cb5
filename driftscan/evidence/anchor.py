"""Chain heads anchored outside the store: an S3 prefix under Object Lock, or an append-only file.

After each scan's transaction commits, its heads are written once (evidence.anchor):

    {"format": "driftscan-anchor/1", "scan": 42, "chain_hash": "…", "prev_hash": "…",
     "results_head": "…", "started_at": "…", "anchored_at": "…"}

S3 (`s3: s3://bucket/prefix`): one object per scan, `<prefix>/scan-000042.json`, put with
ObjectLockMode COMPLIANCE and a retain-until date `retention_days` ahead, so no one (the
account root included) can delete or overwrite that version before then. A second put of
the same key only adds a version; `verify` reads every version, so a rewritten history cannot
hide behind a newer object. The bucket needs Object Lock enabled; the scanner needs
s3:PutObject and s3:PutObjectRetention, `verify` s3:ListBucketVersions and s3:GetObjectVersion.

File (`file: PATH`): one JSON line per scan, appended with O_APPEND. Make it append-only for
the scanner's user (`chattr +a`) or put it on storage the scanner host cannot rewrite.

An anchor that cannot be written never loses the scan: the attempt and its reason are
recorded in the store (anchor_run) and `verify` names the scan as unanchored. boto3 is
imported only when an S3 anchor is used.
"""

from __future__ import annotations

import os
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from driftscan.config import AnchorConfig
from driftscan.inputs import parse_json
from driftscan.model import ScanRecord, canonical_json
from driftscan.redaction import safe_detail, url_without_credentials
from driftscan.store import Store
from driftscan.store.evidence import anchor_attempts, record_anchor

FORMAT = "driftscan-anchor/1"
_KEY = re.compile(r"scan-(\d+)\.json")


@dataclass(frozen=True)
class AnchorRecord:
    """One anchored head, and where it was read from."""

    scan_id: int
    chain_hash: str
    where: str


class Anchor(Protocol):
    """A place outside the store that keeps every scan's chain head."""

    spec: dict[str, Any]  # the settings, as recorded in the store's anchor_run

    def describe(self) -> str: ...

    def write(self, rec: ScanRecord, now: datetime) -> None: ...

    def read(self) -> tuple[list[AnchorRecord], list[str]]:
        """Every head ever written here (every version), and what could not be read."""
        ...


def anchor_body(rec: ScanRecord, now: datetime) -> str:
    return canonical_json(
        {"format": FORMAT, "scan": rec.scan_id, "chain_hash": rec.chain_hash,
         "prev_hash": rec.prev_hash, "results_head": rec.results_head,
         "started_at": rec.started_at.isoformat(), "anchored_at": now.isoformat()}
    )  # fmt: skip


def _parse(text: str, where: str) -> AnchorRecord:
    d = parse_json(text)
    if not isinstance(d, dict) or d.get("format") != FORMAT:
        raise ValueError("not a driftscan anchor")
    return AnchorRecord(int(d["scan"]), str(d["chain_hash"]), where)


class FileAnchor:
    """Heads appended to a local file, one JSON line per scan."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.spec: dict[str, Any] = {"file": str(path)}

    def describe(self) -> str:
        return str(self.path)

    def write(self, rec: ScanRecord, now: datetime) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, (anchor_body(rec, now) + "\n").encode())
            os.fsync(fd)
        finally:
            os.close(fd)

    def read(self) -> tuple[list[AnchorRecord], list[str]]:
        if not self.path.exists():
            return [], []
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            return [], [f"anchors in {self.path}: unreadable ({exc})"]
        out, problems = [], []
        for n, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                out.append(_parse(line, f"{self.path}:{n}"))
            except (ValueError, KeyError, TypeError):
                problems.append(f"{self.path}:{n}: not a driftscan anchor (the file was edited)")
        return out, problems


class S3Anchor:
    """Heads as S3 objects under Object Lock in compliance mode, one per scan."""

    def __init__(self, cfg: AnchorConfig) -> None:
        assert cfg.s3 is not None
        self.bucket, _, prefix = cfg.s3.removeprefix("s3://").partition("/")
        self.prefix = prefix.strip("/")
        self.cfg = cfg
        self.spec = cfg.model_dump(exclude_none=True, exclude={"retention_days"})
        if self.cfg.endpoint_url:
            # The spec is stored (anchor_run.target), so never with an endpoint's credentials.
            # boto3 signs with its own and sends no userinfo: `verify` rebuilding the anchor
            # from a stored spec reaches the same endpoint.
            self.spec["endpoint_url"] = url_without_credentials(self.cfg.endpoint_url)
        self._client: Any = None

    def describe(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}".rstrip("/")

    def client(self) -> Any:
        if self._client is None:
            import boto3
            from botocore.config import Config as BotoConfig

            session = boto3.Session(profile_name=self.cfg.profile)
            self._client = session.client(
                "s3",
                region_name=self.cfg.region or session.region_name or "us-east-1",
                endpoint_url=self.cfg.endpoint_url,
                config=BotoConfig(connect_timeout=10, read_timeout=30, retries={"max_attempts": 3}),
            )
        return self._client

    def key(self, scan_id: int) -> str:
        name = f"scan-{scan_id:06d}.json"
        return f"{self.prefix}/{name}" if self.prefix else name

    def write(self, rec: ScanRecord, now: datetime) -> None:
        self.client().put_object(
            Bucket=self.bucket,
            Key=self.key(rec.scan_id),
            Body=anchor_body(rec, now).encode(),
            ContentType="application/json",
            ChecksumAlgorithm="SHA256",
            ObjectLockMode="COMPLIANCE",
            ObjectLockRetainUntilDate=now + timedelta(days=self.cfg.retention_days),
        )

    def read(self) -> tuple[list[AnchorRecord], list[str]]:
        out: list[AnchorRecord] = []
        problems: list[str] = []
        try:
            pages = (
                self.client()
                .get_paginator("list_object_versions")
                .paginate(Bucket=self.bucket, Prefix=f"{self.prefix}/" if self.prefix else "")
            )
            for page in pages:
                for v in page.get("Versions", []):
                    key, version = str(v["Key"]), str(v.get("VersionId") or "null")
                    folder, _, name = key.rpartition("/")
                    m = _KEY.fullmatch(name)
                    if m is None or folder != self.prefix:
                        continue
                    where = f"s3://{self.bucket}/{key} (version {version})"
                    obj = self.client().get_object(Bucket=self.bucket, Key=key, VersionId=version)
                    try:
                        got = _parse(obj["Body"].read().decode(), where)
                    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
                        problems.append(f"{where}: not a driftscan anchor")
                        continue
                    if got.scan_id != int(m.group(1)):
                        problems.append(f"{where}: holds the head of scan {got.scan_id}")
                    out.append(got)
        except Exception as exc:  # botocore's errors share no useful base
            problems.append(f"anchors in {self.describe()}: cannot be read ({exc})")
        return out, problems


def anchor_from(cfg: AnchorConfig, resolve: Callable[[str], Path] = Path) -> Anchor:
    """The anchor evidence.anchor configures (a relative file resolves with `resolve`)."""
    if cfg.file is not None:
        return FileAnchor(resolve(cfg.file).absolute())
    return S3Anchor(cfg)


def anchor_scan(cfg: AnchorConfig, resolve: Callable[[str], Path], store: Store,
                rec: ScanRecord) -> str | None:  # fmt: skip
    """Anchor scan `rec` and record the attempt in the store. Never raises: the scan is
    already committed, so a failure is recorded and returned (its reason) instead."""
    anchor = anchor_from(cfg, resolve)
    try:
        anchor.write(rec, datetime.now(UTC))
    except Exception as exc:  # any failure (network, credentials, disk) is recorded as such
        # botocore's connection errors quote the endpoint URL, credentials and all.
        reason = safe_detail(f"{type(exc).__name__}: {exc}") or ""
        record_anchor(store, rec.scan_id, anchor.spec, ok=False, detail=reason)
        return f"scan {rec.scan_id} not anchored in {anchor.describe()}: {reason}"
    record_anchor(store, rec.scan_id, anchor.spec, ok=True)
    return None


def check_anchor(anchor: Anchor, store: Store) -> list[str]:
    """Compare the store's ledger with every head in `anchor`; first differing scan first.

    Named: a scan whose chain hash differs from any of its anchors (a rewritten history), a
    scan anchored but missing from the store, and a scan the store tried to anchor (or newer
    than the first anchored one) that has no anchor.
    """
    records, problems = anchor.read()
    where = anchor.describe()
    by_scan: dict[int, list[AnchorRecord]] = defaultdict(list)
    for a in records:
        by_scan[a.scan_id].append(a)
    scans = {r.scan_id: r for r in store.scans()}
    newest = max(scans, default=0)
    for sid in sorted(by_scan):
        rec = scans.get(sid)
        if rec is None:
            why = "newest scans deleted?" if sid > newest else "deleted from the ledger?"
            problems.append(f"scan {sid} is anchored in {where} but missing from the store ({why})")
            continue
        for a in by_scan[sid]:
            if a.chain_hash != rec.chain_hash:
                problems.append(
                    f"scan {sid}: chain head differs from its anchor {a.where} (anchored "
                    f"{a.chain_hash[:12]}…, store {rec.chain_hash[:12]}…): history rewritten"
                )
                break
    attempts = anchor_attempts(store, anchor.spec)
    first = min(by_scan, default=None)
    for sid in sorted(scans):
        if sid in by_scan or (sid not in attempts and (first is None or sid < first)):
            continue  # anchored, or written before anchoring was set up
        ok, reason = attempts.get(sid, (False, ""))
        if ok:
            why = " (the store recorded it as anchored: removed since?)"
        else:
            why = f" (anchoring failed: {reason})" if reason else ""
        problems.append(f"scan {sid} has no anchor in {where}{why}")
    return problems
