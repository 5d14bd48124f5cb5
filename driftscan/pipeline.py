"""The pipeline stages composed as plain functions: scan, and (as they land) diff, check, report."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from driftscan import __version__
from driftscan.collect.base import ProgressFn, run_sources
from driftscan.config import Config
from driftscan.diff import DriftResult
from driftscan.errors import ConfigError
from driftscan.model import ScanRecord, SourceRun
from driftscan.redaction import Fingerprinter, load_fingerprinter
from driftscan.store import Store

if TYPE_CHECKING:
    from driftscan.compliance import CheckResult


@dataclass
class ScanOutcome:
    """What one scan stored, with the per-source runs behind it."""

    record: ScanRecord
    runs: list[SourceRun]
    # Evidence not written outside the store (heads file, anchor): the scan itself is kept.
    evidence_errors: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return self.record.status == "complete"


# Source fields that name local files: relative paths mean "beside the config file".
_PATH_FIELDS = ("known_hosts", "key_file", "ca_bundle")


def select_sources(config: Config, names: Sequence[str] | None) -> list[object]:
    """The configured sources (or only those named), with file paths resolved."""
    chosen = [config.source(n) for n in names] if names else list(config.sources)
    out: list[object] = []
    for src in chosen:
        paths = {f: str(config.resolve(v)) for f in _PATH_FIELDS if (v := getattr(src, f, None))}
        out.append(src.model_copy(update=paths) if paths else src)
    return out


def collect(
    config: Config,
    sources: Sequence[str] | None = None,
    progress: ProgressFn | None = None,
    *,
    fingerprint: Fingerprinter | None = None,
) -> list[SourceRun]:
    """Read every selected source concurrently; failures become not-assessed slices. Secrets
    are fingerprinted with `fingerprint` (default: the store's key)."""
    selected = select_sources(config, sources)
    if not selected:
        raise ConfigError("no sources configured", file=config.file, key="sources")
    fp = fingerprint or load_fingerprinter(config.key_path)
    return run_sources(selected, progress, fingerprint=fp, concurrency=config.concurrency)


def scan(
    config: Config,
    store: Store,
    *,
    sources: Sequence[str] | None = None,
    progress: ProgressFn | None = None,
    rules_hash: str = "",
) -> ScanOutcome:
    """Collect, then write everything observed in one transaction sealed into the chain."""
    started = datetime.now(UTC)
    fingerprint = load_fingerprinter(config.key_path)
    runs = collect(config, sources, progress, fingerprint=fingerprint)
    record = store.write_scan(
        runs,
        started_at=started,
        finished_at=datetime.now(UTC),
        tool_version=__version__,
        config_hash=config.digest,
        rules_hash=rules_hash,
        key_id=fingerprint.key_id,
    )
    out = ScanOutcome(record, runs)
    if store.heads_error:
        out.evidence_errors.append(store.heads_error)
    if config.evidence.anchor is not None:
        # After the commit: an anchor that cannot be written is recorded, never loses the scan.
        from driftscan.evidence.anchor import anchor_scan

        failed = anchor_scan(config.evidence.anchor, config.resolve, store, record)
        if failed:
            out.evidence_errors.append(failed)
    return out


def diff(config: Config, store: Store, scan_id: int | None = None) -> DriftResult:
    """Drift of a scan (default: the latest) against the declared state; stored per scan."""
    from driftscan.desired import load_desired
    from driftscan.diff import compare

    return compare(store, load_desired(config), scan_id=scan_id, ignore=config.ignore)


def check(
    config: Config, store: Store, scan_id: int | None = None, framework: str | None = None
) -> CheckResult:
    """Evaluate the rule pack (or one framework's rules) for a scan, default the latest, and
    store the findings with their lifecycle. `result.exit_code` follows design §3.3."""
    from driftscan.compliance import evaluate

    return evaluate(config, store, scan_id=scan_id, framework=framework)


if TYPE_CHECKING:
    from driftscan.report import ReportResult


def report(
    config: Config,
    store: Store,
    scan_id: int | None = None,
    formats: Sequence[str] | None = None,
    out_dir: str | Path | None = None,
) -> ReportResult:
    """Write the evidence report of a scan (default: the latest) into a new, sealed folder
    under `out_dir` (default: reports.dir); formats default to reports.formats. The folder is
    recorded in the store (when it is open for writing), so `verify` knows every report."""
    from driftscan.report import build_report_data, write_report
    from driftscan.report.signing import signer_for
    from driftscan.store.evidence import record_report

    root = Path(out_dir) if out_dir is not None else config.resolve(config.reports.dir)
    data = build_report_data(config, store, scan_id, reports_root=root)
    res = write_report(
        data,
        root,
        list(formats or config.reports.formats),
        signer=signer_for(config),
        passing_limit=config.reports.pdf_passing_limit,
    )
    if not store.read_only:
        record_report(store, res.scan_id, res.folder, res.manifest_sha256, signed=res.signed,
                      key_id=res.key_id)  # fmt: skip
    return res
