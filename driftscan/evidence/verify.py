"""`driftscan verify`: the store's chains, every report it recorded, and the anchors outside it."""

from __future__ import annotations

import json
from pathlib import Path

from driftscan.config import AnchorConfig, Config
from driftscan.evidence.anchor import Anchor, anchor_from, check_anchor
from driftscan.inputs import read_json
from driftscan.model import sha256_file
from driftscan.report.manifest import (
    LEDGER,
    MANIFEST,
    SignedRecord,
    reported_scans,
    verify_report_dir,
)
from driftscan.report.signing import key_id_of
from driftscan.store import Store, VerifyResult
from driftscan.store.evidence import anchor_targets, recorded_reports


def verify_evidence(
    store: Store, config: Config | None = None, *, trusted_key: Path | None = None
) -> VerifyResult:
    """Everything `verify` checks, problems in this order: the scan ledger and result chain
    (with the heads file), the reports (every folder the store recorded, plus the config's
    reports.dir), then the anchors (the config's, plus every target the store wrote to)."""
    res = store.verify()
    res.problems += check_reports(store, config, trusted_key)
    res.problems += check_anchors(store, config)
    return res


def check_reports(store: Store, config: Config | None, trusted_key: Path | None) -> list[str]:
    """Every report folder the store recorded must be there, unaltered and signed as recorded;
    each reports root's ledger must be whole; every scan a report names must be in the store
    with the seal the report carries."""
    recorded = recorded_reports(store)
    roots: dict[Path, None] = {}
    if config is not None:
        root = config.resolve(config.reports.dir).resolve()
        if (root / LEDGER).is_file():
            roots[root] = None
    for r in recorded:
        roots.setdefault(r.folder.parent, None)
    sealed = {rec.scan_id: rec.chain_hash for rec in store.scans()}
    problems: list[str] = []
    checked: set[Path] = set()
    for root in roots:
        if not (root / LEDGER).is_file():
            n = sum(1 for r in recorded if r.folder.parent == root)
            problems.append(f"{root / LEDGER}: missing (the store records {n} report(s) there)")
            continue
        checked |= {root / f for f, _, _ in reported_scans(root)}
        problems += [f"{root}/{p}" for p in verify_report_dir(root, trusted_key=trusted_key)]
        for folder, scan_id, chain_hash in reported_scans(root):
            if scan_id not in sealed:
                problems.append(
                    f"scan {scan_id} was reported in {root / folder} but is missing from the store"
                )
            elif chain_hash and sealed[scan_id] != chain_hash:
                problems.append(
                    f"scan {scan_id}: its seal differs from the one reported in {root / folder}"
                )
    for r in recorded:
        mpath = r.folder / MANIFEST
        if not mpath.is_file():
            problems.append(
                f"{r.folder}: the report of scan {r.scan_id} recorded in the store is missing"
            )
            continue
        if sha256_file(mpath) != r.manifest_sha256:
            problems.append(
                f"{mpath}: differs from the manifest the store recorded for scan {r.scan_id}"
            )
        store_record = SignedRecord(r.signed, r.key_id, "the store")
        if r.folder not in checked:
            # Its root's ledger is gone or does not list it: check the folder on its own.
            problems += [
                f"{r.folder}/{p}"
                for p in verify_report_dir(r.folder, trusted_key=trusted_key, recorded=store_record)
            ]
            continue
        try:
            sig = read_json(mpath).get("signature")
        except (OSError, ValueError, AttributeError):
            continue  # the root's check named the unreadable manifest
        if r.signed and sig is None:
            problems.append(
                f"{mpath}: was signed (key id {r.key_id or 'unknown'}) but carries no signature "
                "now (recorded in the store)"
            )
        elif r.signed and r.key_id and isinstance(sig, dict) and key_id_of(sig) != r.key_id:
            problems.append(
                f"{mpath}: signed by key id {key_id_of(sig)}, but the store records key id "
                f"{r.key_id}"
            )
    return problems


def check_anchors(store: Store, config: Config | None) -> list[str]:
    """Compare the ledger with the configured anchor and with every anchor the store wrote to."""
    anchors: dict[str, Anchor] = {}
    configured = [config.evidence.anchor] if config and config.evidence.anchor else []
    for cfg in configured:
        a = anchor_from(cfg, config.resolve if config else Path)
        anchors[json.dumps(a.spec, sort_keys=True)] = a
    for spec in anchor_targets(store):
        key = json.dumps(spec, sort_keys=True)
        if key not in anchors:
            anchors[key] = anchor_from(AnchorConfig.model_validate(spec))
    return [p for a in anchors.values() for p in check_anchor(a, store)]
