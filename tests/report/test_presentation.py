"""Presentation: a report that reads as finished in the browser and on paper (issue 14 item 10)."""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime, timedelta, timezone
from html.parser import HTMLParser
from pathlib import Path
from typing import ClassVar

import pypdf
import pytest

from driftscan.assets import rules_dir
from driftscan.compliance.rules import load_dirs
from driftscan.errors import ReportError
from driftscan.report import ReportResult, verify_report_dir, write_report
from driftscan.report.charts import trend_svg
from driftscan.report.data import ReportData, RuleMeta, SourceCoverage
from driftscan.report.document import document
from driftscan.report.formats import render_html, timestamp, timestamps_in
from driftscan.report.pdf_worker import NO_PANGO
from tests.report.factory import RULES, make_report_data

STAMP = r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC"
ISO_T = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


class _Page(HTMLParser):
    """The visible text of a page, and for each table row whether it sits inside <details>."""

    VOID: ClassVar = {"meta", "br", "wbr", "img", "hr", "input", "link", "col", "source"}
    BLOCK: ClassVar = {"td", "th", "tr", "p", "div", "li", "h1", "h2", "h3", "h4", "dt", "dd"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []
        self.rows: list[tuple[str, bool]] = []  # (tr class, inside <details>)
        self.headers: list[list[str]] = []  # each table's header cells

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "tr":
            self.rows.append((a.get("class", ""), any(t == "details" for t, _ in self.stack)))
        if tag == "table":
            self.headers.append([])
        if tag in self.BLOCK:
            self.text.append(" ")
        if tag not in self.VOID:
            self.stack.append((tag, a))

    def handle_endtag(self, tag: str) -> None:
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data: str) -> None:
        tags = [t for t, _ in self.stack]
        if "style" in tags or "script" in tags or ("title" in tags and "svg" not in tags):
            return
        self.text.append(data)
        if tags and tags[-1] == "th" and self.headers:
            self.headers[-1].append(data.strip())

    @property
    def visible(self) -> str:
        return re.sub(r"\s+", " ", "".join(self.text))


def _parse(html: str) -> _Page:
    p = _Page()
    p.feed(html)
    return p


def _with_real_rule_prose(data: ReportData) -> ReportData:
    """The factory's rule ids carrying the shipped rule pack's titles and prose, backticks and
    all, so the test reads what an auditor reads."""
    pack = load_dirs([rules_dir()])
    real = sorted(pack.rules.values(), key=lambda r: r.id)
    for i, rid in enumerate(RULES):
        spec = real[i % len(real)].spec
        data.rules[rid] = RuleMeta(
            rid,
            title=str(spec.title),
            severity=str(spec.severity),
            description=str(spec.description),
            risk=str(spec.risk),
            remediation=str(spec.remediation),
        )
    return data


def _pdf_pages(path: Path) -> list[str]:
    return [re.sub(r"\s+", "", p.extract_text() or "") for p in pypdf.PdfReader(path).pages]


# -- the browser page ----------------------------------------------------------------------------


def test_html_text_has_no_markdown_marks() -> None:
    """No backtick and no doubled parenthesis in the page's visible text; code spans become
    <code>, and a severity is set apart from the title before it."""
    data = _with_real_rule_prose(make_report_data(120))
    assert any("`" in m.description for m in data.rules.values())  # the pack does use them
    html = render_html(document(data))
    text = _parse(html).visible
    assert "`" not in text
    assert "((" not in text and "))" not in text
    assert "<code>pci</code>" in html
    assert re.search(r"\S\[(critical|high|medium|low|info)\]", text) is None
    assert "Controls not mapped to a framework" in text


def test_html_and_pdf_timestamps_are_utc_seconds() -> None:
    """Every time on the page reads `2026-12-01 18:11:38 UTC`: no microseconds, no `T`, always
    the zone; times inside a rule's reason are written the same way."""
    data = make_report_data(40)
    data.scan.started_at = datetime(2026, 12, 1, 18, 11, 38, 795075)
    assert data.findings is not None
    data.findings[15].reason = "certificate expires in 3 days (2026-12-05T11:40:59+02:00)"
    for pdf in (False, True):
        text = _parse(render_html(document(data), pdf=pdf, passing_limit=500)).visible
        assert ISO_T.search(text) is None, ISO_T.search(text)
        assert re.search(r"\d{2}:\d{2}:\d{2}\.\d", text) is None
        assert "2026-12-01 18:11:38 UTC → " in text
        assert "(2026-12-05 09:40:59 UTC)" in text
        assert len(re.findall(STAMP, text)) >= 4


