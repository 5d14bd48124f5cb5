"""Named reads of stored results as model objects: runs, slices, drift, findings, the trend.

The report and the commands read the store through these functions (and Store's own readers),
never through SQL of their own. `drift_from_row` and `finding_from_row` are the one mapping
from a stored row to a Drift or a Finding. A scan that was never diffed (checked) reads as
None, never as an empty list: "not evaluated" must not look green (design §1.1).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from driftscan.model import Drift, Finding, Slice
from driftscan.store import drift as sd
from driftscan.store.core import Store

TREND_SCANS = 30
_FINDING_COLUMNS = (
    "rule, resource, status, reason, severity, frameworks, lifecycle, waiver, evidence, "
    "first_seen_scan, days_in_violation"
)


@dataclass(frozen=True, slots=True)
class SourceCoverage:
    """One source's run in a scan: ok, partial or failed, and why."""

    source: str
    provider: str
    status: str
    reason: str | None = None
    resources: int = 0
    duration_s: float = 0.0
    identity: str | None = None


@dataclass(frozen=True, slots=True)
class TrendPoint:
    """One scan of the trend window: alarms (unwaived) and drift counts, None = not evaluated."""

    scan_id: int
    started_at: datetime
    status: str
    alarms: int | None
    drift: int | None
    coverage_pct: float | None = None


@dataclass(frozen=True, slots=True)
class ResourceRef:
    """Where a resource a finding names lives: what the formats that carry resources need."""

    key: str
    provider: str
    type: str
    source: str | None = None
    account: str | None = None
    region: str | None = None
    name: str | None = None


def _json(v: Any, default: Any) -> Any:
    if v is None:
        return default
    if isinstance(v, str):
        try:
            return json.loads(v)
        except ValueError:
            return default
    return v


# -- one row → one model object ------------------------------------------------------------------


def drift_from_row(r: dict[str, Any]) -> Drift:
    """A `drift_result` row (changes as JSON text or a list) as a Drift, its columns as stored
    (type and provider NULL for a declaration by key that matched nothing)."""
    return Drift(
        resource=str(r["resource"]),
        type=r["type"],
        provider=r["provider"],
        kind=r["kind"],
        desired_source=r["desired_source"],
        changes=list(_json(r["changes"], [])),
        source=r["source"],
        account=r["account"],
        region=r["region"],
    )


def finding_from_row(r: dict[str, Any]) -> Finding:
    """A `finding` row (JSON columns as text or decoded) as a Finding."""
    return Finding(
        rule=str(r["rule"]),
        resource=str(r["resource"]),
        status=r["status"],
        reason=str(r.get("reason") or ""),
        severity=r.get("severity") or "info",
        frameworks=dict(_json(r.get("frameworks"), None) or {}),
        lifecycle=r.get("lifecycle"),
        waiver=_json(r.get("waiver"), None),
        evidence=dict(_json(r.get("evidence"), None) or {}),
        first_seen_scan=r.get("first_seen_scan"),
        days_in_violation=r.get("days_in_violation"),
    )


# -- one scan ------------------------------------------------------------------------------------


def source_runs(store: Store, scan_id: int) -> list[SourceCoverage]:
    """Each source's run in scan `scan_id`, by source name."""
    return [
        SourceCoverage(
            r["source"],
            r["provider"],
            r["status"],
            r["reason"],
            int(r["resources"]),
            float(r["duration_s"]),
            r.get("identity"),
        )
        for r in store.source_runs(scan_id)
    ]


def slices(store: Store, scan_id: int) -> list[Slice]:
    """Every slice of scan `scan_id` (read or not), by source and name."""
    return [
        Slice(
            source=r["source"],
            provider=r["provider"],
            name=r["name"],
            status=r["status"],
            reason=r["reason"],
            detail=r["detail"],
            account=r["account"],
            region=r["region"],
            types=list(r["types"] or []),
            keys=list(r["keys"] or []),
            resources=int(r["resources"] or 0),
        )
        for r in store.slices(scan_id)
    ]


def diffed(store: Store, scan_id: int) -> bool:
    """Whether scan `scan_id` was diffed against the declared state."""
    return bool(store.rows("SELECT 1 FROM drift_run WHERE scan_id = ? LIMIT 1", [scan_id]))


def checked(store: Store, scan_id: int) -> bool:
    """Whether the rules were evaluated for scan `scan_id`."""
    return bool(store.rows("SELECT 1 FROM check_run WHERE scan_id = ? LIMIT 1", [scan_id]))


def drift_of_scan(store: Store, scan_id: int) -> list[Drift] | None:
    """Scan `scan_id`'s drift in a stable order; None when it was never diffed."""
    if not diffed(store, scan_id):
        return None
    return [drift_from_row(r) for r in sd.results(store, scan_id)]


