"""The built-in report formats: HTML, PDF, JSON and CSV, each one Renderer.

Registered in pyproject.toml under `driftscan.renderers`, the same way a third party's are:

    html    report.html     self-contained page (inline CSS and SVG, no scripts, no external
                            fetches)
    pdf     report.pdf      the same template family, paginated; passing rows summarised past
                            reports.pdf_passing_limit with a pointer to report.html and
                            findings.csv; laid out by WeasyPrint in a child process
    json    report.json     the whole document, sorted; byte-identical for identical inputs
    csv     findings.csv    one row per finding (absent when controls were not evaluated)
            drift.csv       one row per changed path (one row per missing/unmanaged resource;
                            absent when drift was not evaluated)
            coverage.csv    one row per collection slice, with status and reason
"""

from __future__ import annotations

import errno
import json
import os
import re
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import jinja2
from markupsafe import Markup, escape

from driftscan.assets import templates_dir
from driftscan.errors import ReportError
from driftscan.output import dumps, render_csv
from driftscan.report import charts, pdf_worker
from driftscan.report.document import (
    DRIFT_KINDS,
    SEVERITIES,
    STATUSES,
    UNMAPPED,
    ReportDocument,
    controls,
    out_of_scope,
    rule_summary,
)
from driftscan.report.renderer import FormatUnavailable, RenderContext, Renderer

PDF_TIMEOUT_S = 600
# Resource keys named per requirement in the framework tables (report.json holds them all).
RESOURCES_PER_ROW = 5
# A requirement status's badge: failing and evidence-lacking ones read as bad.
REQUIREMENT_BADGE = {
    "failed": "failed",
    "not_assessed": "not_assessed",
    "attestation_expired": "failed",
    "attestation_missing": "missing",
    "attested": "ok",
    "passed": "ok",
}
# Items of each "what changed" list printed in the PDF; the lists repeat rows that the controls
# section already lists in full, and every item stays in report.html and report.json.
CHANGES_IN_PDF = 100


def _tojson(v: Any) -> str:
    return json.dumps(v, sort_keys=True, ensure_ascii=False, default=str)


# -- how values read on the page (HTML and PDF; report.json keeps the ISO forms) ----------------

TIME_FORMAT = "%Y-%m-%d %H:%M:%S UTC"
_ISO_IN_TEXT = re.compile(
    r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?(?![\w:])"
)
_INLINE_CODE = re.compile(r"`([^`]+)`")


def timestamp(v: str | datetime | None) -> str:
    """`2026-12-01 18:11:38 UTC`: seconds, always the zone. The store records UTC, so a time
    without a zone is UTC; one with a zone is converted."""
    if v is None or v == "":
        return "not recorded"
    when = v
    if isinstance(v, str):
        try:
            when = datetime.fromisoformat(v.replace("Z", "+00:00"))
        except ValueError:
            return v
    assert isinstance(when, datetime)
    when = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    return when.strftime(TIME_FORMAT)


def timestamps_in(text: Any) -> str:
    """`text` with every ISO timestamp in it (a rule's reason, an evidence value) written as
    `timestamp` writes it."""
    return _ISO_IN_TEXT.sub(lambda m: timestamp(m.group(0)), str(text))


def inline_markup(text: str) -> Markup:
    """Rule prose as it reads: its `code` spans set as code (the rule files use Markdown's
    backticks), everything else escaped."""
    out, pos = [], 0
    for m in _INLINE_CODE.finditer(text):
        out += [str(escape(text[pos : m.start()])), f"<code>{escape(m.group(1))}</code>"]
        pos = m.end()
    out.append(str(escape(text[pos:])))
    return Markup("".join(out))


# After these an identifier may wrap: a path's `/`, an ARN's `:`, a rule id's `_`, a dotted
# name's `.` (an escaped entity's `;` or `#` is not among them).
_BREAK_AFTER = re.compile(r"([/:_.])(?=[^\s<])")


@jinja2.pass_context
def breakable(ctx: jinja2.runtime.Context, text: Any) -> Markup:
    """An identifier (ARN, slice name, path, rule id, type) that may wrap after `/`, `:`, `_`
    and `.` but never inside a word. The PDF's rows are paragraphs that wrap anyway, and a
    <wbr> there would put a zero-width space into the PDF's text, so it gets the plain text."""
    s = str(escape(text))
    if ctx.get("pdf"):
        return Markup(s)
    return Markup(_BREAK_AFTER.sub(r"\1<wbr>", s))


def plural(n: int, word: str, many: str | None = None) -> str:
    """`1 target`, `2 targets`."""
    return f"{n} {word if n == 1 else (many or word + 's')}"


