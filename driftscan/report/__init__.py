"""Evidence reports: every registered format from one document, sealed by a signed manifest.

Names are loaded on first use, so reading the registered format names (`FORMATS`, the config
and the CLI) does not import the renderers, Jinja2 or the store.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from driftscan.report.data import (
        PreviousReport,
        ReportData,
        Requirement,
        RuleMeta,
        SourceCoverage,
        TrendPoint,
        build_report_data,
    )
    from driftscan.report.document import ReportDocument
    from driftscan.report.manifest import verify_report_dir
    from driftscan.report.render import ReportResult, write_report
    from driftscan.report.renderer import RenderContext, Renderer

    FORMATS: tuple[str, ...]

_WHERE = {
    "PreviousReport": "data",
    "ReportData": "data",
    "Requirement": "data",
    "RuleMeta": "data",
    "SourceCoverage": "data",
    "TrendPoint": "data",
    "build_report_data": "data",
    "ReportDocument": "document",
    "verify_report_dir": "manifest",
    "ReportResult": "render",
    "write_report": "render",
    "Renderer": "renderer",
    "RenderContext": "renderer",
}

__all__ = [
    "FORMATS",
    "PreviousReport",
    "RenderContext",
    "Renderer",
    "ReportData",
    "ReportDocument",
    "ReportResult",
    "Requirement",
    "RuleMeta",
    "SourceCoverage",
    "TrendPoint",
    "build_report_data",
    "verify_report_dir",
    "write_report",
]


def __getattr__(name: str) -> Any:
    if name == "FORMATS":  # what is registered now, never a stale copy
        from driftscan.report.renderer import names

        return names()
    if name in _WHERE:
        return getattr(importlib.import_module(f"driftscan.report.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'driftscan.report' has no attribute {name!r}")
