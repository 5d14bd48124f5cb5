"""Prometheus textfile metrics of a run, written atomically for the node exporter."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, get_args

from driftscan.model import FindingStatus

if TYPE_CHECKING:
    from driftscan.pipeline import RunOutcome, ScanOutcome


def coverage_ratio(scan: ScanOutcome) -> float:
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
            f'driftscan_source_resources{{source="{_label(r.source)}",status="{r.status}"}} {r.resource_count}'
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
    lines += ["# HELP driftscan_notifications Notifications of the last run, by result.",
              "# TYPE driftscan_notifications gauge"]  # fmt: skip
    for ok, result in ((True, "sent"), (False, "failed")):
        n = sum(1 for d in out.notifications if d.ok is ok)
        lines.append(f'driftscan_notifications{{result="{result}"}} {n}')
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def _label(v: str) -> str:
    return v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
