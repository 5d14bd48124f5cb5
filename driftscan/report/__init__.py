"""Evidence reports: HTML, PDF, JSON and CSV from one document, sealed by a signed manifest."""

from driftscan.report.data import (
    PreviousReport,
    ReportData,
    Requirement,
    RuleMeta,
    SourceCoverage,
    TrendPoint,
    build_report_data,
)
from driftscan.report.manifest import verify_report_dir
from driftscan.report.render import FORMATS, ReportResult, write_report

__all__ = [
    "FORMATS",
    "PreviousReport",
    "ReportData",
    "ReportResult",
    "Requirement",
    "RuleMeta",
    "SourceCoverage",
    "TrendPoint",
    "build_report_data",
    "verify_report_dir",
    "write_report",
]
