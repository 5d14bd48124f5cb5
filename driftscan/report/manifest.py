"""The signed manifest of a report folder, the reports ledger that chains them, and verification.

Layout of a reports root (reports.dir, or `--out`):

    ledger.jsonl          one line per report, oldest first: {folder, scan, manifest_sha256}
    scan-000041/          one folder per report (scan-000041-2 when scan 41 is reported again)
      manifest.json       sha256 of every artifact, the scan's chain hash, the chain head, the
                          previous report's manifest hash, the summary; optionally signed
      report.html report.pdf report.json findings.csv drift.csv coverage.csv

Each manifest names the previous report's manifest by its sha256, so the reports form a hash
chain of their own, anchored to the store's scan chain. With reports.signing_key (an Ed25519
private key in PEM) or reports.signing_kms_key (an AWS KMS asymmetric key), `signature` holds
the algorithm, the key id, the public key and the signature over the canonical JSON of the
manifest without its `signature` key (driftscan.report.signing). A signed report's ledger
line says so (`signed`, `key_id`), so a signature stripped afterwards is named.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from driftscan.errors import ReportPathError
from driftscan.inputs import parse_json, read_json, read_text
from driftscan.model import canonical_json, sha256_file
from driftscan.report.signing import (
    Ed25519Signer,
    Signer,
    Trusted,
    check_block,
    key_id_of,
    load_trusted_key,
)

MANIFEST = "manifest.json"
LEDGER = "ledger.jsonl"
MANIFEST_FORMAT = "driftscan-report-manifest/1"


@dataclass(frozen=True)
class LedgerEntry:
    """One report recorded in the reports ledger."""

    folder: str
    scan_id: int
    manifest_sha256: str
    summary: dict[str, Any] = field(default_factory=dict)
    signed: bool | None = None  # None: a line written before ledgers recorded signing
    key_id: str | None = None


def read_ledger(root: Path) -> list[LedgerEntry]:
    """Every report recorded under `root`, oldest first (empty when there is no ledger)."""
    path = root / LEDGER
    if not path.is_file():
        return []
    out = []
    for n, line in enumerate(read_text(path).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            d = parse_json(line)
            signed = d.get("signed")
            out.append(
                LedgerEntry(str(d["folder"]), int(d["scan"]), str(d["manifest_sha256"]),
                            signed=None if signed is None else bool(signed), key_id=d.get("key_id"))
            )  # fmt: skip
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            # Anyone who can write the reports folder can write this line: named, never a crash.
            raise LedgerUnreadable(str(path), f"line {n} is not a ledger entry ({exc})") from None
    return out


class LedgerUnreadable(ReportPathError, ValueError):
    """A line of the reports ledger that is not one driftscan wrote (exit 2 where no caller
    names it; `verify` reports it as a problem)."""


def latest_report(root: Path) -> LedgerEntry | None:
    """The newest report under `root`, with its manifest's summary, or None."""
    entries = read_ledger(root)
    if not entries:
        return None
    e = entries[-1]
    summary: dict[str, Any] = {}
    mpath = root / e.folder / MANIFEST
    if mpath.is_file():
        try:
            summary = dict(read_json(mpath).get("summary") or {})
        except ValueError:
            summary = {}
    return LedgerEntry(e.folder, e.scan_id, e.manifest_sha256, summary, e.signed, e.key_id)


@contextmanager
def ledger_lock(root: Path) -> Iterator[None]:
    """Serialise report writers under one root, so two reports never fork the chain."""
    root.mkdir(parents=True, exist_ok=True)
    with (root / ".ledger.lock").open("a+") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def append_ledger(root: Path, entry: LedgerEntry) -> None:
    d: dict[str, Any] = {
        "folder": entry.folder, "scan": entry.scan_id, "manifest_sha256": entry.manifest_sha256
    }  # fmt: skip
    if entry.signed is not None:
        d["signed"] = entry.signed
    if entry.key_id:
        d["key_id"] = entry.key_id
    line = canonical_json(d)
    with (root / LEDGER).open("a", encoding="utf-8") as f:
        f.write(line + "\n")


def _raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def signed_bytes(manifest: dict[str, Any]) -> bytes:
    """What the signature covers: the manifest's canonical JSON without `signature`."""
    return canonical_json({k: v for k, v in manifest.items() if k != "signature"}).encode()


