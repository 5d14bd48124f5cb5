"""A report format that cannot run on this machine, as the PDF without Pango (tests/report/test_cli)."""

from __future__ import annotations

from driftscan.report import RenderContext, Renderer, ReportDocument
from driftscan.report.renderer import FormatUnavailable


def render_nope(doc: ReportDocument, ctx: RenderContext) -> dict[str, str | bytes]:
    """Always unavailable, saying how to get it, in the PDF's words."""
    raise FormatUnavailable("NOPE not written: libnope is not installed (apt install libnope)")


NOPE = Renderer("nope", render_nope, "report.nope: never, here")
