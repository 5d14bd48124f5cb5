"""Attestations in the store: those read at scan time, kept per scan and sealed into the chain."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pyarrow as pa

from driftscan.store.core import Store, seal_result

DDL = """
CREATE TABLE IF NOT EXISTS attestation (
    scan_id BIGINT NOT NULL,
    framework VARCHAR NOT NULL,
    requirement VARCHAR NOT NULL,
    owner VARCHAR NOT NULL,
    statement VARCHAR NOT NULL,
    evidence VARCHAR NOT NULL,
    sha256 VARCHAR,
    attested_on DATE NOT NULL,
    expires DATE NOT NULL,
    declared_in VARCHAR NOT NULL,
    line BIGINT
);
CREATE OR REPLACE VIEW attestations AS
    SELECT a.*, s.started_at::DATE AS scan_date,
           CASE WHEN s.started_at::DATE < a.attested_on THEN 'not_yet_valid'
                WHEN s.started_at::DATE <= a.expires THEN 'attested'
                ELSE 'expired' END AS state
    FROM attestation a LEFT JOIN scan_ledger s USING (scan_id);
"""

VIEW_DOCS = {
    "attestations": "per scan: each attestation of a manual framework requirement read at scan "
    "time (framework, requirement, owner, statement, evidence, its sha256, date, expires, "
    "declared_in, line) and its state on the scan's date (attested|expired|not_yet_valid)",
}

_COLUMNS = (
    "framework, requirement, owner, statement, evidence, sha256, attested_on, expires, "
    "declared_in, line"
)

_SCHEMA = pa.schema(
    [
        ("scan_id", pa.int64()),
        ("framework", pa.string()),
        ("requirement", pa.string()),
        ("owner", pa.string()),
        ("statement", pa.string()),
        ("evidence", pa.string()),
        ("sha256", pa.string()),
        ("attested_on", pa.date32()),
        ("expires", pa.date32()),
        ("declared_in", pa.string()),
        ("line", pa.int64()),
    ]
)


def write_attestations(store: Store, scan_id: int, rows: Sequence[dict[str, Any]]) -> None:
    """Store scan `scan_id`'s attestations (replacing any) and seal them, in one transaction."""
    cols: dict[str, list[Any]] = {n: [] for n in _SCHEMA.names}
    for r in rows:
        for n in _SCHEMA.names:
            cols[n].append(scan_id if n == "scan_id" else r.get(n))
    table = pa.table(cols, schema=_SCHEMA)
    with store.transaction() as con:
        con.execute("DELETE FROM attestation WHERE scan_id = ?", [scan_id])
        con.register("_attestations", table)
        try:
            con.execute("INSERT INTO attestation SELECT * FROM _attestations")
        finally:
            con.unregister("_attestations")
        seal_result(con, scan_id, "attestations")


def attestations_of_scan(store: Store, scan_id: int) -> list[dict[str, Any]]:
    """Scan `scan_id`'s attestations, by framework, requirement and date."""
    return store.rows(
        f"SELECT {_COLUMNS} FROM attestation WHERE scan_id = ? "
        "ORDER BY framework, requirement, attested_on, declared_in, line",
        [scan_id],
    )