def sign(manifest: dict[str, Any], key: Ed25519PrivateKey | Signer) -> dict[str, Any]:
    """The manifest with a `signature` block added (an Ed25519 key, or any Signer)."""
    signer = Ed25519Signer(key) if isinstance(key, Ed25519PrivateKey) else key
    return {**manifest, "signature": signer.sign_block(signed_bytes(manifest))}


@dataclass(frozen=True)
class SignedRecord:
    """What some record outside the manifest says about its signature, and which record."""

    signed: bool
    key_id: str | None
    where: str


def verify_report_dir(
    path: str | Path,
    *,
    trusted_key: str | Path | None = None,
    recorded: SignedRecord | None = None,
) -> list[str]:
    """Check a report folder (or a reports root with its ledger); [] when intact.

    Each problem names what was altered, added, removed or wrongly signed. With `trusted_key`
    (a public key: PEM, DER or raw Ed25519; or a PEM private key), the manifest must be
    signed by that key. A folder whose ledger line (or `recorded`, e.g. the store's record)
    says it was signed must still carry a valid signature by the key recorded.
    """
    root = Path(path)
    trusted = load_trusted_key(trusted_key) if trusted_key is not None else None
    if (root / LEDGER).is_file() and not (root / MANIFEST).is_file():
        return _verify_root(root, trusted)
    records = [r for r in (recorded, _ledger_record(root)) if r is not None]
    return _verify_folder(root, trusted, records=records)


def check_report_path(path: str | Path) -> None:
    """Raise ReportPathError unless `path` is a report folder (it has a manifest, or the
    ledger beside it records it) or a reports folder (it has a ledger): anything else is a
    mistake in what was asked for, not a report that fails verification."""
    p = Path(path)
    if not p.exists():
        raise ReportPathError(str(p), "no such folder")
    if not p.is_dir():
        raise ReportPathError(str(p), "not a directory")
    if (p / MANIFEST).is_file() or (p / LEDGER).is_file():
        return
    real = p.resolve()
    try:
        recorded = any(e.folder == real.name for e in read_ledger(real.parent))
    except (OSError, ValueError, KeyError, TypeError):
        recorded = False
    if not recorded:  # a recorded report whose manifest is gone is broken, not a mistake
        raise ReportPathError(
            str(p), f"not a report folder (no {MANIFEST}) nor a reports folder (no {LEDGER})"
        )


@dataclass(frozen=True)
class SignedBy:
    """The key a report's manifest says signed it: its key id (an Ed25519 key's is its public
    key's sha256; a KMS key's, its ARN) and its public key's sha256."""

    key_id: str
    public_key_sha256: str | None = None

    def __str__(self) -> str:
        fp = self.public_key_sha256
        return self.key_id + (f" (public key sha256 {fp})" if fp and fp != self.key_id else "")


def signers(path: str | Path) -> dict[str, SignedBy | None]:
    """Report folder name → the key its manifest names as signer, None when unsigned: the
    one folder at `path`, or every report a reports folder's ledger lists. What the manifest
    claims: only `verify_report_dir` says whether the signature holds."""
    root = Path(path)
    if (root / LEDGER).is_file() and not (root / MANIFEST).is_file():
        try:
            folders = [root / e.folder for e in read_ledger(root)]
        except (OSError, ValueError):
            folders = []  # verify_report_dir names the unreadable ledger
    else:
        folders = [root]
    out: dict[str, SignedBy | None] = {}
    for folder in folders:
        try:
            block = read_json(folder / MANIFEST).get("signature")
        except (OSError, ValueError, AttributeError):
            block = None
        if isinstance(block, dict) and key_id_of(block):
            fp = block.get("public_key_sha256")
            out[folder.resolve().name] = SignedBy(key_id_of(block), str(fp) if fp else None)
        else:
            out[folder.resolve().name] = None
    return out


def _ledger_record(folder: Path) -> SignedRecord | None:
    """What the reports ledger beside `folder` says about its signature, if anything."""
    try:
        entries = [e for e in read_ledger(folder.parent) if e.folder == folder.name]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not entries or entries[-1].signed is None:
        return None
    return SignedRecord(bool(entries[-1].signed), entries[-1].key_id, f"../{LEDGER}")


