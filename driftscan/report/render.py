"""Write a report folder: every requested format's renderer, then a signed manifest.

A report folder holds the files of the requested formats (driftscan.report.formats for the
built-in html, pdf, json and csv; any renderer registered under `driftscan.renderers`) and

    manifest.json   see driftscan.report.manifest

A format whose renderer cannot run here (renderer.FormatUnavailable: the PDF without
WeasyPrint or Pango) is left out, never silently: the manifest's `not_written` lists it with
the reason, ReportResult.not_written carries it, and it is logged as one warning line.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from driftscan.errors import ReportError, ReportPathError, ReportWriteError, disk_failure
from driftscan.model import sha256_file
from driftscan.output import dumps
from driftscan.report import renderer
from driftscan.report.data import ReportData
from driftscan.report.document import ReportDocument, document
from driftscan.report.manifest import (
    LEDGER,
    MANIFEST,
    MANIFEST_FORMAT,
    LedgerEntry,
    LedgerUnreadable,
    append_ledger,
    ledger_lock,
    read_ledger,
    recover_ledger,
    sign,
)
from driftscan.report.signing import Ed25519Signer, Signer, load_signing_key

SCRATCH = ".scratch"
log = logging.getLogger(__name__)


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
    # Requested formats that could not be rendered on this machine: format → why, and how to
    # get it. Also in the manifest (`not_written`).
    not_written: dict[str, str] = field(default_factory=dict)


def _render_into(
    folder: Path, selected: Sequence[renderer.Renderer], doc: ReportDocument, passing_limit: int
) -> dict[str, str]:
    """Write each renderer's files into `folder`, and return the formats that could not run
    here (FormatUnavailable) with why; a file name that is not a plain name, is the
    manifest's, or is written by two renderers is a ReportError, and so is a report none of
    whose formats could run."""
    written: dict[str, str] = {}
    unavailable: dict[str, str] = {}
    for r in selected:
        scratch = folder / SCRATCH
        scratch.mkdir()
        try:
            files = r.render(doc, renderer.RenderContext(scratch, passing_limit))
        except renderer.FormatUnavailable as exc:
            unavailable[r.name] = str(exc)
            log.warning("%s", exc)
            continue
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        for fname, body in files.items():
            if (
                not fname
                or fname in (MANIFEST, LEDGER)
                or fname[0] == "."
                or Path(fname).name != fname
            ):
                raise ReportError(f"report format '{r.name}' writes a file it may not: {fname!r}")
            if fname in written:
                raise ReportError(
                    f"report formats '{written[fname]}' and '{r.name}' both write {fname}"
                )
            written[fname] = r.name
            if isinstance(body, bytes):
                (folder / fname).write_bytes(body)
            else:
                (folder / fname).write_text(body, encoding="utf-8", newline="\n")
    if unavailable and len(unavailable) == len(selected):
        raise ReportError("; ".join(unavailable.values()))
    return unavailable


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


def check_reports_root(root: Path) -> None:
    """Raise ReportPathError when no report can be written under `root`: it (or the folder
    it would be made in) is not a directory, is on a read-only file system or is not
    writable for this user. Creates nothing, so a command can check before it starts."""
    p = root
    while not p.exists() and p.parent != p:
        if p.is_symlink():  # exists() follows links: this one points nowhere
            raise ReportPathError(
                str(root), f"{p} is a symlink to {os.readlink(p)}, which does not exist"
            )
        p = p.parent  # the folder the missing ones would be made in
    if not p.is_dir():
        raise ReportPathError(str(root), "not a directory" + (f": {p} is a file" * (p != root)))
    if not os.access(p, os.W_OK | os.X_OK):
        if os.statvfs(p).f_flag & os.ST_RDONLY:
            why = "read-only file system"
        else:
            why = "permission denied: read-only for this user"
        raise ReportPathError(str(root), why + (f" (cannot make it in {p})" * (p != root)))


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
    formats: Sequence[str] | None = None,
    *,
    signing_key: Path | None = None,
    signer: Signer | None = None,
    passing_limit: int = 500,
    now: datetime | None = None,
) -> ReportResult:
    """Render every requested format (default: every registered one) into a new folder under
    `root`, then seal it.

    The folder appears complete or not at all (written beside, then renamed), and is
    appended to the reports ledger under a lock so concurrent writers keep one chain. Under
    that lock it first clears up after writers that were killed (`ReportResult.notes`), and
    a full disk raises ReportWriteError with nothing of the new report left behind.
    """
    wanted = list(dict.fromkeys(formats if formats is not None else renderer.names()))
    registered = renderer.renderers()
    unknown = sorted(set(wanted) - set(registered))
    if unknown or not wanted:
        raise ReportError(
            f"unknown report format {', '.join(unknown) or '(none)'}; "
            f"choose from {', '.join(renderer.names())}"
        )
    selected = [registered[f] for f in wanted]
    if signer is None and signing_key is not None:
        signer = Ed25519Signer(load_signing_key(signing_key))
    check_reports_root(root)
    doc = document(data)

    root.mkdir(parents=True, exist_ok=True)
    with _disk_errors(root), ledger_lock(root):
        # Holding the lock proves no other writer is active: clear up after killed ones.
        try:
            notes = _remove_stale_tmp(root) + recover_ledger(root, signer)
            entries = read_ledger(root)
        except LedgerUnreadable as exc:
            raise ReportPathError(exc.path, f"{exc.reason}; move it aside or mend it") from None
        name = _folder_name(root, data.scan.scan_id, (e.folder for e in entries))
        tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{name}-", dir=root))
        try:
            not_written = _render_into(tmp, selected, doc, passing_limit)
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
                # Requested but not renderable here, and why: absent is stated, not silent.
                "not_written": [
                    {"format": f, "reason": why} for f, why in sorted(not_written.items())
                ],
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
        summary=dict(doc["summary"]),
        notes=notes,
        not_written=not_written,
    )
