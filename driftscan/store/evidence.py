"""Evidence kept beside the chain: the reports written of each scan and its anchoring attempts."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from driftscan.store.core import Store, seal_result


@dataclass(frozen=True)
class RecordedReport:
    """One report folder written of a scan, as the store recorded it."""

    scan_id: int
    folder: Path
    manifest_sha256: str
    signed: bool
    key_id: str | None


def record_report(
    store: Store,
    scan_id: int,
    folder: Path,
    manifest_sha256: str,
    *,
    signed: bool,
    key_id: str | None = None,
) -> None:
    """Record a written report folder (absolute path) and seal it into the result chain."""
    with store.transaction() as con:
        con.execute(
            "INSERT INTO report_run VALUES (?, ?, ?, ?, ?, ?)",
            [scan_id, str(folder.resolve()), manifest_sha256, signed, key_id,
             datetime.now(UTC).replace(tzinfo=None)],
        )  # fmt: skip
        seal_result(con, scan_id, "reports")


def recorded_reports(store: Store) -> list[RecordedReport]:
    """Every report the store recorded, oldest first."""
    return [
        RecordedReport(int(r[0]), Path(r[1]), str(r[2]), bool(r[3]), r[4])
        for r in store.con.execute(
            "SELECT scan_id, folder, manifest_sha256, signed, key_id FROM report_run "
            "ORDER BY written_at, folder"
        ).fetchall()
    ]


def record_anchor(
    store: Store, scan_id: int, target: dict[str, Any], *, ok: bool, detail: str | None = None
) -> None:
    """Record one attempt to anchor scan `scan_id` at `target` (the anchor's settings)."""
    store.con.execute(
        "INSERT INTO anchor_run VALUES (?, ?, ?, ?, ?)",
        [scan_id, json.dumps(target, sort_keys=True), datetime.now(UTC).replace(tzinfo=None),
         ok, detail],
    )  # fmt: skip


def anchor_targets(store: Store) -> list[dict[str, Any]]:
    """Every distinct anchor target the store has written to, oldest first."""
    rows = store.con.execute(
        "SELECT target FROM anchor_run GROUP BY target ORDER BY min(anchored_at)"
    ).fetchall()
    return [dict(json.loads(r[0])) for r in rows]


def anchor_attempts(store: Store, target: dict[str, Any]) -> dict[int, tuple[bool, str]]:
    """Scan id → (anchored at least once, the latest failure's reason) for `target`."""
    rows = store.con.execute(
        "SELECT scan_id, bool_or(ok), arg_max(coalesce(detail, ''), anchored_at) "
        "FROM anchor_run WHERE target::VARCHAR = ? GROUP BY scan_id",
        [json.dumps(target, sort_keys=True)],
    ).fetchall()
    return {int(r[0]): (bool(r[1]), str(r[2])) for r in rows}