def reported_scans(root: Path) -> list[tuple[str, int, str]]:
    """(folder, scan id, scan chain hash) of every report in the ledger under `root`.

    These anchor the store's chain from outside the store: a scan deleted from the newest
    end of the ledger leaves no broken link in the store, but its report still names it.
    """
    out = []
    try:
        entries = read_ledger(root)
    except (OSError, ValueError):
        return []  # verify_report_dir names an unreadable ledger
    for e in entries:
        try:
            manifest = read_json(root / e.folder / "manifest.json")
        except (OSError, ValueError):
            continue  # verify_report_dir names missing or broken manifests
        out.append((e.folder, e.scan_id, str(manifest.get("scan_chain_hash", ""))))
    return out


def _verify_root(root: Path, trusted: Trusted | None) -> list[str]:
    problems: list[str] = []
    try:
        entries = read_ledger(root)
    except LedgerUnreadable as exc:
        return [f"{LEDGER}: unreadable ({exc.reason})"]
    except (OSError, ValueError) as exc:
        return [f"{LEDGER}: unreadable ({exc})"]
    prev: LedgerEntry | None = None
    for e in entries:
        folder = root / e.folder
        mpath = folder / MANIFEST
        if not mpath.is_file():
            problems.append(f"{e.folder}/{MANIFEST}: missing (recorded in {LEDGER})")
            prev = e
            continue
        if sha256_file(mpath) != e.manifest_sha256:
            problems.append(f"{e.folder}/{MANIFEST}: altered (differs from the hash in {LEDGER})")
        records = [] if e.signed is None else [SignedRecord(e.signed, e.key_id, LEDGER)]
        problems.extend(
            f"{e.folder}/{p}" for p in _verify_folder(folder, trusted, chain=False, records=records)
        )
        try:
            link = (read_json(mpath).get("previous") or {}).get("manifest_sha256")
        except ValueError:
            link = None
        want = prev.manifest_sha256 if prev else None
        if link != want:
            problems.append(
                f"{e.folder}/{MANIFEST}: link to the previous report does not match "
                f"(chain broken before {e.folder})"
            )
        prev = e
    recordable, others = unrecorded(root, entries, trusted)
    problems.extend(
        f"{e.folder}: has a valid manifest but is not in the reports ledger ({LEDGER}): written "
        "by a run that was killed before recording it; the next report written here records it"
        for e in recordable
    )
    return problems + others


_KILLED = "written by a run that was killed before recording it"


def unrecorded(
    root: Path, entries: list[LedgerEntry], trusted: Trusted | None = None
) -> tuple[list[LedgerEntry], list[str]]:
    """Report folders under `root` that the ledger `entries` do not list.

    Returns, first, the entries that can be recorded now, in chain order: folders whose
    manifest verifies and whose `previous` is the ledger's last report (or the folder before
    them in this list) -- what a writer killed between renaming its folder into place and
    appending to the ledger leaves. Second, a precise problem for every other such folder.
    """
    listed = {e.folder for e in entries}
    valid: dict[str, tuple[dict[str, Any], str]] = {}
    problems: list[str] = []
    for p in sorted(root.iterdir()):
        if p.name.startswith(".") or p.name in listed or not p.is_dir():
            continue
        if not (p / MANIFEST).is_file():
            continue
        bad = _verify_folder(p, trusted, chain=False)
        try:
            manifest = read_json(p / MANIFEST)
        except ValueError:
            manifest = None
        if bad or not isinstance(manifest, dict):
            why = "; ".join(bad) or f"{MANIFEST}: unreadable"
            problems.append(
                f"{p.name}: a report folder not recorded in {LEDGER}, and its manifest does not "
                f"verify ({why})"
            )
        elif manifest.get("folder") != p.name or not isinstance(manifest.get("scan"), int):
            problems.append(
                f"{p.name}: a report folder not recorded in {LEDGER}; its manifest was written "
                f"for folder {manifest.get('folder')!r}"
            )
        else:
            valid[p.name] = (manifest, sha256_file(p / MANIFEST))

    def follows(manifest: dict[str, Any], tail: LedgerEntry | None) -> bool:
        prev = manifest.get("previous")
        if tail is None:
            return prev is None
        return (
            isinstance(prev, dict)
            and prev.get("folder") == tail.folder
            and prev.get("manifest_sha256") == tail.manifest_sha256
        )

    recordable: list[LedgerEntry] = []
    tail = entries[-1] if entries else None
    while True:
        nxt = [name for name, (m, _) in valid.items() if follows(m, tail)]
        if len(nxt) != 1:
            break  # none left, or two folders claim the same place: a person must choose
        manifest, digest = valid.pop(nxt[0])
        block = manifest.get("signature")
        signed = isinstance(block, dict)
        key_id = key_id_of(block) if isinstance(block, dict) else None
        tail = LedgerEntry(nxt[0], int(manifest["scan"]), digest, signed=signed, key_id=key_id)
        recordable.append(tail)
    known = {e.manifest_sha256: e.folder for e in [*entries, *recordable]}
    for name, (manifest, _) in valid.items():
        prev = manifest.get("previous")
        after = prev.get("folder") if isinstance(prev, dict) else None
        here = f"{name}: has a valid manifest but is not in the reports ledger ({LEDGER})"
        if follows(manifest, tail):
            rivals = sorted(n for n, (m, _) in valid.items() if n != name and follows(m, tail))
            problems.append(
                f"{here}: {_KILLED}, but {', '.join(rivals)} follow the same report; record the "
                "right one by hand"
            )
        elif isinstance(prev, dict) and prev.get("manifest_sha256") in known:
            problems.append(
                f"{here}: {_KILLED}, and later reports were recorded (it follows {after}, the "
                f"ledger ends at {tail.folder if tail else 'nothing'}); it cannot join the chain"
            )
        else:
            problems.append(
                f"{here}, and the report it follows ({after or 'none'}) is not in the ledger "
                "either: copied here from elsewhere, or the ledger was cut"
            )
    return recordable, problems


