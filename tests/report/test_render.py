"""Rendering: what the HTML, PDF, JSON and CSV must show, escape, summarise and keep stable."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
from html import unescape as html_unescape
from pathlib import Path

import pypdf
import pytest
from markupsafe import escape

from driftscan.report import ReportResult, write_report
from driftscan.report.document import document
from driftscan.report.formats import render_csvs, render_html
from tests.report.factory import XSS, make_report_data

CHROMIUM = Path("/usr/bin/chromium")


def _pdf_text(path: Path) -> str:
    return "\n".join(p.extract_text() or "" for p in pypdf.PdfReader(path).pages)


def test_pdf_holds_cover_facts_and_failing_control(full_report: tuple[ReportResult, Path]) -> None:
    """The PDF's text names the organisation, scan, versions, hashes and a failing control."""
    res, _ = full_report
    text = _pdf_text(res.artifacts["report.pdf"])
    flat = text.replace("\n", " ")
    for fact in ("Acme Payments Ltd", "scan 42", "0.1.0", "r" * 64, f"{42:064x}", "50.0 %"):
        assert fact in flat, fact
    assert "ALARM" in text and "bucket is not encrypted" in flat
    assert "NOT ASSESSED" in text and "AccessDenied on s3:ListAllMyBuckets" in flat


def test_pdf_summarises_passing_rows_past_the_limit() -> None:
    """The PDF variant lists every failing and not-assessed row but only `limit` passing ones."""
    data = make_report_data(400)
    doc = document(data)
    html = render_html(doc, pdf=True, passing_limit=5)
    failing = [f for f in doc["findings"] if f["status"] in ("alarm", "error", "not_assessed")]
    assert html.count('<p class="r st-ok') + html.count('<p class="r st-skip') == 5
    for f in failing:
        assert str(escape(f["resource"])) in html
    assert "more passing resources: see report.html or findings.csv" in html
    full = render_html(doc)
    assert full.count('class="st-ok"') + full.count('class="st-skip"') > 5


def _chromium_dom(url: str, profile: Path) -> str:
    proc = subprocess.run(
        [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", f"--user-data-dir={profile}", "--virtual-time-budget=2000",
         "--dump-dom", url],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    return proc.stdout


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="headless test needs /usr/bin/chromium")
def test_html_in_chromium_shows_summary_and_runs_no_injected_script(
    full_report: tuple[ReportResult, Path], tmp_path: Path
) -> None:
    """Chromium shows the summary and coverage, and the injected tag value stays inert text."""
    # Control: the same marker, as real markup, does run, so its absence below means something.
    control = tmp_path / "control.html"
    control.write_text(f"<html><head><title>t</title></head><body>{XSS}</body></html>")
    assert 'data-pwned="1"' in _chromium_dom(control.as_uri(), tmp_path / "p1")

    dom = _chromium_dom(full_report[0].artifacts["report.html"].as_uri(), tmp_path / "p2")
    assert "1. Executive summary" in dom and "failing findings" in dom
    assert "not assessed" in dom and "AccessDenied on s3:ListAllMyBuckets" in dom
    assert "data-pwned" not in dom.replace("setAttribute('data-pwned'", "")
    assert "PWNED" not in dom.split("</title>")[0]
    assert "&lt;script&gt;document.title" in dom


def test_html_escapes_tag_values_and_fetches_nothing() -> None:
    """Hostile values appear escaped; the page carries no script and no external reference."""
    html = render_html(document(make_report_data(20)))
    assert "<script" not in html and "onerror=" not in html.replace("onerror=&#34;", "")
    assert "&lt;script&gt;" in html and "&lt;img src=x onerror=" in html
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "").replace(
        "http://evil", ""
    )
    assert (
        "https://" not in html
        and "<link" not in html
        and " src=" not in html.replace("&lt;img src=x", "")
    )


def test_not_assessed_and_not_evaluated_are_shown_not_hidden() -> None:
    """Failed slices are marked not assessed; absent drift and findings say "not evaluated"."""
    data = make_report_data(10)
    data.drift, data.findings = None, None
    doc = document(data)
    html = render_html(doc)
    assert html.count('class="st-not_assessed"') == 2
    assert "Drift not evaluated" in html and "Controls not evaluated" in html
    assert doc["drift"] is None and doc["summary"]["findings"] is None
    assert set(render_csvs(doc)) == {"coverage.csv"}


