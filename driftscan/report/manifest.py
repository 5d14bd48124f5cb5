"""The signed manifest of a report folder, the reports ledger that chains them, and verification.

Layout of a reports root (reports.dir, or `--out`):

    ledger.jsonl          one line per report, oldest first: {folder, scan, manifest_sha256}
    scan-000041/          one folder per report (scan-000041-2 when scan 41 is reported again)
      manifest.json       sha256 of every artifact, the scan's chain hash, the chain head, the
                          previous report's manifest hash, the summary; optionally signed
      report.html report.pdf report.json findings.csv drift.csv coverage.csv

Each manifest names the previous report's manifest by its sha256, so the reports form a hash
chain of their own, anchored to the store's scan chain. With reports.signing_key (an Ed25519
private key in PEM), `signature` holds the algorithm, the raw public key (base64) and the
signature (base64) over the canonical JSON of the manifest without its `signature` key.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from driftscan.errors import ReportError
from driftscan.model import canonical_json

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


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_ledger(root: Path) -> list[LedgerEntry]:
    """Every report recorded under `root`, oldest first (empty when there is no ledger)."""
    path = root / LEDGER
    if not path.is_file():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        d = json.loads(line)
        out.append(LedgerEntry(str(d["folder"]), int(d["scan"]), str(d["manifest_sha256"])))
    return out


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
            summary = dict(json.loads(mpath.read_text(encoding="utf-8")).get("summary") or {})
        except ValueError:
            summary = {}
    return LedgerEntry(e.folder, e.scan_id, e.manifest_sha256, summary)


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
    line = canonical_json(
        {"folder": entry.folder, "scan": entry.scan_id, "manifest_sha256": entry.manifest_sha256}
    )
    with (root / LEDGER).open("a", encoding="utf-8") as f:
        f.write(line + "\n")


def load_signing_key(path: Path) -> Ed25519PrivateKey:
    """An unencrypted Ed25519 private key from a PEM file."""
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise ReportError(f"{path}: cannot load the signing key: {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ReportError(f"{path}: the signing key must be an Ed25519 private key")
    return key


def _raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def signed_bytes(manifest: dict[str, Any]) -> bytes:
    """What the signature covers: the manifest's canonical JSON without `signature`."""
    return canonical_json({k: v for k, v in manifest.items() if k != "signature"}).encode()


def sign(manifest: dict[str, Any], key: Ed25519PrivateKey) -> dict[str, Any]:
    """The manifest with an Ed25519 `signature` block added."""
    pub = _raw_public(key.public_key())
    return {
        **manifest,
        "signature": {
            "algorithm": "ed25519",
            "public_key": base64.b64encode(pub).decode(),
            "public_key_sha256": hashlib.sha256(pub).hexdigest(),
            "value": base64.b64encode(key.sign(signed_bytes(manifest))).decode(),
        },
    }


def public_key_from(path_or_pem: str | Path) -> bytes:
    """Raw Ed25519 public key bytes from a PEM public or private key file."""
    data = Path(path_or_pem).read_bytes()
    try:
        pub = serialization.load_pem_public_key(data)
    except ValueError:
        priv = serialization.load_pem_private_key(data, password=None)
        pub = priv.public_key()
    if not isinstance(pub, Ed25519PublicKey):
        raise ReportError(f"{path_or_pem}: not an Ed25519 key")
    return _raw_public(pub)


def verify_report_dir(path: str | Path, *, trusted_key: str | Path | None = None) -> list[str]:
    """Check a report folder (or a reports root with its ledger); [] when intact.

    Each problem names what was altered, added, removed or wrongly signed. With `trusted_key`
    (a PEM public or private key), the manifest must be signed by that key.
    """
    root = Path(path)
    trusted = public_key_from(trusted_key) if trusted_key is not None else None
    if (root / LEDGER).is_file() and not (root / MANIFEST).is_file():
        return _verify_root(root, trusted)
    return _verify_folder(root, trusted)


def reported_scans(root: Path) -> list[tuple[str, int, str]]:
    """(folder, scan id, scan chain hash) of every report in the ledger under `root`.

    These anchor the store's chain from outside the store: a scan deleted from the newest
    end of the ledger leaves no broken link in the store, but its report still names it.
    """
    out = []
    for e in read_ledger(root):
        try:
            manifest = json.loads((root / e.folder / "manifest.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # verify_report_dir names missing or broken manifests
        out.append((e.folder, e.scan_id, str(manifest.get("scan_chain_hash", ""))))
    return out


def _verify_root(root: Path, trusted: bytes | None) -> list[str]:
    problems: list[str] = []
    try:
        entries = read_ledger(root)
    except (ValueError, KeyError) as exc:
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
        problems.extend(f"{e.folder}/{p}" for p in _verify_folder(folder, trusted, chain=False))
        try:
            link = (json.loads(mpath.read_text(encoding="utf-8")).get("previous") or {}).get(
                "manifest_sha256"
            )
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
    root: Path, entries: list[LedgerEntry], trusted: bytes | None = None
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
            manifest = json.loads((p / MANIFEST).read_text(encoding="utf-8"))
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
        tail = LedgerEntry(nxt[0], int(manifest["scan"]), digest)
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


def recover_ledger(root: Path, signing_key: Ed25519PrivateKey | None = None) -> list[str]:
    """Record in the ledger the report folders that writers killed just after renaming them
    into place left unrecorded (see `unrecorded`); one note per folder recorded.

    Call under `ledger_lock`. With `signing_key`, only folders signed by that key qualify.
    """
    trusted = _raw_public(signing_key.public_key()) if signing_key is not None else None
    recordable, _ = unrecorded(root, read_ledger(root), trusted)
    for e in recordable:
        append_ledger(root, e)
    return [f"{e.folder}: recorded in {LEDGER} late ({_KILLED})" for e in recordable]


def _verify_folder(folder: Path, trusted: bytes | None, *, chain: bool = True) -> list[str]:
    mpath = folder / MANIFEST
    if not mpath.is_file():
        return [f"{MANIFEST}: missing"]
    try:
        manifest = json.loads(mpath.read_text(encoding="utf-8"))
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
        if trusted is not None:
            problems.append(f"{MANIFEST}: not signed, but a signature was required")
    else:
        try:
            pub = base64.b64decode(sig["public_key"], validate=True)
            value = base64.b64decode(sig["value"], validate=True)
            if sig.get("algorithm") != "ed25519":
                raise ValueError("unsupported algorithm")
            Ed25519PublicKey.from_public_bytes(pub).verify(value, signed_bytes(manifest))
        except (InvalidSignature, ValueError, KeyError, TypeError):
            problems.append(
                f"{MANIFEST}: signature does not match (manifest altered or signed by another key)"
            )
        else:
            if trusted is not None and pub != trusted:
                problems.append(f"{MANIFEST}: signed by a key other than the trusted one")
    prev = manifest.get("previous")
    if chain and prev:
        ppath = folder.parent / str(prev.get("folder", "")) / MANIFEST
        if ppath.is_file() and sha256_file(ppath) != prev.get("manifest_sha256"):
            problems.append(
                f"{MANIFEST}: previous report's manifest ({prev.get('folder')}) was altered "
                "or replaced"
            )
    return problems