def recover_ledger(root: Path, signer: Signer | None = None) -> list[str]:
    """Record in the ledger the report folders that writers killed just after renaming them
    into place left unrecorded (see `unrecorded`); one note per folder recorded.

    Call under `ledger_lock`. With `signer`, only folders signed by its key qualify (and the
    chain stops at the first that is not).
    """
    # The signer's public key, not the key id a folder claims: a planted folder can name any id.
    trusted = signer.public if signer is not None else None
    recordable, _ = unrecorded(root, read_ledger(root), trusted)
    notes = []
    for e in recordable:
        append_ledger(root, e)
        notes.append(f"{e.folder}: recorded in {LEDGER} late ({_KILLED})")
    return notes


def _verify_folder(
    folder: Path,
    trusted: Trusted | None,
    *,
    chain: bool = True,
    records: list[SignedRecord] | None = None,
) -> list[str]:
    mpath = folder / MANIFEST
    if not mpath.is_file():
        return [f"{MANIFEST}: missing"]
    try:
        manifest = read_json(mpath)
        artifacts = manifest["artifacts"]
    except (ValueError, KeyError, TypeError):
        return [f"{MANIFEST}: unreadable or not a driftscan manifest"]
    problems: list[str] = []
    names = set()
    for a in artifacts:
        name = str(a["name"])
        names.add(name)
        p = folder / name
        if "/" in name or name.startswith("."):
            problems.append(f"{name}: not a plain artifact name")
        elif not p.is_file():
            problems.append(f"{name}: missing")
        elif sha256_file(p) != a["sha256"]:
            problems.append(f"{name}: altered (sha256 does not match the manifest)")
    for p in sorted(folder.iterdir()):
        if p.name != MANIFEST and p.name not in names and not p.name.startswith("."):
            problems.append(f"{p.name}: not listed in the manifest (added after signing)")
    sig = manifest.get("signature")
    if sig is None:
        was = next((r for r in records or [] if r.signed), None)
        if was is not None:
            problems.append(
                f"{MANIFEST}: was signed (key id {was.key_id or 'unknown'}) but carries no "
                f"signature now (recorded in {was.where})"
            )
        elif trusted is not None:
            problems.append(f"{MANIFEST}: not signed, but a signature was required")
    elif not isinstance(sig, dict):
        problems.append(f"{MANIFEST}: signature block unreadable")
    else:
        bad = check_block(sig, signed_bytes(manifest), trusted)
        if bad is not None:
            problems.append(f"{MANIFEST}: {bad}")
        for r in records or []:
            if r.signed and r.key_id and key_id_of(sig) != r.key_id:
                problems.append(
                    f"{MANIFEST}: signed by key id {key_id_of(sig)}, but {r.where} records "
                    f"key id {r.key_id}"
                )
    prev = manifest.get("previous")
    if chain and prev:
        ppath = folder.parent / str(prev.get("folder", "")) / MANIFEST
        if ppath.is_file() and sha256_file(ppath) != prev.get("manifest_sha256"):
            problems.append(
                f"{MANIFEST}: previous report's manifest ({prev.get('folder')}) was altered "
                "or replaced"
            )
    return problems
