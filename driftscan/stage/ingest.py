"""Assembling one run's bundles into one scan: verified shards, and not-assessed units for the rest."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from driftscan.errors import ConfigError
from driftscan.model import Slice, SourceRun
from driftscan.redaction import Fingerprinter
from driftscan.stage.bundle import MANIFEST, Bundle, read_bundle
from driftscan.stage.shard import WHOLE, Shard, unit_shard, units_of

# How deep under an ingest argument bundles are looked for: DIR/<run id>/shard-K-of-N.
_DEPTH = 2
# Bundles one ingest reads at most: a folder of millions of files is not a run's shards.
MAX_BUNDLES = 10_000


def find_bundles(folders: Sequence[Path]) -> list[Path]:
    """Bundle folders (holding manifest.json) at or up to two levels below each argument."""
    out: list[Path] = []
    seen: set[Path] = set()
    for top in folders:
        if not top.is_dir():
            raise ConfigError(f"{top}: no such folder", key="ingest")
        level = [top]
        for _ in range(_DEPTH + 1):
            nxt: list[Path] = []
            for d in level:
                if (d / MANIFEST).is_file():
                    if d.resolve() not in seen:
                        seen.add(d.resolve())
                        out.append(d)
                    continue
                nxt += sorted(p for p in d.iterdir() if p.is_dir() and not p.is_symlink())
            level = nxt
            if len(out) + len(level) > MAX_BUNDLES:
                raise ConfigError(f"{top}: more than {MAX_BUNDLES} folders to look through")
    return out


@dataclass
class Assembled:
    """One run's scan, ready for the store: runs with their slices, and the files to ingest."""

    run_id: str
    shards: int
    runs: list[SourceRun]
    files: list[Path]
    started_at: datetime | None
    finished_at: datetime | None
    # Identifies the set of bundles ingested (their manifests' hashes): the same set twice is
    # one scan.
    digest: str
    bundles: list[Bundle] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    tool_version: str = ""


def assemble(
    folders: Sequence[Path],
    *,
    sources: Sequence[Any],
    config_hash: str,
    fingerprint: Fingerprinter,
    run_id: str | None = None,
) -> Assembled:
    """Verify every bundle under `folders` of one run and merge them into one scan's runs.

    A shard that is missing, arrived twice with different contents, was altered, was written
    for another config or with another key contributes nothing: its units become failed
    slices, so the scan is incomplete and those resources keep their last known state.
    """
    paths = find_bundles(folders)
    if not paths:
        raise ConfigError(
            "no staging bundle (a folder with manifest.json) under "
            + ", ".join(str(f) for f in folders),
            key="ingest",
        )
    read = [read_bundle(p, fingerprint) for p in paths]
    problems: list[str] = []
    ids = sorted({b.manifest.run_id for b in read if b.manifest is not None})
    unreadable = [b for b in read if b.manifest is None]
    if run_id is None:
        if len(ids) > 1:
            raise ConfigError(
                f"bundles of {len(ids)} runs found ({', '.join(ids)}): choose one with --run-id",
                key="--run-id",
            )
        if not ids:
            raise ConfigError("no bundle could be read: " + "; ".join(read[0].problems))
        run_id = ids[0]
    mine = [b for b in read if b.manifest is not None and b.manifest.run_id == run_id]
    if not mine:
        raise ConfigError(f"no bundle of run '{run_id}' ({', '.join(ids)} found)", key="--run-id")
    for b in unreadable:
        problems += b.problems
    counts = sorted({b.manifest.shard[1] for b in mine if b.manifest is not None})
    n = max(counts, key=lambda c: sum(1 for b in mine if b.manifest and b.manifest.shard[1] == c))
    by_k: dict[int, list[Bundle]] = {}
    for b in mine:
        assert b.manifest is not None
        k, bn = b.manifest.shard
        if bn != n:
            problems.append(
                f"{b.folder}: shard {k}/{bn} of run '{run_id}', whose shards are of {n}"
            )
            continue
        if b.manifest.config_hash != config_hash:
            b.problems.append(
                f"{b.folder / MANIFEST}: written for another config (hash "
                f"{b.manifest.config_hash[:12]}, this one is {config_hash[:12]})"
            )
        by_k.setdefault(k, []).append(b)
    accepted: dict[int, Bundle] = {}
    for k, group in sorted(by_k.items()):
        distinct = {b.digest: b for b in group}
        if len(distinct) > 1:
            folders_ = ", ".join(str(b.folder) for b in distinct.values())
            problems.append(f"shard {k}/{n}: {len(distinct)} different bundles ({folders_})")
            continue
        b = group[0]
        if b.problems:
            problems += b.problems
            continue
        accepted[k] = b
    for k in range(1, n + 1):
        if k not in by_k:
            problems.append(f"shard {k}/{n} of run '{run_id}' is missing")

    runs: dict[str, SourceRun] = {}
    files: list[Path] = []
    for _k, b in sorted(accepted.items()):
        files += b.files
        for r in b.runs():
            _merge(runs, r)
    # Every unit of a shard that was not accepted is not assessed.
    covered: set[int] = set()
    for src in sources:
        for u in units_of(src):
            k = unit_shard(src.name, u.id, n)
            if k in accepted:
                continue
            covered.add(k)
            why = "missing" if k not in by_k else "rejected"
            s = Slice(
                src.name,
                src.type,
                u.id if u.id != WHOLE else "*",
                "failed",
                reason="unstaged",
                detail=f"shard {Shard(k, n)} {why} at ingest",
                account=u.account,
                region=u.region,
                types=list(u.types),
                keys=list(u.keys),
            )
            _merge(runs, SourceRun(src.name, src.type, slices=[s]))
    # A shard that held no unit by this config still counts: its worker may have seen more
    # (an organisation's accounts), so the scan is incomplete, though no resource is unread.
    for k in sorted(set(range(1, n + 1)) - set(accepted) - covered):
        for src in sources:
            s = Slice(
                src.name,
                src.type,
                f"shard {Shard(k, n)}",
                "failed",
                reason="unstaged",
                detail=f"shard {Shard(k, n)} not ingested; by this config it held no units",
                keys=[f"shard:{Shard(k, n)}"],
            )
            _merge(runs, SourceRun(src.name, src.type, slices=[s]))
    ordered = [runs[s.name] for s in sources if s.name in runs]
    ordered += [r for name, r in runs.items() if name not in {s.name for s in sources}]
    for r in ordered:
        r.status, r.reason = "ok", None
        r.finish()
    oks = [b.manifest for b in accepted.values() if b.manifest is not None]
    digest = hashlib.sha256(
        "\n".join(sorted(b.digest for b in accepted.values())).encode()
    ).hexdigest()
    return Assembled(
        run_id=run_id,
        shards=n,
        runs=ordered,
        files=files,
        started_at=min((m.started_at for m in oks), default=None),
        finished_at=max((m.finished_at for m in oks), default=None),
        digest=digest,
        bundles=list(accepted.values()),
        problems=problems,
        tool_version=oks[0].tool_version if oks else "",
    )


def _merge(runs: dict[str, SourceRun], r: SourceRun) -> None:
    """Fold one shard's run of a source into the scan's run of that source."""
    cur = runs.get(r.source)
    if cur is None:
        runs[r.source] = r
        return
    cur.slices += r.slices
    cur.spooled += r.resource_count
    cur.duration_s = max(cur.duration_s, r.duration_s)
    cur.identity = cur.identity or r.identity
