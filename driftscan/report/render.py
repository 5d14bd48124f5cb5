"""Render the report document as HTML, PDF, JSON and CSV, and write a signed report folder.

Artifacts of one report folder:

    report.html     self-contained page (inline CSS and SVG, no scripts, no external fetches)
    report.pdf      the same template family, paginated; passing rows summarised past
                    reports.pdf_passing_limit with a pointer to report.html and findings.csv
    report.json     the whole document, sorted; byte-identical for identical inputs
    findings.csv    one row per finding (absent when controls were not evaluated)
    drift.csv       one row per changed path (one row per missing/unmanaged resource;
                    absent when drift was not evaluated)
    coverage.csv    one row per collection slice, with status and reason
    manifest.json   see driftscan.report.manifest
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jinja2

from driftscan.assets import templates_dir
from driftscan.errors import ReportError, ReportWriteError, disk_failure
from driftscan.output import dumps, render_csv
from driftscan.report import charts, pdf_worker, view
from driftscan.report.data import ReportData
from driftscan.report.manifest import (
    LEDGER,
    MANIFEST,
    MANIFEST_FORMAT,
    LedgerEntry,
    append_ledger,
    ledger_lock,
    read_ledger,
    recover_ledger,
    sha256_file,
    sign,
)
from driftscan.report.signing import Ed25519Signer, Signer, load_signing_key

FORMATS = ("html", "pdf", "json", "csv")
PDF_TIMEOUT_S = 600
# Items of each "what changed" list printed in the PDF; the lists repeat rows that the controls
# section already lists in full, and every item stays in report.html and report.json.
CHANGES_IN_PDF = 100


@dataclass
class ReportResult:
    """One written report folder."""

    folder: Path
    scan_id: int
    artifacts: dict[str, Path] = field(default_factory=dict)
    manifest: Path | None = None
    manifest_sha256: str = ""
    signed: bool = False
    summary: dict[str, Any] = field(default_factory=dict)
    key_id: str | None = None  # of the signing key, when signed
    # What this writer cleared up after earlier, killed ones (stale .tmp-* folders, folders
    # recorded in the ledger late).
    notes: list[str] = field(default_factory=list)


def _tojson(v: Any) -> str:
    return json.dumps(v, sort_keys=True, ensure_ascii=False, default=str)


def environment() -> jinja2.Environment:
    """The template environment: autoescaping on for every template, whatever its name."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["j"] = _tojson
    return env


def render_html(doc: dict[str, Any], *, pdf: bool = False, passing_limit: int | None = None) -> str:
    """The report page; `pdf=True` gives the paginated variant that WeasyPrint lays out."""
    tpl = environment().get_template("report.html.j2")
    return tpl.render(
        doc=doc,
        pdf=pdf,
        passing_limit=passing_limit,
        changes_in_pdf=CHANGES_IN_PDF,
        controls=view.controls(doc, passing_limit if pdf else None),
        trend_chart=charts.trend_svg(doc["trend"]),
        statuses=view.STATUSES,
        severities=view.SEVERITIES,
        kinds=view.DRIFT_KINDS,
    )


def render_json(doc: dict[str, Any]) -> str:
    return dumps(doc) + "\n"


def _frameworks_cell(fw: dict[str, list[str]]) -> str:
    return "; ".join(f"{k}: {', '.join(v)}" for k, v in sorted(fw.items()))


def render_csvs(doc: dict[str, Any]) -> dict[str, str]:
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
    """Lay out `html` as a PDF in a child process (WeasyPrint's memory goes back with it)."""
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
        if proc.returncode == pdf_worker.EXIT_DISK:
            name = (proc.stderr.strip().splitlines() or ["EIO"])[-1]
            code = getattr(errno, name, errno.EIO)
            raise OSError(code, os.strerror(code), str(out))
        if proc.returncode != 0:
            tail = "\n".join(proc.stderr.strip().splitlines()[-5:])
            raise ReportError(f"PDF rendering failed (exit {proc.returncode}): {tail}")
    finally:
        Path(tmp).unlink(missing_ok=True)


def _folder_name(root: Path, scan_id: int, taken: Iterable[str]) -> str:
    used = set(taken)
    base = f"scan-{scan_id:06d}"
    name, k = base, 1
    while name in used or (root / name).exists():
        k += 1
        name = f"{base}-{k}"
    return name


def _remove_stale_tmp(root: Path) -> list[str]:
    """Remove the `.tmp-*` folders of writers killed mid-write. Call under the ledger lock:
    holding it proves that no writer is still filling one of them."""
    notes = []
    for p in sorted(root.glob(".tmp-*")):
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p, ignore_errors=True)
            notes.append(f"removed {p.name}, left by a report writer that was killed")
    return notes


