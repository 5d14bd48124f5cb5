"""`verify` misses nothing the chain can know: deleted seals, deleted newest scans, reports, signatures."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import yaml
from cryptography.hazmat.primitives import serialization
from typer.testing import CliRunner, Result

from driftscan.cli import app
from driftscan.report.manifest import LEDGER, MANIFEST, sha256_file
from driftscan.store import Store
from driftscan.store.findings import write_findings
from tests.conftest import make_resources, make_run, write
from tests.report.conftest import write_key


def cli(*args: str) -> Result:
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def _finding(resource: str, status: str) -> dict[str, object]:
    return {"rule": "r1", "resource": resource, "status": status, "reason": "why",
            "severity": "high", "frameworks": {}, "lifecycle": "new", "waiver": None,
            "evidence": {}, "first_seen_scan": 1}  # fmt: skip


def _check(store: Store, scan_id: int) -> None:
    write_findings(store, scan_id, [_finding("a", "alarm"), _finding("b", "ok")], rules=["r1"],
                   rules_hash="h", evaluated_at=datetime.now(UTC))  # fmt: skip


def _tables(store: Store) -> list[str]:
    return [r[0] for r in store.con.execute(
        "select table_name from information_schema.columns where column_name = 'scan_id' "
        "and table_name in (select table_name from information_schema.tables "
        "where table_type = 'BASE TABLE')"
    ).fetchall()]  # fmt: skip


def _seal_tables(store: Store) -> list[str]:
    """Wherever this store keeps result seals (the table was renamed when seals were chained)."""
    return [t for t in _tables(store) if "seal" in t or t == "result_chain"]


def _delete_findings_and_seals(store: Store, scan_id: int, *, check_run: bool) -> None:
    store.con.execute("delete from finding where scan_id = ?", [scan_id])
    for t in _seal_tables(store):
        store.con.execute(f"delete from {t} where scan_id = ? and kind = 'findings'", [scan_id])
    if check_run:
        store.con.execute("delete from check_run where scan_id = ?", [scan_id])


def _problems(store: Store) -> list[str]:
    return store.verify().problems


def test_deleting_an_older_scans_findings_with_their_seal_breaks_the_chain(store: Store) -> None:
    """Deleting scan 1's findings, check record and seal is named through scan 2's ledger row."""
    write(store, [make_run(make_resources(2))])
    _check(store, 1)
    write(store, [make_run(make_resources(2))])
    _delete_findings_and_seals(store, 1, check_run=True)
    problems = _problems(store)
    assert any(p.startswith("scan 2: the result seals it records") for p in problems), problems


def test_deleting_the_newest_findings_with_their_seal_is_named(store: Store) -> None:
    """A checked scan whose findings seal is gone is named, and so is the seal the heads file
    recorded when the check record goes too."""
    write(store, [make_run(make_resources(2))])
    _check(store, 1)
    _delete_findings_and_seals(store, 1, check_run=False)
    assert "scan 1 was checked but its findings carry no seal (seal deleted?)" in _problems(store)
    store.con.execute("delete from check_run")
    problems = _problems(store)
    assert any(p.startswith("result seal 1 recorded in ") and "missing" in p for p in problems)


def test_deleting_the_newest_unreported_scans_is_named(store_path: Path) -> None:
    """Scans deleted from the newest end, never reported, are named from the heads file."""
    with Store(store_path) as st:
        for _ in range(3):
            write(st, [make_run(make_resources(3))])
        for t in _tables(st):
            st.con.execute(f"delete from {t} where scan_id >= 2")
    res = cli("verify", "--store", str(store_path))
    assert res.exit_code == 1, res.stdout
    assert "scan 3 recorded in " in res.stdout and "(newest scans deleted?)" in res.stdout
    assert "scan 2 recorded in " in res.stdout


def _reported_store(tmp_path: Path, *extra: str) -> tuple[Path, Path]:
    """A store with one scan and one report written through the CLI; (store, report folder)."""
    path = tmp_path / "s.duckdb"
    with Store(path) as st:
        write(st, [make_run(make_resources(3))])
    res = cli("report", "--store", str(path), "--format", "json,csv", "--out",
              str(tmp_path / "out"), *extra)  # fmt: skip
    assert res.exit_code == 0, res.output
    return path, Path(res.stdout.strip().splitlines()[0])


def test_verify_with_only_a_store_checks_its_reports(tmp_path: Path) -> None:
    """`verify --store` without a config still checks every report folder the store recorded."""
    path, folder = _reported_store(tmp_path, "-c", str(tmp_path / "none.yaml"))
    assert cli("verify", "--store", str(path)).exit_code == 0
    (folder / "coverage.csv").write_text("scan\n")
    res = cli("verify", "--store", str(path))
    assert res.exit_code == 1
    assert f"{folder}/coverage.csv: altered" in res.stdout


def _key_pair(private: Path) -> Path:
    """A fresh Ed25519 key at `private` and its public key in PEM beside it; the public path."""
    write_key(private)
    key = serialization.load_pem_private_key(private.read_bytes(), password=None)
    public = private.with_name(private.stem + ".pub.pem")
    public.write_bytes(key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))  # fmt: skip
    return public


def _signed_config(tmp_path: Path) -> tuple[Path, Path]:
    """A config signing reports with a fresh Ed25519 key; (config, public key)."""
    key = tmp_path / "signing.pem"
    public = _key_pair(key)
    cfg = tmp_path / "driftscan.yaml"
    cfg.write_text(yaml.safe_dump({"store": str(tmp_path / "s.duckdb"),
                                   "reports": {"signing_key": str(key)}}))  # fmt: skip
    return cfg, public


def _strip_signature(folder: Path) -> None:
    """Remove the manifest's signature and re-hash the ledger line, as an attacker would."""
    mpath = folder / MANIFEST
    manifest = json.loads(mpath.read_text())
    del manifest["signature"]
    mpath.write_text(json.dumps(manifest))
    ledger = folder.parent / LEDGER
    lines = [json.loads(line) for line in ledger.read_text().splitlines()]
    lines[-1]["manifest_sha256"] = sha256_file(mpath)
    ledger.write_text("".join(json.dumps(d) + "\n" for d in lines))


