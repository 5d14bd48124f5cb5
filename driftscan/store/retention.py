"""Retention: prune scans older than a cut-off and compact the file, keeping the chain verifiable."""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path

import duckdb

from driftscan.store.core import Store, _one, raise_write_failure

# Kept for pruned scans too: the ledger and result chain (so every link still verifies), and
# the records of reports and anchors (the folders and anchors outlive the store's content).
_KEPT = ("'scan_ledger'", "'result_chain'", "'report_run'", "'anchor_run'")


def prune(store: Store, keep_days: int, *, now: datetime) -> list[int]:
    """Drop the content of scans started more than keep_days before `now`; return their ids.

    The newest scan is always kept. Pruned scans keep their ledger rows (marked pruned), so
    every link of the hash chain can still be checked; only what they observed is gone.
    """
    cutoff_time = now.replace(tzinfo=None) - timedelta(days=keep_days)
    row = _one(
        store.con,
        "SELECT max(scan_id) FROM scan_ledger WHERE started_at < ? AND NOT pruned "
        "AND scan_id < (SELECT max(scan_id) FROM scan_ledger)",
        [cutoff_time],
    )
    last_pruned = row[0] if row else None
    if last_pruned is None:
        return []
    ids = [
        r[0]
        for r in store.con.execute(
            "SELECT scan_id FROM scan_ledger WHERE scan_id <= ? AND NOT pruned ORDER BY scan_id",
            [last_pruned],
        ).fetchall()
    ]
    tables = [
        r[0]
        for r in store.con.execute(
            "SELECT table_name FROM information_schema.columns WHERE column_name = 'scan_id' "
            "AND table_schema = 'main' AND table_name NOT IN (" + ", ".join(_KEPT) + ") "
            "AND table_name IN (SELECT table_name FROM information_schema.tables "
            "WHERE table_type = 'BASE TABLE')"
        ).fetchall()
    ]
    with store.transaction() as con:
        for t in tables:
            con.execute(f'DELETE FROM "{t}" WHERE scan_id <= ?', [last_pruned])
        # Intervals that ended inside the pruned range, and versions nothing points at any more.
        con.execute(
            "DELETE FROM span WHERE last_scan IS NOT NULL AND last_scan <= ?", [last_pruned]
        )
        con.execute("DELETE FROM version WHERE doc_hash NOT IN (SELECT doc_hash FROM span)")
        con.execute("UPDATE scan_ledger SET pruned = true WHERE scan_id <= ?", [last_pruned])
        con.execute("DELETE FROM meta WHERE key = 'pruned_through'")
        con.execute("INSERT INTO meta VALUES ('pruned_through', ?)", [str(last_pruned)])
    return ids


def compact(path: Path) -> tuple[int, int]:
    """Rewrite the store into a fresh file (DuckDB does not shrink files on delete).

    The caller must hold the store's lock and have closed its connection. Returns the file
    size before and after.
    """
    before = path.stat().st_size
    tmp = path.with_name(path.name + ".compact")
    tmp.unlink(missing_ok=True)
    con = duckdb.connect()
    try:
        con.execute(f"ATTACH '{_sql_str(path)}' AS old (READ_ONLY)")
        con.execute(f"ATTACH '{_sql_str(tmp)}' AS new")
        con.execute("COPY FROM DATABASE old TO new")
        con.execute("DETACH old")
        con.execute("DETACH new")
    except (duckdb.Error, OSError) as exc:
        # A full disk leaves the store as it was; the half-written copy goes.
        con.close()
        tmp.unlink(missing_ok=True)
        tmp.with_name(tmp.name + ".wal").unlink(missing_ok=True)
        raise_write_failure(path, exc)
        raise
    finally:
        con.close()
    os.replace(tmp, path)
    return before, path.stat().st_size


def _sql_str(p: Path) -> str:
    return str(p).replace("'", "''")


def compact_store(store: Store) -> tuple[int, int]:
    """Compact an open store in place, keeping its lock held throughout."""
    store.con.close()
    try:
        return compact(store.path)
    finally:
        store.con = duckdb.connect(str(store.path))