def test_timestamp_formats_naive_as_utc_and_converts_zones() -> None:
    """A zone-less time is the store's UTC; a zoned one is converted; none is said so."""
    assert timestamp("2026-12-01T23:37:25.795075") == "2026-12-01 23:37:25 UTC"
    assert timestamp(datetime(2026, 12, 1, 20, 0, tzinfo=timezone(timedelta(hours=-5)))) == (
        "2026-12-02 01:00:00 UTC"
    )
    assert timestamp(datetime(2026, 12, 1, tzinfo=UTC)) == "2026-12-01 00:00:00 UTC"
    assert timestamp(None) == "not recorded"
    assert timestamps_in("at 2026-12-01T01:02:03Z, again") == "at 2026-12-01 01:02:03 UTC, again"


def test_plurals_read_right() -> None:
    """One of a thing is singular: `1 slice`, `the last scan`."""
    data = make_report_data(20, trend=1)
    data.slices = data.slices[:1]
    text = _parse(render_html(document(data))).visible
    assert "of 1 slice read" in text and "1 slices" not in text
    assert "Trend over the last scan" in text and "last 1 scans" not in text


def test_passing_rows_are_folded_into_details_and_counted() -> None:
    """Passing rows sit inside a <details> element; failing, not-assessed and waived rows and
    the per-rule counts are open on the page."""
    html = render_html(document(make_report_data(400)))
    page = _parse(html)
    passing = [inside for cls, inside in page.rows if cls in ("st-ok", "st-skip")]
    failing = [inside for cls, inside in page.rows if cls in ("st-alarm", "st-error")]
    assert len(passing) > 100 and all(passing)
    assert failing and not any(failing)
    assert "Rules at a glance" in page.visible
    assert re.search(r"\d+ passing resources", page.visible)


def test_empty_columns_are_left_out() -> None:
    """A column no row fills (`declared in` for unmanaged resources) is not drawn."""
    page = _parse(render_html(document(make_report_data(20))))
    drift_heads = [h for h in page.headers if h[:2] == ["resource", "type"]]
    by_last = {tuple(h) for h in drift_heads}
    assert ("resource", "type", "source", "region") in by_last  # unmanaged: none declared
    assert any("declared in" in h for h in drift_heads)  # missing and changed are


def test_identifiers_wrap_only_between_segments() -> None:
    """Slice names and ARNs may wrap after `/` and `:` but nowhere inside a word, and short
    columns (source, status) never wrap."""
    html = render_html(document(make_report_data(20)))
    assert "111122223333/<wbr>us-east-1" in html
    assert "arn:<wbr>aws:<wbr>rds:" in html
    assert "break-all" not in html
    assert '<td class="nw">aws-prod</td>' in html


def test_appendices_are_tables_not_json() -> None:
    """Parameters and scopes are tables of names and values, not raw JSON."""
    page = _parse(render_html(document(make_report_data(20))))
    html = render_html(document(make_report_data(20)))
    assert "<pre" not in html
    assert "residency.eu-personal eu-west-1" in page.visible
    assert "pci tags pci = true" in page.visible
    assert '{"' not in page.visible.split("Appendix A.")[1]


def test_trend_needs_three_scans_and_ticks_are_whole_numbers() -> None:
    """Fewer than three scans say so instead of a slope; the axis of a real trend is labelled
    in whole numbers."""
    two = [
        {"scan": i, "status": "complete", "alarms": 13 + i, "drift": 27, "started_at": None}
        for i in (1, 2)
    ]
    assert "A trend needs three scans (2 so far)" in trend_svg(two)
    assert "polyline" not in trend_svg(two)
    five = [
        {"scan": i, "status": "complete", "alarms": 13 + i % 2, "drift": 27, "started_at": None}
        for i in range(5)
    ]
    svg = str(trend_svg(five))
    labels = re.findall(r'text-anchor="end" dominant-baseline="middle" fill="#555">([^<]+)<', svg)
    assert labels and all(v.isdigit() for v in labels), labels
    assert int(labels[-1]) >= 27


# -- the PDF -------------------------------------------------------------------------------------


def test_pdf_cover_page_carries_the_summary(full_report: tuple[ReportResult, Path]) -> None:
    """Page 1 of the PDF holds the coverage figure and the finding counts, not just the title."""
    res, _ = full_report
    page1 = _pdf_pages(res.artifacts["report.pdf"])[0]
    s = json.loads(res.artifacts["report.json"].read_text())["summary"]
    assert f"{s['coverage_pct']}%coverage" in page1
    assert f"{s['failing']}failingfindings" in page1
    assert "Findingsbystatus" in page1 and "Failingfindingsbyseverity" in page1
    counts = "".join(str(s["findings"][k]) for k in ("alarm", "error", "not_assessed", "skip"))
    assert counts + str(s["findings"]["ok"]) + str(s["findings_total"]) in page1


