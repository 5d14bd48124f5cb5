"""A report format from outside driftscan: one plain-text summary file (tests/report/test_plugins)."""

from __future__ import annotations

from driftscan.report import RenderContext, Renderer, ReportDocument


def render_txt(doc: ReportDocument, ctx: RenderContext) -> dict[str, str | bytes]:
    """summary.txt: the scan, its coverage and its failing controls, one per line."""
    s = doc["summary"]
    lines = [
        f"scan {s['scan']} ({s['scan_status']})",
        f"coverage {s['coverage_pct']} %",
        f"failing {'not evaluated' if s['failing'] is None else s['failing']}",
    ]
    return {"summary.txt": "\n".join(lines) + "\n"}


TXT = Renderer("txt", render_txt, "summary.txt: the summary as plain text")