def cell(v: Any) -> str:
    """One appendix value as text: a list as `a, b`, a mapping as `k = v; ...`."""
    if v is None:
        return ""
    if v == [] or v == {}:
        return "none"
    if isinstance(v, list):
        return ", ".join(cell(x) for x in v)
    if isinstance(v, dict):
        return "; ".join(f"{k} = {cell(x)}" for k, x in sorted(v.items()))
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def flat(v: Any, prefix: str = "") -> list[tuple[str, str]]:
    """A parameter mapping as (dotted name, value text) rows, nested mappings flattened."""
    if isinstance(v, dict) and v:
        rows: list[tuple[str, str]] = []
        for k, x in sorted(v.items(), key=lambda kv: str(kv[0])):
            rows += flat(x, f"{prefix}.{k}" if prefix else str(k))
        return rows
    return [(prefix, cell(v) if v not in ({}, []) else "(empty)")]


def environment() -> jinja2.Environment:
    """The template environment: autoescaping on for every template, whatever its name."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        j=_tojson,
        ts=timestamp,
        tstext=timestamps_in,
        md=inline_markup,
        brk=breakable,
        cell=cell,
        flat=flat,
    )
    env.globals["plural"] = plural
    return env


def framework_sections(
    doc: ReportDocument, leave_out: frozenset[str] = frozenset()
) -> list[dict[str, Any]]:
    """Each framework of the document as the report's table: the requirements that fail or
    lack evidence first (then by catalogue order), with a count per status. Frameworks in
    `leave_out` are marked `out_of_scope` and carry no rows (the page names them in a line)."""
    from driftscan.compliance.frameworks import STATUSES as REQ_STATUSES

    rank = {s: i for i, s in enumerate(REQ_STATUSES)}
    out = []
    # A document written before frameworks were part of it has none.
    for fw in cast(list[dict[str, Any]], doc.get("frameworks") or []):
        reqs = list(fw["requirements"])
        if fw["framework"] in leave_out:
            manual = sum(1 for r in reqs if r.get("manual"))
            out.append({**fw, "out_of_scope": True, "total": len(reqs), "manual": manual})
            continue
        pos = {r["id"]: i for i, r in enumerate(reqs)}
        reqs.sort(key=lambda r: (rank.get(r["status"], 0), pos[r["id"]]))
        counts = {s: sum(1 for r in reqs if r["status"] == s) for s in REQ_STATUSES}
        rows = []
        for r in reqs:
            a = r.get("attestation")
            shown = r["resources"][:RESOURCES_PER_ROW]
            total = r.get("resources_total", len(r["resources"]))
            # Manual only, no attestation: nothing to say but its id (the PDF lists them in one
            # paragraph; the catalogue's title is in the HTML and report.json).
            bare = r["status"] == "attestation_missing" and not r["rules"] and not shown and not a
            rows.append({**r, "badge": REQUIREMENT_BADGE.get(r["status"], "none"), "bare": bare,
                         "shown": shown, "more": total - len(shown), "att": a})  # fmt: skip
        out.append({**fw, "rows": rows, "out_of_scope": False,
                    "counts": [(s, n) for s, n in counts.items() if n],
                    "automated_pct": round(100 * float(fw["automated_share"]))})  # fmt: skip
    return out


def render_html(doc: ReportDocument, *, pdf: bool = False, passing_limit: int | None = None) -> str:
    """The report page; `pdf=True` gives the paginated variant that WeasyPrint lays out."""
    tpl = environment().get_template("report.html.j2")
    rules_out, frameworks_out = out_of_scope(doc)
    return tpl.render(
        doc=doc,
        pdf=pdf,
        passing_limit=passing_limit,
        changes_in_pdf=CHANGES_IN_PDF,
        controls=controls(doc, passing_limit if pdf else None, frameworks_out, rules_out),
        rule_summary=rule_summary(doc, rules_out),
        rules_out=len(rules_out),
        frameworks=framework_sections(doc, frameworks_out),
        requirement_badge=REQUIREMENT_BADGE,
        unmapped=UNMAPPED,
        trend_chart=charts.trend_svg(doc["trend"]),
        statuses=STATUSES,
        severities=SEVERITIES,
        kinds=DRIFT_KINDS,
    )


def render_json(doc: ReportDocument) -> str:
    return dumps(doc) + "\n"


def _frameworks_cell(fw: dict[str, list[str]]) -> str:
    return "; ".join(f"{k}: {', '.join(v)}" for k, v in sorted(fw.items()))


def render_csvs(doc: ReportDocument) -> dict[str, str]:
    """findings.csv, drift.csv and coverage.csv; formula-like cells neutralised by csv_safe."""
    scan = doc["scan"]["scan"]
    out: dict[str, str] = {}
    if doc["findings"] is not None:
        cols = [
            "scan",
            "rule",
            "title",
            "severity",
            "resource",
            "status",
            "reason",
            "lifecycle",
            "first_seen_scan",
            "frameworks",
            "waiver_owner",
            "waiver_ticket",
            "waiver_expires",
            "waiver_reason",
            "evidence",
        ]
        rows: list[list[Any]] = []
        for f in doc["findings"]:
            w = f["waiver"] or {}
            rows.append(
                [
                    scan,
                    f["rule"],
                    f["title"],
                    f["severity"],
                    f["resource"],
                    f["status"],
                    f["reason"],
                    f["lifecycle"],
                    f["first_seen_scan"],
                    _frameworks_cell(f["frameworks"]),
                    w.get("owner"),
                    w.get("ticket"),
                    w.get("expires"),
                    w.get("reason"),
                    f["evidence"] or None,
                ]
            )
        out["findings.csv"] = render_csv(cols, rows)
    if doc["drift"] is not None:
        cols = [
            "scan",
            "resource",
            "type",
            "provider",
            "source",
            "account",
            "region",
            "kind",
            "desired_source",
            "path",
            "op",
            "desired",
            "actual",
        ]
        rows = []
        for d in doc["drift"]:
            base = [
                scan,
                d["resource"],
                d["type"],
                d["provider"],
                d["source"],
                d["account"],
                d["region"],
                d["kind"],
                d["desired_source"],
            ]
            if not d["changes"]:
                rows.append([*base, None, None, None, None])
            for c in d["changes"]:
                rows.append(
                    [*base, c["path"], c["op"], _tojson(c["desired"]), _tojson(c["actual"])]
                )
        out["drift.csv"] = render_csv(cols, rows)
    cols = [
        "scan",
        "source",
        "provider",
        "slice",
        "status",
        "reason",
        "detail",
        "account",
        "region",
        "types",
        "resources",
    ]
    out["coverage.csv"] = render_csv(
        cols,
        [
            [
                scan,
                s["source"],
                s["provider"],
                s["name"],
                s["status"],
                s["reason"],
                s["detail"],
                s["account"],
                s["region"],
                ";".join(s["types"]),
                s["resources"],
            ]
            for s in doc["coverage"]["slices"]
        ],
    )
    return out


def render_pdf(html: str, out: Path, *, timeout_s: float = PDF_TIMEOUT_S) -> None:
    """Lay out `html` as a PDF in a child process (WeasyPrint's memory goes back with it).

    FormatUnavailable when WeasyPrint or the system libraries it needs are missing."""
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=".html", prefix=".pdf-src-", dir=out.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(html)
        try:
            proc = subprocess.run(
                [sys.executable, "-m", "driftscan.report.pdf_worker", tmp, str(out)],
                capture_output=True,
                text=True,
                timeout=timeout_s,
                check=False,
                # The worker dies with this process (pdf_worker.die_with_parent).
                env={**os.environ, pdf_worker.PARENT_ENV: str(os.getpid())},
            )
        except subprocess.TimeoutExpired:
            raise ReportError(f"PDF rendering took longer than {timeout_s:.0f} s") from None
        if proc.returncode == pdf_worker.EXIT_UNAVAILABLE:
            lines = proc.stderr.strip().splitlines() or [pdf_worker.NO_WEASYPRINT]
            raise FormatUnavailable(lines[-1])
        if proc.returncode == pdf_worker.EXIT_DISK:
            name = (proc.stderr.strip().splitlines() or ["EIO"])[-1]
            code = getattr(errno, name, errno.EIO)
            raise OSError(code, os.strerror(code), str(out))
        if proc.returncode != 0:
            tail = "\n".join(proc.stderr.strip().splitlines()[-5:])
            raise ReportError(f"PDF rendering failed (exit {proc.returncode}): {tail}")
    finally:
        Path(tmp).unlink(missing_ok=True)


def _html(doc: ReportDocument, ctx: RenderContext) -> dict[str, str | bytes]:
    return {"report.html": render_html(doc)}


def _pdf(doc: ReportDocument, ctx: RenderContext) -> dict[str, str | bytes]:
    out = ctx.scratch / "report.pdf"
    render_pdf(render_html(doc, pdf=True, passing_limit=ctx.passing_limit), out)
    return {"report.pdf": out.read_bytes()}


def _json(doc: ReportDocument, ctx: RenderContext) -> dict[str, str | bytes]:
    return {"report.json": render_json(doc)}


def _csv(doc: ReportDocument, ctx: RenderContext) -> dict[str, str | bytes]:
    return dict(render_csvs(doc))


HTML = Renderer("html", _html, "report.html: the self-contained report page")
PDF = Renderer("pdf", _pdf, "report.pdf: the paginated report (needs the pdf extra)")
JSON = Renderer("json", _json, "report.json: the whole document, sorted")
CSV = Renderer("csv", _csv, "findings.csv, drift.csv, coverage.csv")
