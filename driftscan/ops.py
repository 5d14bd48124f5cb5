"""Nightly operation: the whole run (scan, diff, check, report, retention), its log and metrics."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, get_args

from driftscan import pipeline
from driftscan.config import Config
from driftscan.model import FindingStatus
from driftscan.store import Store

if TYPE_CHECKING:
    from driftscan.compliance import CheckResult
    from driftscan.diff import DriftResult
    from driftscan.report import ReportResult

EXIT_OK, EXIT_FINDINGS, EXIT_INCOMPLETE = 0, 1, 3


class RunLog:
    """JSON-lines events to a log file, and a short human line to stderr unless quiet."""

    def __init__(
        self, path: Path | None = None, *, quiet: bool = False, echo: IO[str] | None = None
    ) -> None:
        self._file = open(path, "a", encoding="utf-8") if path else None  # noqa: SIM115 - closed in close()
        self._echo = None if quiet else (echo or sys.stderr)

    def event(self, event: str, level: str = "info", **fields: Any) -> None:
        record = {
            "ts": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "level": level,
            "event": event,
            **fields,
        }
        if self._file is not None:
            self._file.write(json.dumps(record, sort_keys=True, default=str) + "\n")
            self._file.flush()
        if self._echo is not None:
            detail = " ".join(
                f"{k}={v}" for k, v in fields.items() if not isinstance(v, dict | list)
            )
            self._echo.write(f"{level:5} {event} {detail}\n")

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


@dataclass
class RunOutcome:
    """Everything one `driftscan run` did, and the exit code it earns (design §3.3)."""

    scan: pipeline.ScanOutcome
    drift: DriftResult | None = None
    check: CheckResult | None = None
    report: ReportResult | None = None
    pruned: list[int] = field(default_factory=list)
    duration_s: float = 0.0

    @property
    def exit_code(self) -> int:
        if not self.scan.complete or (
            self.check is not None and self.check.exit_code == EXIT_INCOMPLETE
        ):
            return EXIT_INCOMPLETE
        if (self.drift is not None and self.drift.has_drift) or (
            self.check is not None and self.check.exit_code == EXIT_FINDINGS
        ):
            return EXIT_FINDINGS
        return EXIT_OK


def run(
    config: Config,
    store: Store,
    *,
    sources: Sequence[str] | None = None,
    log: RunLog | None = None,
    report: bool = True,
    progress: Callable[[str, str], None] | None = None,
) -> RunOutcome:
    """scan → diff (when state is declared) → check → report → retention, in one locked store."""
    from driftscan.compliance.rules import load_pack

    log = log or RunLog(quiet=True)
    start = time.monotonic()
    pack = load_pack(config)  # first, so a broken rule file fails before a long scan
    log.event("run.started", config=config.file, store=str(store.path), rules_hash=pack.hash)
    scan = pipeline.scan(config, store, sources=sources, progress=progress, rules_hash=pack.hash)
    rec = scan.record
    for r in scan.runs:
        log.event("source.finished", source=r.source, status=r.status, reason=r.reason,
                  resources=len(r.resources), seconds=round(r.duration_s, 2),
                  not_assessed=[{"slice": s.name, "reason": s.reason, "detail": s.detail}
                                for s in r.slices if s.status == "failed"])  # fmt: skip
    log.event("scan.finished", scan=rec.scan_id, status=rec.status, resources=rec.resources)
    for problem in scan.evidence_errors:
        log.event("anchor.failed", level="error", scan=rec.scan_id, error=problem)
    out = RunOutcome(scan)
    if config.desired:
        out.drift = pipeline.diff(config, store, rec.scan_id)
        kinds = {
            k: sum(1 for d in out.drift.drifts if d.kind == k)
            for k in ("missing", "unmanaged", "changed")
        }
        log.event("diff.finished", scan=rec.scan_id, counts=kinds)
    out.check = pipeline.check(config, store, rec.scan_id)
    statuses: tuple[FindingStatus, ...] = ("ok", "alarm", "error", "skip", "not_assessed")
    log.event("check.finished", scan=rec.scan_id, counts={s: out.check.count(s) for s in statuses})
    if report and config.reports.formats:
        out.report = pipeline.report(config, store, rec.scan_id)
        for note in out.report.notes:  # what a killed earlier run left, now cleared up
            log.event("report.repaired", level="warn", note=note)
        log.event("report.written", scan=rec.scan_id, folder=str(out.report.folder))
    if config.store.keep_days:
        from driftscan.store.retention import compact_store, prune

        out.pruned = prune(store, config.store.keep_days, now=datetime.now(UTC))
        if out.pruned:
            before, after = compact_store(store)
            log.event("retention.pruned", scans=out.pruned, bytes_before=before, bytes_after=after)
    out.duration_s = time.monotonic() - start
    log.event(
        "run.finished", scan=rec.scan_id, exit_code=out.exit_code, seconds=round(out.duration_s, 2)
    )
    return out


def coverage_ratio(scan: pipeline.ScanOutcome) -> float:
    """Share of slices read, over every source of the scan."""
    slices = [s for r in scan.runs for s in r.slices]
    return sum(1 for s in slices if s.status == "ok") / len(slices) if slices else 0.0


def write_metrics(path: Path, out: RunOutcome) -> None:
    """A Prometheus textfile-collector file, replaced atomically so a scrape never sees half."""
    rec = out.scan.record
    lines = [
        "# HELP driftscan_run_duration_seconds Wall time of the last driftscan run.",
        "# TYPE driftscan_run_duration_seconds gauge",
        f"driftscan_run_duration_seconds {out.duration_s:.3f}",
        "# HELP driftscan_last_run_timestamp_seconds When the last run finished.",
        "# TYPE driftscan_last_run_timestamp_seconds gauge",
        f"driftscan_last_run_timestamp_seconds {time.time():.0f}",
        "# HELP driftscan_exit_code Exit code of the last run (0 clean, 1 findings, 3 incomplete).",
        "# TYPE driftscan_exit_code gauge",
        f"driftscan_exit_code {out.exit_code}",
        "# HELP driftscan_scan_id Id of the last scan.",
        "# TYPE driftscan_scan_id gauge",
        f"driftscan_scan_id {rec.scan_id}",
        "# HELP driftscan_scan_complete 1 when every source was read completely.",
        "# TYPE driftscan_scan_complete gauge",
        f"driftscan_scan_complete {1 if out.scan.complete else 0}",
        "# HELP driftscan_coverage_ratio Share of slices (region x service, subscription, host) read.",
        "# TYPE driftscan_coverage_ratio gauge",
        f"driftscan_coverage_ratio {coverage_ratio(out.scan):.4f}",
        "# HELP driftscan_source_resources Resources read per source.",
        "# TYPE driftscan_source_resources gauge",
    ]
    for r in out.scan.runs:
        lines.append(
            f'driftscan_source_resources{{source="{_label(r.source)}",status="{r.status}"}} {len(r.resources)}'
        )
    lines += ["# HELP driftscan_drift_resources Resources drifted from their declaration, by kind.",
              "# TYPE driftscan_drift_resources gauge"]  # fmt: skip
    for kind in ("missing", "unmanaged", "changed"):
        n = sum(1 for d in out.drift.drifts if d.kind == kind) if out.drift else 0
        lines.append(f'driftscan_drift_resources{{kind="{kind}"}} {n}')
    lines += ["# HELP driftscan_findings Findings of the last check, by status.",
              "# TYPE driftscan_findings gauge"]  # fmt: skip
    for status in get_args(FindingStatus):
        n = out.check.count(status) if out.check else 0
        lines.append(f'driftscan_findings{{status="{status}"}} {n}')
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def _label(v: str) -> str:
    return v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