def test_pdf_uses_one_font_family(full_report: tuple[ReportResult, Path]) -> None:
    """Every font in the PDF is DejaVu Sans (regular or bold): no serif footer, no mono."""
    fonts: set[str] = set()
    for page in pypdf.PdfReader(full_report[0].artifacts["report.pdf"]).pages:
        for f in page["/Resources"].get_object().get("/Font", {}).values():
            fonts.add(str(f.get_object()["/BaseFont"]).split("+")[-1])
    assert fonts and {re.sub(r"-(Bold|Oblique|BoldOblique)$", "", f) for f in fonts} == {
        "DejaVu-Sans"
    }, fonts


@pytest.mark.slow
def test_pdf_rows_never_split_across_pages(tmp_path: Path) -> None:
    """Each table row's and each listed row's text is on one page, however long the report."""
    # Rows of several lines each: a one- or two-line paragraph never splits (orphans, widows).
    data = make_report_data(120)
    assert data.findings is not None
    filler = " ".join(["the long explanation of this row goes on"] * 12)
    for i, f in enumerate(data.findings):
        f.reason = f"{f.reason}, noted as case {i:04d}: {filler} end{i:04d}"
    data.sources = [
        SourceCoverage(
            f"src{i:03d}", "aws", "ok", None, i, 1.0, identity=f"role/auditor {filler} tail{i:03d}"
        )
        for i in range(40)
    ]
    res = write_report(data, tmp_path / "r", ["pdf"], passing_limit=1000)
    pages = _pdf_pages(res.artifacts["report.pdf"])
    assert len(pages) > 4

    def page_of(needle: str) -> int:
        hits = [n for n, p in enumerate(pages) if needle in p]
        assert len(hits) == 1, (needle, hits)
        return hits[0]

    for i in range(len(data.sources)):
        assert page_of(f"src{i:03d}aws") == page_of(f"tail{i:03d}"), i
    for i, f in enumerate(data.findings[:-1]):  # the last is the factory's hostile one
        assert page_of(f"{f.resource}—") == page_of(f"end{i:04d}"), f.resource


def test_pdf_without_pango_is_stated_not_fatal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """When WeasyPrint's import fails to load Pango, the PDF worker says how to get it, the
    other formats are written, and the manifest and the result name the missing PDF."""
    # The worker is a child process: a `weasyprint` ahead of the real one on its path fails
    # to import the way the real one does when cffi cannot dlopen libpango.
    shim = tmp_path / "shim" / "weasyprint"
    shim.mkdir(parents=True)
    (shim / "__init__.py").write_text(
        "raise OSError(\"cannot load library 'libpango-1.0-0': libpango-1.0-0: cannot open "
        'shared object file: No such file or directory")\n'
    )
    monkeypatch.setenv("PYTHONPATH", str(shim.parent))
    with caplog.at_level(logging.WARNING, logger="driftscan.report"):
        res = write_report(make_report_data(20), tmp_path / "reports", ["html", "pdf", "json"])
    assert res.not_written == {"pdf": NO_PANGO}
    assert set(res.artifacts) == {"report.html", "report.json"}
    manifest = json.loads((res.folder / "manifest.json").read_text())
    assert manifest["not_written"] == [{"format": "pdf", "reason": NO_PANGO}]
    assert verify_report_dir(res.folder) == []
    assert [r.getMessage() for r in caplog.records] == [NO_PANGO]
    assert "apt-get install libpango-1.0-0" in NO_PANGO and "brew install pango" in NO_PANGO
    # Asked for the PDF alone, there is nothing to write: that is an error, with the reason.
    with pytest.raises(ReportError, match="WeasyPrint needs Pango"):
        write_report(make_report_data(5), tmp_path / "only", ["pdf"])


def test_written_manifest_lists_nothing_missing(full_report: tuple[ReportResult, Path]) -> None:
    """A report with every format rendered states an empty `not_written`."""
    res, _ = full_report
    assert res.not_written == {}
    assert json.loads((res.folder / "manifest.json").read_text())["not_written"] == []


def test_controls_never_show_none_for_a_requirement_without_verdicts() -> None:
    """Section 5: a rule that gave no verdict reads `not assessed` (as section 4 says), and a
    requirement no rule maps points to section 4 instead of a grey `none` badge."""
    from driftscan.report.data import Requirement
    from driftscan.report.document import controls, document
    from driftscan.report.formats import render_html
    from tests.report.factory import make_report_data

    data = make_report_data(20)
    data.rules["silent_rule"] = next(iter(data.rules.values()))
    data.requirements += [
        Requirement("pci-dss-4.0.1", "9.9", ("silent_rule",), title="Nothing judged it"),
        Requirement("pci-dss-4.0.1", "12.1", (), title="A policy is kept"),
    ]
    doc = document(data)
    items = {i["requirement"]: i for fw in controls(doc) for i in fw["items"]}
    assert items["9.9"]["worst"] == "not_assessed"
    assert items["9.9"]["rules"][0]["worst"] == "not_assessed"
    html = render_html(doc)
    assert 'class="badge b-none"' not in html
    assert "no rule maps it: its status is in section 4" in html
