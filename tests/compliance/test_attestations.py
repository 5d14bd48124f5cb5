"""Attestations: read from the config and attestations/*.yaml, validated with file:line:key,
evidence hashed at scan time, sealed with the scan so that `verify` sees a changed one."""

from __future__ import annotations

import hashlib
import os
import socket
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from driftscan import pipeline
from driftscan.compliance import attestations as am
from driftscan.compliance.attestations import load_attestations
from driftscan.compliance.rules import RulePack
from driftscan.config import load_config
from driftscan.errors import ConfigError, StoreError
from driftscan.store import Store
from driftscan.store.attestations import attestations_of_scan, write_attestations
from tests.compliance.test_frameworks import make_pack, scan_buckets


def entry(**kw: Any) -> dict[str, Any]:
    base = {"framework": "fw", "requirement": "1.2", "owner": "alice",
            "statement": "The policy is published.", "evidence": "evidence/policy.txt",
            "date": "2026-01-10", "expires": "2027-01-10"}  # fmt: skip
    return {**base, **kw}


def line_of(path: Path, text: str, nth: int) -> int:
    """The 1-based line of the nth line of `path` containing `text`."""
    hits = [i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line]
    return hits[nth - 1]


def write_config(tmp_path: Path, attestations: list[dict[str, Any]] | None = None,
                 **extra: Any) -> Path:  # fmt: skip
    cfg = tmp_path / "driftscan.yaml"
    data: dict[str, Any] = {"store": "s.duckdb", "rules": ["./rules"], **extra}
    if attestations is not None:
        data["attestations"] = attestations
    cfg.write_text(yaml.safe_dump(data, sort_keys=False))
    return cfg


@pytest.fixture
def pack(tmp_path: Path) -> RulePack:
    p = make_pack(tmp_path)
    (tmp_path / "evidence").mkdir()
    (tmp_path / "evidence" / "policy.txt").write_bytes(b"policy v3\n")
    return p


def load(cfg: Path, pack: RulePack) -> list[am.AttestationRecord]:
    return load_attestations(load_config(cfg), pack.frameworks)


def error(cfg: Path, pack: RulePack) -> ConfigError:
    with pytest.raises(ConfigError) as exc:
        load(cfg, pack)
    return exc.value


class TestReading:
    def test_config_entries_with_evidence_hashed(self, tmp_path: Path, pack: RulePack) -> None:
        """A config entry: its local evidence is SHA-256 hashed, relative to the config file."""
        cfg = write_config(tmp_path, [entry()])
        [a] = load(cfg, pack)
        assert a.sha256 == hashlib.sha256(b"policy v3\n").hexdigest()
        assert (a.owner, a.attested_on, a.expires) == (
            "alice",
            date(2026, 1, 10),
            date(2027, 1, 10),
        )
        assert (a.declared_in, a.line) == ("driftscan.yaml", line_of(cfg, "- framework", 1))

    def test_folder_files_resolve_evidence_beside_themselves(
        self, tmp_path: Path, pack: RulePack
    ) -> None:
        """attestations/*.yaml beside the config: each an `attestations:` list, evidence paths
        relative to that file; a URL is kept and not fetched."""
        folder = tmp_path / "attestations"
        folder.mkdir()
        (folder / "scan.pdf").write_bytes(b"%PDF-1.4 quarterly scan")
        (folder / "q1.yaml").write_text(yaml.safe_dump({"attestations": [
            entry(requirement="1.3", evidence="scan.pdf"),
            entry(evidence="https://wiki.example/policy")]}))  # fmt: skip
        got = load(write_config(tmp_path), pack)
        by = {a.requirement: a for a in got}
        assert by["1.3"].sha256 == hashlib.sha256(b"%PDF-1.4 quarterly scan").hexdigest()
        assert by["1.3"].declared_in == "attestations/q1.yaml"
        assert by["1.2"].sha256 is None and by["1.2"].evidence == "https://wiki.example/policy"
        assert pipeline.read_attestations(load_config(write_config(tmp_path)), pack) == got

    def test_nothing_configured(self, tmp_path: Path, pack: RulePack) -> None:
        """No attestations anywhere: None, so a scan stores and seals nothing extra."""
        assert pipeline.read_attestations(load_config(write_config(tmp_path)), pack) is None