def test_identical_inputs_give_byte_identical_json_and_csv(tmp_path: Path) -> None:
    """Two reports of equal data, written at different times, have identical JSON and CSV."""
    a = write_report(make_report_data(300), tmp_path / "a", ["json", "csv"])
    b = write_report(make_report_data(300), tmp_path / "b", ["json", "csv"])
    names = {"report.json", "findings.csv", "drift.csv", "coverage.csv"}
    assert set(a.artifacts) == set(b.artifacts) == names
    for name in names:
        assert a.artifacts[name].read_bytes() == b.artifacts[name].read_bytes(), name
    # Sorted, whatever order the records came in.
    shuffled = make_report_data(300)
    assert shuffled.findings is not None
    shuffled.findings.reverse()
    shuffled.slices.reverse()
    c = write_report(shuffled, tmp_path / "c", ["json", "csv"])
    for name in names:
        assert c.artifacts[name].read_bytes() == a.artifacts[name].read_bytes(), name


def test_csv_cells_that_look_like_formulas_are_neutralised() -> None:
    """A cell starting with = + - or @ is prefixed with a quote so no spreadsheet runs it."""
    data = make_report_data(4)
    assert data.findings is not None
    for i, lead in enumerate("=+-@"):
        data.findings[i].reason = f'{lead}HYPERLINK("http://evil","x")'
    csvs = render_csvs(document(data))
    rows = list(csv.DictReader(io.StringIO(csvs["findings.csv"])))
    reasons = [r["reason"] for r in rows if "HYPERLINK" in r["reason"]]
    assert sorted(reasons) == sorted(f'\'{c}HYPERLINK("http://evil","x")' for c in "=+-@")
    for name, text in csvs.items():
        for row in csv.reader(io.StringIO(text)):
            assert all(cell[:1] not in "=+-@" or cell == "" for cell in row), (name, row)


def test_secret_values_never_appear() -> None:
    """Secret-looking evidence, drift values and parameters that escaped redaction show as
    `[redacted]` in every report."""
    doc = document(make_report_data(10))
    text = json.dumps(doc)
    for secret in ("hunter2", "s3cr3t", "tok-123"):
        assert secret not in text
    evil = next(f for f in doc["findings"] if f["resource"].startswith("arn:aws:s3:::evil"))
    assert evil["evidence"]["password"] == "[redacted]"
    assert doc["appendix"]["params"]["api_token"] == "[redacted]"
    html = render_html(doc)
    assert "hunter2" not in html and "s3cr3t" not in html


def test_report_json_shape_and_changes_since_previous() -> None:
    """report.json carries cover facts, summary, coverage, trend and an itemised change list."""
    doc = document(make_report_data(60))
    assert doc["report"]["organisation"] == "Acme Payments Ltd"
    assert doc["summary"]["coverage_pct"] == 50.0
    assert doc["summary"]["drift"] == {"missing": 1, "unmanaged": 1, "changed": 2}
    assert len(doc["trend"]) == 30
    ch = doc["changes_since_previous"]
    assert ch["itemised"] and ch["previous_scan"] == 41
    assert {d["resource"] for d in ch["new_drift"]} == {
        "ssh://web-01",
        "arn:aws:ec2:us-east-1:111122223333:instance/i-0abc",
    }
    assert any(f["resource"].startswith("arn:aws:s3:::evil") for f in ch["new_failing"])
    assert ch["delta"]["coverage_pct"] == -50.0


def test_bad_signing_key_is_a_report_error(tmp_path: Path) -> None:
    """An unusable signing key raises ReportError before any report folder is written."""
    from driftscan.errors import ReportError

    bad = tmp_path / "reports"
    with pytest.raises(ReportError):
        write_report(make_report_data(5), bad, ["html", "pdf"], signing_key=tmp_path / "nokey")
    assert not bad.exists() or not any(p.name.startswith("scan-") for p in bad.iterdir())
    shutil.rmtree(bad, ignore_errors=True)


