"""The embedded DuckDB store; the only package that imports duckdb."""

from driftscan.store.core import (
    GENESIS,
    HistoryEntry,
    Store,
    VerifyResult,
    chain_link,
    run_lock,
    scan_status,
)
from driftscan.store.schema import VIEW_DOCS, view_docs

__all__ = [
    "GENESIS",
    "VIEW_DOCS",
    "HistoryEntry",
    "Store",
    "VerifyResult",
    "chain_link",
    "run_lock",
    "scan_status",
    "view_docs",
]