class TestErrors:
    def test_unknown_framework_and_requirement(self, tmp_path: Path, pack: RulePack) -> None:
        """An attestation of an unknown framework or requirement names file, line and key."""
        cfg = write_config(tmp_path, [entry(), entry(framework="nope")])
        e = error(cfg, pack)
        assert (e.file, e.line, e.key) == (str(cfg), line_of(cfg, "framework: nope", 1),
                                           "attestations[1].framework")  # fmt: skip
        e = error(write_config(tmp_path, [entry(requirement="7.7")]), pack)
        assert e.key == "attestations[0].requirement" and "7.7" in e.message

    def test_folder_file_errors_name_that_file(self, tmp_path: Path, pack: RulePack) -> None:
        """A bad entry in an attestation file is reported at its line in that file."""
        folder = tmp_path / "attestations"
        folder.mkdir()
        bad = entry()
        del bad["owner"]
        (folder / "a.yaml").write_text(yaml.safe_dump({"attestations": [entry(), bad]}))
        e = error(write_config(tmp_path), pack)
        assert e.file == str(folder / "a.yaml") and e.key == "attestations[1].owner"
        assert e.line is not None and e.line > 1
        (folder / "a.yaml").write_text("attestations: {}\n")
        assert "list" in error(write_config(tmp_path), pack).message

    def test_bad_values(self, tmp_path: Path, pack: RulePack) -> None:
        """A non-https URL and an expiry before the date are refused when the config loads."""
        with pytest.raises(ConfigError, match="https"):
            load_config(write_config(tmp_path, [entry(evidence="http://wiki.example/p")]))
        with pytest.raises(ConfigError, match="expires is before"):
            load_config(write_config(tmp_path, [entry(expires="2025-01-01")]))
        cfg = tmp_path / "driftscan.yaml"
        cfg.write_text(write_config(tmp_path, [entry()]).read_text().replace("'1.2'", "1.2"))
        with pytest.raises(ConfigError, match="quote the requirement id"):
            load_config(cfg)

    def test_evidence_must_be_a_bounded_regular_file(
        self, tmp_path: Path, pack: RulePack, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Missing, a folder, a FIFO (never blocks) or too large: an error on the evidence key."""
        e = error(write_config(tmp_path, [entry(evidence="evidence/gone.pdf")]), pack)
        assert e.key == "attestations[0].evidence" and "does not exist" in e.message
        e = error(write_config(tmp_path, [entry(evidence="evidence")]), pack)
        assert e.key == "attestations[0].evidence"
        os.mkfifo(tmp_path / "evidence" / "pipe")
        e = error(write_config(tmp_path, [entry(evidence="evidence/pipe")]), pack)
        assert "not a regular file" in e.message
        monkeypatch.setattr(am, "MAX_EVIDENCE_BYTES", 4)
        e = error(write_config(tmp_path, [entry()]), pack)
        assert "10 bytes, more than the 4 bytes driftscan reads" in e.message

    def test_evidence_of_one_scan_is_bounded_in_total(
        self, tmp_path: Path, pack: RulePack, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """One file named twice is hashed once; distinct files past the total bound are refused."""
        (tmp_path / "evidence" / "other.txt").write_bytes(b"other evidence\n")
        monkeypatch.setattr(am, "MAX_TOTAL_EVIDENCE_BYTES", 12)
        got = load(write_config(tmp_path, [entry(), entry(requirement="1.3")]), pack)
        assert got[0].sha256 == got[1].sha256
        e = error(write_config(tmp_path, [entry(), entry(requirement="1.3",
                                                         evidence="evidence/other.txt")]), pack)  # fmt: skip
        assert e.key == "attestations[1].evidence" and "past 12 bytes" in e.message

    def test_same_requirement_attested_twice_on_one_day(
        self, tmp_path: Path, pack: RulePack
    ) -> None:
        """Two attestations of one requirement with the same date: which stands is ambiguous."""
        e = error(write_config(tmp_path, [entry(), entry(owner="bob")]), pack)
        assert e.key == "attestations[1].requirement" and "twice" in e.message


class TestSealed:
    def test_verify_detects_a_changed_or_deleted_attestation(
        self, tmp_path: Path, pack: RulePack
    ) -> None:
        """Attestations are sealed into the result chain: verify passes, then names a statement
        rewritten in the store and rows deleted from it."""
        [a] = load(write_config(tmp_path, [entry()]), pack)
        with Store(tmp_path / "s.duckdb") as st:
            n = scan_buckets(st, public=False)
            write_attestations(st, n, [a.row()])
            assert st.verify().ok, st.verify().problems
            assert attestations_of_scan(st, n)[0]["sha256"] == a.sha256
            st.con.execute("UPDATE attestation SET statement = 'nothing to see'")
            assert any("attestations altered" in p for p in st.verify().problems)
            st.con.execute("DELETE FROM attestation")
            assert not st.verify().ok

    def test_scan_reads_them_and_show_reports_the_scans_state(
        self, tmp_path: Path, pack: RulePack
    ) -> None:
        """`scan` reads and seals the attestations; changing the evidence file afterwards does
        not change what the scan recorded, and the next scan records the new hash."""
        with socket.socket() as s:  # a port with nothing listening: the host is unreachable
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        (tmp_path / "known_hosts").write_text("")
        src = {"name": "dc1", "type": "ssh", "user": "u", "known_hosts": "known_hosts",
               "timeout_s": 2, "hosts": [{"name": "h1", "address": "127.0.0.1", "port": port}]}  # fmt: skip
        cfg = load_config(write_config(tmp_path, [entry()], sources=[src]))
        with Store(cfg.store_path) as st:
            first = pipeline.scan(cfg, st).record.scan_id
            (tmp_path / "evidence" / "policy.txt").write_bytes(b"policy v4\n")
            second = pipeline.scan(cfg, st).record.scan_id
            h1 = attestations_of_scan(st, first)[0]["sha256"]
            h2 = attestations_of_scan(st, second)[0]["sha256"]
            assert st.verify().ok
        assert h1 == hashlib.sha256(b"policy v3\n").hexdigest()
        assert h2 == hashlib.sha256(b"policy v4\n").hexdigest()

    def test_schema_2_store_upgrades(self, tmp_path: Path) -> None:
        """A schema-2 store (no attestation table): a reader says to scan once; a writer
        upgrades it and it still verifies."""
        path = tmp_path / "old.duckdb"
        with Store(path) as st:
            scan_buckets(st, public=False)
            st.con.execute("DROP VIEW attestations")
            st.con.execute("DROP TABLE attestation")
            st.con.execute("UPDATE meta SET value = '2' WHERE key = 'schema'")
        with pytest.raises(StoreError, match=r"schema version 2.*run `driftscan scan` once"):
            Store(path, read_only=True)
        with Store(path) as st:
            assert st.verify().ok
            assert attestations_of_scan(st, 1) == []
        with Store(path, read_only=True) as st:
            assert st.rows("SELECT value FROM meta WHERE key = 'schema'") == [{"value": "3"}]