def findings_of_scan(store: Store, scan_id: int) -> list[Finding] | None:
    """Scan `scan_id`'s findings by rule and resource; None when it was never checked."""
    if not checked(store, scan_id):
        return None
    rows = store.rows(
        f"SELECT {_FINDING_COLUMNS} FROM findings WHERE scan_id = ? ORDER BY rule, resource",
        [scan_id],
    )
    return [finding_from_row(r) for r in rows]


def finding_resources(store: Store, scan_id: int) -> dict[str, ResourceRef]:
    """The resources of scan `scan_id` that its findings name, by key (a finding's resource
    that is no resource, such as `rule:<id>`, is absent)."""
    rows = store.rows(
        """
        SELECT r.key, r.provider, r.type, r.source, r.account, r.region, r.name
        FROM resources_at(?) r
        WHERE r.key IN (SELECT resource FROM findings WHERE scan_id = ?)
        ORDER BY r.key
        """,
        [scan_id, scan_id],
    )
    return {
        str(r["key"]): ResourceRef(
            str(r["key"]), str(r["provider"]), str(r["type"]), r["source"], r["account"],
            r["region"], r["name"],
        )
        for r in rows
    }  # fmt: skip


def latest_scan(store: Store) -> int | None:
    """The newest scan id, or None for an empty store."""
    return sd.latest_scan(store)


def latest_checked_scan(store: Store) -> int | None:
    """The newest scan whose rules have been evaluated, if any."""
    row = store.rows("SELECT max(scan_id) AS n FROM check_run")
    return None if not row or row[0]["n"] is None else int(row[0]["n"])


def check_rules_hash(store: Store, scan_id: int) -> str | None:
    """The rules hash of the latest rule evaluation of scan `scan_id`, if any."""
    rows = store.rows(
        "SELECT rules_hash FROM check_run WHERE scan_id = ? ORDER BY evaluated_at DESC LIMIT 1",
        [scan_id],
    )
    return str(rows[0]["rules_hash"]) if rows and rows[0]["rules_hash"] else None


# -- across scans --------------------------------------------------------------------------------


def trend(store: Store, scan_id: int, scans: int = TREND_SCANS) -> list[TrendPoint]:
    """The last `scans` scans up to `scan_id`, oldest first: unwaived alarms where checked,
    drifted resources where diffed (None where not), and the share of slices read."""
    cur = store.con.execute(
        """
        WITH s AS (
            SELECT scan_id, started_at, status FROM scan_ledger
            WHERE scan_id <= $n ORDER BY scan_id DESC LIMIT $k
        ),
        checked AS (SELECT DISTINCT scan_id FROM check_run WHERE scan_id IN (SELECT scan_id FROM s)),
        alarms AS (
            SELECT scan_id, count(*) FILTER (WHERE status = 'alarm' AND waiver IS NULL) AS n
            FROM finding WHERE scan_id IN (SELECT scan_id FROM s) GROUP BY scan_id
        ),
        diffed AS (SELECT DISTINCT scan_id FROM drift_run WHERE scan_id IN (SELECT scan_id FROM s)),
        drifted AS (
            SELECT scan_id, count(*) AS n FROM drift_result
            WHERE scan_id IN (SELECT scan_id FROM s) GROUP BY scan_id
        ),
        cover AS (
            SELECT scan_id, round(100.0 * count(*) FILTER (WHERE status = 'ok') / count(*), 1) AS pct
            FROM slice_run WHERE scan_id IN (SELECT scan_id FROM s) GROUP BY scan_id
        )
        SELECT s.scan_id, s.started_at, s.status,
               CASE WHEN checked.scan_id IS NOT NULL THEN coalesce(alarms.n, 0) END,
               CASE WHEN diffed.scan_id IS NOT NULL THEN coalesce(drifted.n, 0) END,
               coalesce(cover.pct, 0.0)
        FROM s
        LEFT JOIN checked USING (scan_id) LEFT JOIN alarms USING (scan_id)
        LEFT JOIN diffed USING (scan_id) LEFT JOIN drifted USING (scan_id)
        LEFT JOIN cover USING (scan_id)
        ORDER BY s.scan_id
        """,
        {"n": scan_id, "k": scans},
    )
    return [
        TrendPoint(
            int(n),
            started,
            str(status),
            None if a is None else int(a),
            None if d is None else int(d),
            float(pct),
        )
        for n, started, status, a, d, pct in cur.fetchall()
    ]


__all__ = [
    "TREND_SCANS",
    "SourceCoverage",
    "TrendPoint",
    "check_rules_hash",
    "checked",
    "diffed",
    "drift_from_row",
    "drift_of_scan",
    "finding_from_row",
    "findings_of_scan",
    "latest_checked_scan",
    "latest_scan",
    "slices",
    "source_runs",
    "trend",
]