def test_a_stripped_signature_is_named_without_key(tmp_path: Path) -> None:
    """A manifest that was signed and lost its signature fails verify-report and verify."""
    cfg, _ = _signed_config(tmp_path)
    path, folder = _reported_store(tmp_path, "-c", str(cfg))
    sig = json.loads((folder / MANIFEST).read_text())["signature"]
    assert cli("verify-report", str(folder)).exit_code == 0
    _strip_signature(folder)
    res = cli("verify-report", str(folder))
    assert res.exit_code == 1
    key_id = sig.get("key_id") or sig["public_key_sha256"]
    assert f"was signed (key id {key_id}) but carries no signature now" in res.stdout
    res = cli("verify", "--store", str(path))
    assert res.exit_code == 1
    assert "carries no signature now (recorded in the store)" in res.stdout


def test_verify_key_requires_the_trusted_signer(tmp_path: Path) -> None:
    """`verify --key` passes for reports signed by that key and names those signed by another."""
    cfg, public = _signed_config(tmp_path)
    path, _ = _reported_store(tmp_path, "-c", str(cfg))
    assert cli("verify", "--store", str(path), "--key", str(public)).exit_code == 0
    other = _key_pair(tmp_path / "other.pem")
    res = cli("verify", "--store", str(path), "--key", str(other))
    assert res.exit_code == 1
    assert "manifest.json: signed by a key other than the trusted one" in res.stdout


DEEP = "[" * 100_000 + "]" * 100_000  # past the JSON parser's recursion limit


def test_a_deeply_nested_manifest_is_broken_not_a_crash(tmp_path: Path) -> None:
    """Anyone who can write a reports folder could stop verification with RecursionError
    (exit 70, none of verify's other results printed); it is a BROKEN report, exit 1."""
    path, folder = _reported_store(tmp_path, "-c", str(tmp_path / "none.yaml"))
    (folder / MANIFEST).write_text(DEEP)
    res = cli("verify-report", str(folder))
    assert res.exit_code == 1 and f"{MANIFEST}: unreadable" in res.stdout, res.stdout
    res = cli("verify", "--store", str(path), "--format", "json")
    assert res.exit_code == 1, res.output
    assert any(f"{folder}/{MANIFEST}" in p for p in json.loads(res.stdout)["problems"])


def test_a_ledger_line_that_is_not_an_entry_is_named_everywhere(tmp_path: Path) -> None:
    """A deep, a non-object or an incomplete ledger line: `verify` and `verify-report` name
    its line (BROKEN, exit 1); `report` refuses to write after it (exit 2), never exit 70."""
    path, folder = _reported_store(tmp_path, "-c", str(tmp_path / "none.yaml"))
    ledger = folder.parent / LEDGER
    good = ledger.read_text()
    for bad in (DEEP, "[]", "{}", '{"folder": "x", "scan": "one", "manifest_sha256": "h"}'):
        ledger.write_text(good + bad + "\n")
        res = cli("verify-report", str(folder.parent))
        assert res.exit_code == 1, (bad[:9], res.output)
        assert f"{LEDGER}: unreadable (line 2 is not a ledger entry" in res.stdout
        res = cli("verify", "--store", str(path), "--format", "json")
        assert res.exit_code == 1, (bad[:9], res.output)
        assert any("line 2 is not a ledger entry" in p for p in json.loads(res.stdout)["problems"])
        res = cli("report", "--store", str(path), "--format", "json", "--out", str(folder.parent),
                  "-c", str(tmp_path / "none.yaml"))  # fmt: skip
        assert res.exit_code == 2 and "line 2 is not a ledger entry" in res.output, res.output
