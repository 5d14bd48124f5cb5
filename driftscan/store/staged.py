"""Which staged runs (driftscan.stage) the store has ingested, so the same bundles make one scan."""

from __future__ import annotations

import duckdb

from driftscan.store.core import Store, _one

# Created by the first ingest of staged bundles (a store that never ingests has no such table).
DDL = """
CREATE TABLE IF NOT EXISTS staged_run (
    run_id VARCHAR NOT NULL,
    scan_id BIGINT NOT NULL,
    bundles_digest VARCHAR NOT NULL,
    shards BIGINT NOT NULL
);
"""


def record_ingest(
    con: duckdb.DuckDBPyConnection, run_id: str, scan_id: int, digest: str, shards: int
) -> None:
    """Inside the scan's transaction: run `run_id` became scan `scan_id`."""
    con.execute(DDL)
    con.execute("INSERT INTO staged_run VALUES (?, ?, ?, ?)", [run_id, scan_id, digest, shards])


def ingested(store: Store, run_id: str) -> tuple[int, str] | None:
    """(scan id, bundles digest) of the scan run `run_id` was ingested as, if it was."""
    if not _one(store.con, "SELECT 1 FROM duckdb_tables() WHERE table_name = 'staged_run'"):
        return None
    row = _one(
        store.con,
        "SELECT scan_id, bundles_digest FROM staged_run WHERE run_id = ? ORDER BY scan_id LIMIT 1",
        [run_id],
    )
    return (int(row[0]), str(row[1])) if row else None
