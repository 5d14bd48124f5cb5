"""Findings in the store: each check's verdicts per scan and rule, and their history."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pyarrow as pa

from driftscan.store.core import Store, seal_result

DDL = """
CREATE TABLE IF NOT EXISTS finding (
    scan_id BIGINT NOT NULL,
    rule VARCHAR NOT NULL,
    resource VARCHAR NOT NULL,
    status VARCHAR NOT NULL,
    reason VARCHAR NOT NULL,
    severity VARCHAR NOT NULL,
    frameworks JSON NOT NULL,
    lifecycle VARCHAR,
    waiver JSON,
    evidence JSON NOT NULL,
    first_seen_scan BIGINT
);
CREATE TABLE IF NOT EXISTS check_run (
    scan_id BIGINT NOT NULL,
    evaluated_at TIMESTAMP NOT NULL,
    rules_hash VARCHAR NOT NULL,
    rules JSON NOT NULL
);
CREATE OR REPLACE VIEW findings AS
    SELECT f.scan_id, f.rule, f.resource, f.status, f.reason, f.severity, f.frameworks,
           f.lifecycle, f.waiver, f.waiver IS NOT NULL AS waived, f.evidence, f.first_seen_scan,
           fs.started_at AS first_seen_at,
           CASE WHEN f.lifecycle IN ('new', 'persisting', 'regressed')
                THEN date_diff('day', fs.started_at, s.started_at) END AS days_in_violation
    FROM finding f
    LEFT JOIN scan_ledger s ON s.scan_id = f.scan_id
    LEFT JOIN scan_ledger fs ON fs.scan_id = f.first_seen_scan;
CREATE OR REPLACE VIEW checks AS
    SELECT scan_id, evaluated_at, rules_hash, rules FROM check_run;
"""

VIEW_DOCS = {
    "findings": "per scan: each rule's verdict on each resource (status ok|alarm|error|skip|"
    "not_assessed, reason, severity, frameworks, waiver, evidence) with its lifecycle "
    "(new|persisting|resolved|regressed), first_seen_scan/_at and days_in_violation",
    "checks": "each rule evaluation of a scan: when, with which rules hash and rule ids",
}


@dataclass
class Prior:
    """What earlier scans said about one (rule, resource)."""

    last_status: str | None  # the latest ok/alarm verdict before this scan
    first_seen_scan: int | None
    ever_alarm: bool


def prior_state(store: Store, scan_id: int) -> dict[tuple[str, str], Prior]:
    """For each (rule, resource) seen before scan `scan_id`: its last ok/alarm verdict."""
    rows = store.con.execute(
        """
        SELECT rule, resource,
               arg_max(status, scan_id) FILTER (WHERE status IN ('ok', 'alarm')),
               arg_max(first_seen_scan, scan_id) FILTER (WHERE status IN ('ok', 'alarm')),
               bool_or(status = 'alarm')
        FROM finding WHERE scan_id < $n GROUP BY rule, resource
        """,
        {"n": scan_id},
    ).fetchall()
    return {(str(r[0]), str(r[1])): Prior(r[2], r[3], bool(r[4])) for r in rows}


_FINDING_SCHEMA = pa.schema(
    [
        ("scan_id", pa.int64()),
        ("rule", pa.string()),
        ("resource", pa.string()),
        ("status", pa.string()),
        ("reason", pa.string()),
        ("severity", pa.string()),
        ("frameworks", pa.string()),
        ("lifecycle", pa.string()),
        ("waiver", pa.string()),
        ("evidence", pa.string()),
        ("first_seen_scan", pa.int64()),
    ]
)


def write_findings(
    store: Store,
    scan_id: int,
    rows: Sequence[dict[str, Any]],
    *,
    rules: Sequence[str],
    rules_hash: str,
    evaluated_at: datetime,
) -> None:
    """Replace scan `scan_id`'s findings of the evaluated rules in one transaction.

    Each row has the finding columns; frameworks, waiver and evidence as Python values.
    """

    def js(v: Any) -> str | None:
        return None if v is None else json.dumps(v, sort_keys=True, default=str)

    cols: dict[str, list[Any]] = {n: [] for n in _FINDING_SCHEMA.names}
    for r in rows:
        for n in _FINDING_SCHEMA.names:
            v = scan_id if n == "scan_id" else r.get(n)
            cols[n].append(js(v) if n in ("frameworks", "waiver", "evidence") else v)
    table = pa.table(cols, schema=_FINDING_SCHEMA)
    with store.transaction() as con:
        con.execute(
            "DELETE FROM finding WHERE scan_id = $n AND list_contains($rules, rule)",
            {"n": scan_id, "rules": list(rules)},
        )
        con.register("_findings", table)
        try:
            con.execute("INSERT INTO finding SELECT * FROM _findings")
        finally:
            con.unregister("_findings")
        con.execute(
            "INSERT INTO check_run VALUES (?, ?, ?, ?)",
            [scan_id, evaluated_at.replace(tzinfo=None), rules_hash, json.dumps(sorted(rules))],
        )
        seal_result(con, scan_id, "findings")
