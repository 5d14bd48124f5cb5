"""A schema-1 store (seals without a chain) is upgraded in place on its first writable open."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path

import pytest

from driftscan.errors import StoreError
from driftscan.store import GENESIS, Store, chain_link
from driftscan.store.findings import write_findings
from tests.conftest import make_resources, make_run, write


def _schema_1_store(path: Path) -> None:
    """Write two checked scans, then turn the file into what schema 1 wrote: legacy chain links
    (no results head), a plain result_seal table, no heads file."""
    with Store(path) as st:
        for n in (1, 2):
            write(st, [make_run(make_resources(3))])
            write_findings(st, n, [{"rule": "r1", "resource": "a", "status": "alarm", "reason": "x",
                                    "severity": "high", "frameworks": {}, "lifecycle": "new",
                                    "waiver": None, "evidence": {}, "first_seen_scan": 1}],
                           rules=["r1"], rules_hash="h", evaluated_at=datetime.now(UTC))  # fmt: skip
        prev = GENESIS
        chains = {}
        for rec in reversed(st.scans()):
            legacy = dataclasses.replace(rec, prev_hash=prev, results_head="")
            chains[rec.scan_id] = prev = chain_link(legacy)
            st.con.execute(
                "UPDATE scan_ledger SET prev_hash = ?, chain_hash = ? WHERE scan_id = ?",
                [legacy.prev_hash, prev, rec.scan_id],
            )
        st.con.execute(
            "CREATE TABLE result_seal AS SELECT scan_id, kind, arg_max(content_hash, seq) AS "
            "content_hash, '' AS scan_chain_hash FROM result_chain GROUP BY scan_id, kind"
        )
        for scan_id, chain in chains.items():
            st.con.execute(
                "UPDATE result_seal SET scan_chain_hash = ? WHERE scan_id = ?", [chain, scan_id]
            )
        for t in ("result_chain", "report_run", "anchor_run"):
            st.con.execute(f"DROP TABLE {t}")
        st.con.execute("DROP VIEW reports")
        st.con.execute("ALTER TABLE scan_ledger DROP COLUMN results_head")
        st.con.execute("UPDATE meta SET value = '1' WHERE key = 'schema'")
    path.with_name(path.name + ".heads").unlink()


def test_schema_1_store_upgrades_and_still_verifies(tmp_path: Path) -> None:
    """A reader names the old schema; the first writer upgrades it, and old and new scans and
    their seals verify, chained from then on."""
    path = tmp_path / "old.duckdb"
    _schema_1_store(path)
    with pytest.raises(StoreError, match=r"schema version 1.*run `driftscan scan` once"):
        Store(path, read_only=True)
    with Store(path) as st:
        assert st.verify().ok, st.verify().problems
        assert [r.results_head for r in st.scans()] == ["", ""]
        write(st, [make_run(make_resources(3))])
        res = st.verify()
        assert res.ok, res.problems
        assert st.scan().results_head != GENESIS  # the upgraded seals are in the new row's link
        st.con.execute("DELETE FROM result_chain WHERE scan_id = 1")
        assert not st.verify().ok
    assert path.with_name(path.name + ".heads").is_file()