def _record(root: Path, folder: Path, entry: LedgerEntry) -> None:
    """Append `entry` to the ledger. Should that fail (a full disk), put the ledger back as it
    was and take `folder` out: no torn ledger line, no folder the ledger does not know."""
    ledger = root / LEDGER
    size = ledger.stat().st_size if ledger.exists() else None
    try:
        append_ledger(root, entry)
    except BaseException:
        if size is None:
            ledger.unlink(missing_ok=True)
        else:
            os.truncate(ledger, size)
        shutil.rmtree(folder, ignore_errors=True)
        raise


@contextmanager
def _disk_errors(root: Path) -> Iterator[None]:
    """A full or failing disk while writing under `root` becomes ReportWriteError."""
    try:
        yield
    except OSError as exc:
        reason = disk_failure(exc)
        if reason is None:
            raise
        raise ReportWriteError(str(root), reason) from None


def write_report(
    data: ReportData,
    root: Path,
    formats: Sequence[str] = FORMATS,
    *,
    signing_key: Path | None = None,
    signer: Signer | None = None,
    passing_limit: int = 500,
    now: datetime | None = None,
) -> ReportResult:
    """Render every requested format into a new folder under `root`, then seal it.

    The folder appears complete or not at all (written beside, then renamed), and is
    appended to the reports ledger under a lock so concurrent writers keep one chain. Under
    that lock it first clears up after writers that were killed (`ReportResult.notes`), and
    a full disk raises ReportWriteError with nothing of the new report left behind.
    """
    unknown = sorted(set(formats) - set(FORMATS))
    if unknown or not formats:
        raise ReportError(
            f"unknown report format {', '.join(unknown) or '(none)'}; choose from {', '.join(FORMATS)}"
        )
    if signer is None and signing_key is not None:
        signer = Ed25519Signer(load_signing_key(signing_key))
    doc = view.document(data)
    texts: dict[str, str] = {}
    if "html" in formats:
        texts["report.html"] = render_html(doc)
    if "json" in formats:
        texts["report.json"] = render_json(doc)
    if "csv" in formats:
        texts.update(render_csvs(doc))
    pdf_html = render_html(doc, pdf=True, passing_limit=passing_limit) if "pdf" in formats else ""

    root.mkdir(parents=True, exist_ok=True)
    with _disk_errors(root), ledger_lock(root):
        # Holding the lock proves no other writer is active: clear up after killed ones.
        notes = _remove_stale_tmp(root) + recover_ledger(root, signer)
        entries = read_ledger(root)
        name = _folder_name(root, data.scan.scan_id, (e.folder for e in entries))
        tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{name}-", dir=root))
        try:
            for fname, text in texts.items():
                (tmp / fname).write_text(text, encoding="utf-8", newline="\n")
            if pdf_html:
                render_pdf(pdf_html, tmp / "report.pdf")
            artifacts: list[dict[str, Any]] = [
                {"name": p.name, "sha256": sha256_file(p), "bytes": p.stat().st_size}
                for p in sorted(tmp.iterdir())
                if p.is_file() and not p.name.startswith(".")
            ]
            prev = entries[-1] if entries else None
            manifest: dict[str, Any] = {
                "format": MANIFEST_FORMAT,
                "organisation": data.organisation,
                "folder": name,
                "scan": data.scan.scan_id,
                "scan_status": data.scan.status,
                "scan_chain_hash": data.scan.chain_hash,
                "chain_head": data.chain_head,
                "tool_version": data.tool_version,
                "rules_hash": data.rules_hash,
                "generated_at": (now or datetime.now(UTC)).isoformat(),
                "artifacts": artifacts,
                "previous": None
                if prev is None
                else {
                    "folder": prev.folder,
                    "scan": prev.scan_id,
                    "manifest_sha256": prev.manifest_sha256,
                },
                "summary": doc["summary"],
            }
            if signer is not None:
                manifest = sign(manifest, signer)
            (tmp / MANIFEST).write_text(dumps(manifest) + "\n", encoding="utf-8", newline="\n")
            final = root / name
            tmp.rename(final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        digest = sha256_file(final / MANIFEST)
        key_id = signer.key_id if signer is not None else None
        entry = LedgerEntry(
            name, data.scan.scan_id, digest, signed=signer is not None, key_id=key_id
        )
        _record(root, final, entry)
    return ReportResult(
        folder=final,
        scan_id=data.scan.scan_id,
        artifacts={str(a["name"]): final / str(a["name"]) for a in artifacts},
        manifest=final / MANIFEST,
        manifest_sha256=digest,
        signed=signer is not None,
        key_id=key_id,
        summary=doc["summary"],
        notes=notes,
    )