def test_frameworks_of_providers_not_read_are_named_not_listed() -> None:
    """A benchmark about a provider no source read (GCP here: the sources are AWS and SSH),
    and a framework whose every rule is the skip "no source reads its types", are one line of
    the HTML and PDF, not a section each; a framework over every provider keeps its in-scope
    rules and loses only the others. report.json keeps every framework and finding."""
    from driftscan.compliance.frameworks import FrameworkView, RequirementView
    from driftscan.model import Finding
    from driftscan.report.data import Requirement

    data = make_report_data(4)
    assert data.findings is not None
    skip = "no source of this scan reads its types (gcp)"
    for rid in ("gcp_rule", "k8s_rule"):
        data.findings.append(Finding(rule=rid, resource=f"types:{rid}", status="skip",
                                     reason=skip, severity="high"))  # fmt: skip

    def view(fw: str, title: str, reqs: dict[str, list[str]], providers: tuple[str, ...] = ()):
        rows = [
            RequirementView(r, f"{r} title", "not_assessed", ids, [], None)
            for r, ids in reqs.items()
        ]
        return FrameworkView(fw, title, None, 42, 1.0, rows, providers=providers)

    data.frameworks = [
        view("cis-gcp", "GCP Bench", {"g1": ["gcp_rule"], "g2": ["rule_00"]}, ("gcp",)),
        view("cis-k8s", "K8s Bench", {"k1": ["k8s_rule"]}),
        view("mixed", "Mixed Framework", {"m1": ["rule_00", "gcp_rule"], "m2": ["k8s_rule"]}),
        view("second", "Second Framework", {"s1": ["rule_00"]}),
    ]
    data.requirements = [
        Requirement(v.framework, r.id, tuple(r.rules), r.title, v.title)
        for v in data.frameworks
        for r in v.requirements
    ]
    doc = document(data)
    assert {f["framework"] for f in doc["frameworks"]} == {"cis-gcp", "cis-k8s", "mixed", "second"}
    assert sum(1 for f in doc["findings"] or [] if f["resource"].startswith("types:")) == 2
    html = render_html(doc)
    frameworks = html.split('<section id="frameworks">', 1)[1].split("</section>", 1)[0]
    assert 'id="fw-mixed"' in frameworks
    assert 'id="fw-cis-gcp"' not in frameworks and 'id="fw-cis-k8s"' not in frameworks
    na = frameworks.split('id="fw-out-of-scope"', 1)[1]
    assert "GCP Bench" in na and "K8s Bench" in na and "Mixed Framework" not in na
    controls = html.split('<section id="controls">', 1)[1].split("</section>", 1)[0]
    assert 'id="req-mixed-m1"' in controls  # rule_00 is in scope
    assert 'id="req-mixed-m2"' not in controls  # it maps only an out-of-scope rule
    assert "GCP Bench" not in controls and "gcp_rule" not in controls
    assert "2 rules of providers no source of this scan reads are left out" in controls
    # On paper, a requirement whose every rule is listed under an earlier one is one line.
    pdf = render_html(doc, pdf=True, passing_limit=10)
    line = pdf.split('id="req-second-s1"', 1)[1].split("</p>", 1)[0]
    assert "rule_00" in line and "listed under mixed m1" in line
    assert 'id="req-mixed-m1"' in pdf and "<h4>m1" in pdf  # the first one keeps its block
    assert 'id="req-second-s1"' in html and "<h4>s1" in html  # the HTML keeps every block


def test_pdf_folds_requirements_that_only_carry_an_id() -> None:
    """On paper, a run of requirements that no rule maps is one line of their ids (each keeps
    its anchor), and the manual requirements without attestation are one paragraph of ids in
    the frameworks section; the HTML keeps a heading and a row for every one of them."""
    from driftscan.compliance.frameworks import FrameworkView, RequirementView
    from driftscan.report.data import Requirement

    data = make_report_data(4)
    missing = [
        RequirementView(f"9.{i}", f"Manual duty {i}", "attestation_missing", [], [], None,
                        reason="manual: no attestation", manual=True)
        for i in range(1, 4)
    ]  # fmt: skip
    failing = RequirementView("1.1", "Automated", "failed", ["rule_00"], ["arn:x"], None,
                              reason="1 alarm")  # fmt: skip
    view = FrameworkView("fw", "Fold Framework", None, 7, 0.25, [failing, *missing])
    data.frameworks = [view]
    data.requirements = [
        Requirement("fw", r.id, tuple(r.rules), r.title, view.title) for r in view.requirements
    ]
    doc = document(data)
    pdf = render_html(doc, pdf=True, passing_limit=10)
    html = render_html(doc)

    section4 = pdf.split('<section id="frameworks">', 1)[1].split("</section>", 1)[0]
    ids_line = section4.split("<b>ATTESTATION MISSING</b>", 1)[1].split("</p>", 1)[0]
    assert "9.1, 9.2, 9.3." in ids_line and "Manual duty" not in section4
    assert "Automated" in section4  # a requirement with rules keeps its own row

    controls = pdf.split('<section id="controls">', 1)[1].split("</section>", 1)[0]
    run = controls.split("No rule maps", 1)[1].split("</p>", 1)[0]
    for i in range(1, 4):
        assert f'<span id="req-fw-9-{i}">9.{i}</span>' in run
    assert "<h4>9." not in controls and "<h4>1.1" in controls
    assert controls.count("No rule maps") == 1

    for i in range(1, 4):  # the HTML: a heading and a table row each, with the title
        assert f'id="req-fw-9-{i}"' in html and f"<h4>9.{i} — Manual duty {i}" in html
        assert f"Manual duty {i}" in html.split('<section id="frameworks">', 1)[1]


