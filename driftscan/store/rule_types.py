"""Which resource types a scan read, and how many resources of each type every rule judged."""

from __future__ import annotations

from typing import Any

from driftscan.store.core import Store


def scan_types(store: Store, scan_id: int) -> set[tuple[str, str]]:
    """The (provider, lower-case type) pairs of the resources of scan `scan_id`."""
    rows = store.con.execute(
        "SELECT DISTINCT provider, lower(type) FROM resources_at($n)", {"n": scan_id}
    ).fetchall()
    return {(str(p), str(t)) for p, t in rows}


def coverage(store: Store, scan_id: int) -> dict[str, Any]:
    """Scan `scan_id`'s slices (provider, status, reason, types) and the providers of its
    source runs: what the engine needs to tell which rule types were read."""
    slices = [
        {"provider": str(r[0]), "status": str(r[1]), "reason": r[2], "name": str(r[3]),
         "types": [str(t) for t in (r[4] or [])]}
        for r in store.con.execute(
            "SELECT provider, status, reason, name, types FROM slice_run WHERE scan_id = $n "
            "ORDER BY source, name",
            {"n": scan_id},
        ).fetchall()
    ]  # fmt: skip
    runs = store.con.execute(
        "SELECT DISTINCT provider FROM source_run WHERE scan_id = $n", {"n": scan_id}
    ).fetchall()
    return {"slices": slices, "providers": sorted(str(r[0]) for r in runs)}


# What a verdict on a key outside the inventory was about: an account, region, project or
# namespace (`aws-prod/123456789012/eu-west-1`), which no resource type names.
SCOPE_VERDICT = "account or region scope"


def evaluated_types(store: Store, scan_id: int) -> dict[str, dict[str, int]]:
    """Per rule, how many resources of which type it gave a verdict on in scan `scan_id`
    (ok, alarm, not assessed or error; `skip` and pseudo-resources such as `rule:<id>` aside).
    Verdicts on an account or region rather than a resource count as SCOPE_VERDICT."""
    out: dict[str, dict[str, int]] = {}
    for rule, typ, n in store.con.execute(
        """
        SELECT f.rule, coalesce(r.type, $scope), count(DISTINCT f.resource)
        FROM finding f LEFT JOIN resources_at($n) r ON r.key = f.resource
        WHERE f.scan_id = $n AND f.status <> 'skip'
          AND (r.key IS NOT NULL OR NOT regexp_matches(f.resource, '^(rule|types|scope|desired):'))
        GROUP BY ALL ORDER BY 1, 2
        """,
        {"n": scan_id, "scope": SCOPE_VERDICT},
    ).fetchall():
        out.setdefault(str(rule), {})[str(typ)] = int(n)
    return out