def test_pdf_keeps_the_resource_counts_beside_a_long_identity(tmp_path: Path) -> None:
    """A source identity with one long unbroken token (an SSH key fingerprint) wraps inside
    its column on paper: the table keeps to the page and every count is printed whole."""
    from dataclasses import replace

    from driftscan.report.formats import render_pdf

    data = make_report_data(4)
    token = "SHA256:" + "IknoxpJD4aV0sRqLH2L1OqAMIGmuZ4xs6ZqpidQgMUa" * 2
    data.sources = [replace(s, identity=f"user scanner with key {token}") for s in data.sources]
    doc = document(data)
    out = tmp_path / "r.pdf"
    render_pdf(render_html(doc, pdf=True, passing_limit=5), out)
    text = _pdf_text(out)
    table = text.split("Sources", 1)[1].split("Slices", 1)[0]
    assert "resources" in table and "unreachable" in table  # headers and words whole
    # Text past the page's right edge is in the file but not on paper: every fragment of the
    # coverage page must end inside it (width estimated from the font size, generously).
    page = next(p for p in pypdf.PdfReader(out).pages if "Sources" in (p.extract_text() or ""))
    right = float(page.mediabox.right)
    ends: list[tuple[float, str]] = []

    def visit(t: str, cm: list[float], tm: list[float], font: object, size: float) -> None:
        if t.strip():
            x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
            ends.append((x + len(t.strip()) * size * cm[0] * 0.45, t.strip()))

    page.extract_text(visitor_text=visit)
    assert ends and max(ends)[0] <= right, sorted(ends)[-3:]


def test_the_cover_says_what_period_it_covers() -> None:
    """The cover's period says what it spans: since the scan last reported, or the trend's."""
    from driftscan.report.data import PreviousReport

    data = make_report_data(4)
    data.previous = None
    assert "over the scans of the trend below" in render_html(document(data))
    data.previous = PreviousReport(folder="reports/out/scan-000041", scan_id=41,
                                   manifest_sha256="0" * 64, summary={})  # fmt: skip
    assert "since scan 41, the one last reported" in render_html(document(data))


# Reads the laid-out page: the widest element's right edge against the window's width.
_PROBE = """<script>window.addEventListener("load", () => {
  const lines = (el) => { const r = document.createRange(); r.selectNodeContents(el);
    return new Set([...r.getClientRects()].map((b) => Math.round(b.top))).size; };
  const split = [...document.querySelectorAll("td.nw, .badge")].filter((e) => lines(e) > 1);
  const d = document.createElement("pre"); d.id = "WIDTHS";
  d.textContent = document.documentElement.scrollWidth + " " + document.documentElement.clientWidth
    + " " + split.length + " " + split.slice(0, 3).map((e) => e.textContent.trim()).join("|");
  document.body.appendChild(d); });</script>"""


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="headless test needs /usr/bin/chromium")
@pytest.mark.parametrize("width", [800, 1000, 1280])
def test_html_needs_no_horizontal_scroll_in_a_narrow_window(tmp_path: Path, width: int) -> None:
    """Long identifiers, types and digests wrap: the page is no wider than the window, and
    short names and badges stay on one line."""
    html = render_html(document(make_report_data(60)))
    # The probe is this test's own script: the report's policy (no script at all) is lifted
    # for it alone, in a copy.
    start = html.index('<meta http-equiv="Content-Security-Policy"')
    html = html[:start] + html[html.index(">", start) + 1 :]
    page = tmp_path / "probe.html"
    page.write_text(html.replace("</body>", _PROBE + "</body>"))
    proc = subprocess.run(
        [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'profile'}", f"--window-size={width},2000",
         "--virtual-time-budget=2000", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    probe = html_unescape(proc.stdout.split('<pre id="WIDTHS">')[1].split("<")[0]).split(" ", 3)
    scroll, client, split = map(int, probe[:3])
    assert scroll <= client, f"page {scroll} px wide in a {client} px window"
    # Names, regions and badges (source `gcp-sandbox`, `not assessed`) are never split.
    assert split == 0, f"{split} short cells wrapped: {probe[3]}"
