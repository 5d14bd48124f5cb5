"""Drift tables and views: declarations, set-level comparison in SQL, results per scan.

Tables (one set of rows per diffed scan; a re-diff of a scan replaces its rows):

    desired_resource  scan_id, key, declared_key, provider, account, region, type, name,
                      declared (JSON: dotted path → declared value), declared_hash,
                      desired_source, presence_only, status (ok|changed|missing|not_assessed)
    desired_attr      scan_id, key, desired_source, path, op (eq|min|min_version), value (JSON)
    drift_result      scan_id, resource, type, provider, source, account, region,
                      kind (missing|unmanaged|changed), desired_source, changes (JSON list of
                      {path, desired, actual, op})
    drift_coverage    scan_id, provider, source, live, assessed, managed, unmanaged, managed_pct
    drift_run         scan_id, diffed_at, declarations, presence_only (JSON), skipped (JSON), files (JSON)

Views over the latest scan, and table macros for scan N:

    drift / drift_at(N)                  one row per drifted resource (design §3.4 diff shape)
    drift_changes / drift_changes_at(N)  one row per changed path: ... path, desired, actual, op
    desired / desired_at(N)              every declaration and its verdict (status)
    desired_attrs / desired_attrs_at(N)  one row per declared path, with op and value
    drift_coverage_latest                share of live resources that are managed
    drift_runs                           which scans were diffed, when, from which files

Paths are relative to the comparable document `{**attrs, tags, encrypted, public}`:
`versioning`, `tags.owner`, `encrypted`, `packages.openssl`, `files./etc/app.conf.sha256`.
`op` is `eq` for exact comparison, `min_version` (desired is ">= V", Debian version order)
and `min` (desired is ">= N", e.g. `certs.<path>.days_left`). A resource whose slice was not
read is never `missing`; declared resources that could not be assessed have status
`not_assessed` in `desired`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pyarrow as pa

from driftscan.store.core import Store

DDL = """
CREATE TABLE IF NOT EXISTS desired_resource (
    scan_id BIGINT NOT NULL,
    key VARCHAR NOT NULL,
    declared_key VARCHAR,
    provider VARCHAR,
    account VARCHAR,
    region VARCHAR,
    type VARCHAR,
    name VARCHAR,
    declared JSON NOT NULL,
    declared_hash VARCHAR NOT NULL,
    desired_source VARCHAR NOT NULL,
    presence_only BOOLEAN NOT NULL,
    status VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS desired_attr (
    scan_id BIGINT NOT NULL,
    key VARCHAR NOT NULL,
    desired_source VARCHAR NOT NULL,
    path VARCHAR NOT NULL,
    op VARCHAR NOT NULL,
    value JSON
);
CREATE TABLE IF NOT EXISTS drift_result (
    scan_id BIGINT NOT NULL,
    resource VARCHAR NOT NULL,
    type VARCHAR,
    provider VARCHAR,
    source VARCHAR,
    account VARCHAR,
    region VARCHAR,
    kind VARCHAR NOT NULL,
    desired_source VARCHAR,
    changes JSON NOT NULL
);
CREATE TABLE IF NOT EXISTS drift_coverage (
    scan_id BIGINT NOT NULL,
    provider VARCHAR NOT NULL,
    source VARCHAR NOT NULL,
    live BIGINT NOT NULL,
    assessed BIGINT NOT NULL,
    managed BIGINT NOT NULL,
    unmanaged BIGINT NOT NULL,
    managed_pct DOUBLE
);
CREATE TABLE IF NOT EXISTS drift_run (
    scan_id BIGINT NOT NULL,
    diffed_at TIMESTAMP NOT NULL,
    declarations BIGINT NOT NULL,
    presence_only JSON NOT NULL,
    skipped JSON NOT NULL,
    files JSON NOT NULL
);

CREATE OR REPLACE MACRO drift_at(n) AS TABLE
    SELECT * FROM drift_result WHERE scan_id = n;
CREATE OR REPLACE MACRO drift_changes_at(n) AS TABLE
    SELECT d.scan_id, d.resource, d.type, d.provider, d.source, d.account, d.region, d.kind,
           d.desired_source, c.path, c.desired, c.actual, c.op
    FROM drift_result d,
         unnest(from_json(d.changes,
             '[{"path":"VARCHAR","desired":"JSON","actual":"JSON","op":"VARCHAR"}]')) u(c)
    WHERE d.scan_id = n;
CREATE OR REPLACE MACRO desired_at(n) AS TABLE
    SELECT * FROM desired_resource WHERE scan_id = n;
CREATE OR REPLACE MACRO desired_attrs_at(n) AS TABLE
    SELECT * FROM desired_attr WHERE scan_id = n;

CREATE OR REPLACE VIEW drift AS
    SELECT * FROM drift_at((SELECT max(scan_id) FROM scan_ledger WHERE NOT pruned));
CREATE OR REPLACE VIEW drift_changes AS
    SELECT * FROM drift_changes_at((SELECT max(scan_id) FROM scan_ledger WHERE NOT pruned));
CREATE OR REPLACE VIEW desired AS
    SELECT * FROM desired_at((SELECT max(scan_id) FROM scan_ledger WHERE NOT pruned));
CREATE OR REPLACE VIEW desired_attrs AS
    SELECT * FROM desired_attrs_at((SELECT max(scan_id) FROM scan_ledger WHERE NOT pruned));
CREATE OR REPLACE VIEW drift_coverage_latest AS
    SELECT * FROM drift_coverage
    WHERE scan_id = (SELECT max(scan_id) FROM scan_ledger WHERE NOT pruned);
CREATE OR REPLACE VIEW drift_runs AS SELECT * FROM drift_run;
"""

VIEW_DOCS = {
    "drift": "drift vs declared state at the latest scan (drift_at(N) for scan N): resource, type, "
    "provider, source, account, region, kind (missing|unmanaged|changed), desired_source, changes",
    "drift_changes": "one row per changed path of `drift` (drift_changes_at(N)): resource, kind, "
    "path, desired, actual, op (eq | min_version: desired '>= V' | min: desired '>= N')",
    "desired": "every declaration at the latest scan (desired_at(N)): key, provider, type, declared "
    "(path → value), desired_source, presence_only, status (ok|changed|missing|not_assessed)",
    "desired_attrs": "one row per declared path (desired_attrs_at(N)): key, desired_source, path, "
    "op (eq|min|min_version), value",
    "drift_coverage_latest": "per provider and source: live, assessed, managed, unmanaged, "
    "managed_pct (share of assessed live resources that are declared)",
    "drift_runs": "per diffed scan: when, how many declarations, Terraform types counted as present "
    "only (no mapping) and skipped (no key), the files read",
}

DECL_SCHEMA = pa.schema(
    [
        ("decl_id", pa.int64()),
        ("key", pa.string()),
        ("label", pa.string()),
        ("provider", pa.string()),
        ("account", pa.string()),
        ("region", pa.string()),
        ("type", pa.string()),
        ("name", pa.string()),
        ("desired_source", pa.string()),
        ("presence_only", pa.bool_()),
    ]
)
LEAF_SCHEMA = pa.schema(
    [("decl_id", pa.int64()), ("ptr", pa.string()), ("op", pa.string()), ("value", pa.string())]
)
VERDICT_SCHEMA = pa.schema(
    [
        ("decl_id", pa.int64()),
        ("key", pa.string()),
        ("status", pa.string()),  # changed | ok | not_assessed
        ("changes", pa.string()),
    ]
)

_LATEST = "(SELECT max(scan_id) FROM scan_ledger WHERE NOT pruned)"

# JSON pointer → dotted display path (`/files/~1etc~1a.conf/sha256` → `files./etc/a.conf.sha256`).
_DOTTED = "replace(replace(replace(substr({p}, 2), '/', '.'), '~1', '/'), '~0', '~')"

# A leaf's live value: facets are columns, tags and attrs are JSON documents.
_LIVE_VALUE = """
    CASE WHEN f.ptr = '/encrypted' THEN to_json(v.encrypted)
         WHEN f.ptr = '/public' THEN to_json(v.public)
         WHEN starts_with(f.ptr, '/tags/') THEN json_extract(v.tags, substr(f.ptr, 6))
         ELSE json_extract(v.attrs, f.ptr) END
"""

# Whether some slice of scan $n with the given status covers declaration d's place. Unknown
# parts of a declaration (NULL) match any slice: for failed slices that errs towards "not
# assessed", which is the safe side. A failed slice that names its keys (one host) covers
# only those; an ok slice shows its place was read whichever keys it found there.
_COVER = """
    EXISTS (
        SELECT 1 FROM slice_run s
        WHERE s.scan_id = $n AND s.status = '{status}' AND s.provider = d.provider
          AND (s.account IS NULL OR d.account IS NULL OR s.account = d.account)
          AND (s.region IS NULL OR d.region IS NULL OR s.region = d.region)
          AND (len(s.types) = 0 OR d.type IS NULL OR list_contains(s.types, d.type))
          AND ({keys}))
"""


_KEYS = "len(s.keys) = 0 OR list_contains(s.keys, k.key)"


def latest_scan(store: Store) -> int | None:
    """The newest scan id, or None for an empty store."""
    row = store.con.execute(f"SELECT {_LATEST}").fetchall()[0][0]
    return None if row is None else int(row)


@dataclass
class Candidate:
    """A declared resource whose live projection differs in SQL: deepdiff decides."""

    decl_id: int
    key: str
    type: str
    provider: str
    tags: str
    attrs: str
    encrypted: bool | None
    public: bool | None


class DriftSession:
    """The set-level comparison of one scan against the loaded declarations (temp tables)."""

    def __init__(self, store: Store, scan_id: int, decls: pa.Table, leaves: pa.Table) -> None:
        self.store = store
        self.con = con = store.con
        self.n = scan_id
        p = {"n": scan_id}
        con.register("_decl_in", decls)
        con.register("_leaf_in", leaves)
        try:
            con.execute("CREATE OR REPLACE TEMP TABLE _decl AS SELECT * FROM _decl_in")
            con.execute("CREATE OR REPLACE TEMP TABLE _leaf AS SELECT * FROM _leaf_in")
        finally:
            con.unregister("_decl_in")
            con.unregister("_leaf_in")
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _live AS SELECT key, provider, source, account, region, "
            "type, name, doc_hash, assessed FROM resources_at($n)",
            p,
        )
        # Declarations by identity resolve to every live resource that matches them.
        con.execute(
            """
            CREATE OR REPLACE TEMP TABLE _dk AS
            SELECT decl_id, key, true AS resolved FROM _decl WHERE key IS NOT NULL
            UNION ALL
            SELECT d.decl_id, l.key, true FROM _decl d JOIN _live l
              ON d.key IS NULL AND l.provider = d.provider AND l.type = d.type
             AND (l.name = d.name OR (d.provider = 'azure' AND lower(l.name) = lower(d.name)))
             AND (d.account IS NULL OR l.account = d.account)
             AND (d.region IS NULL OR l.region = d.region)
            """
        )
        con.execute(
            "INSERT INTO _dk SELECT decl_id, label, false FROM _decl "
            "WHERE key IS NULL AND decl_id NOT IN (SELECT decl_id FROM _dk)"
        )
        con.execute(
            """
            CREATE OR REPLACE TEMP TABLE _dh AS
            SELECT decl_id,
                   md5(coalesce(string_agg(ptr || chr(31) || value, chr(30) ORDER BY ptr)
                       FILTER (WHERE op = 'eq'), '')) AS declared_hash,
                   bool_or(op <> 'eq') AS has_checks
            FROM _leaf GROUP BY decl_id
            """
        )
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE _st AS
            SELECT k.decl_id, k.key, k.resolved, l.key IS NOT NULL AS present,
                   coalesce(l.assessed, false) AS assessed, l.doc_hash,
                   CASE WHEN l.key IS NOT NULL THEN false
                        WHEN d.provider IS NULL OR d.type IS NULL THEN false
                        ELSE {_COVER.format(status="ok", keys="true")}
                             AND NOT {_COVER.format(status="failed", keys=_KEYS)} END AS missing
            FROM _dk k JOIN _decl d USING (decl_id)
            LEFT JOIN _live l ON k.resolved AND l.key = k.key
            """,
            p,
        )
        # Set-level comparison: the hash of what was declared against the hash of the same
        # projection of the live document; bounds (min, min_version) are checked in Python.
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE _cand AS
            SELECT lh.decl_id, lh.key FROM (
                SELECT s.decl_id, s.key,
                       md5(coalesce(string_agg(
                           f.ptr || chr(31) || coalesce(({_LIVE_VALUE})::VARCHAR, 'null'),
                           chr(30) ORDER BY f.ptr) FILTER (WHERE f.op = 'eq'), '')) AS live_hash
                FROM _st s JOIN _leaf f ON f.decl_id = s.decl_id
                JOIN version v ON v.doc_hash = s.doc_hash
                WHERE s.present AND s.assessed
                GROUP BY s.decl_id, s.key
            ) lh
            JOIN _dh h ON h.decl_id = lh.decl_id
            JOIN _decl d ON d.decl_id = lh.decl_id
            WHERE NOT d.presence_only AND (h.has_checks OR h.declared_hash <> lh.live_hash)
            """
        )

    def candidates(self) -> list[Candidate]:
        """Resources to compare attribute by attribute, with their live documents."""
        rows = self.con.execute(
            """
            SELECT c.decl_id, c.key, l.type, l.provider, v.tags::VARCHAR, v.attrs::VARCHAR,
                   v.encrypted, v.public
            FROM _cand c JOIN _live l ON l.key = c.key JOIN version v ON v.doc_hash = l.doc_hash
            ORDER BY c.decl_id, c.key
            """
        ).fetchall()
        return [Candidate(*r) for r in rows]

    def save(self, verdicts: pa.Table, *, presence_only: str, skipped: str, files: str,
             diffed_at: datetime) -> None:  # fmt: skip
        """Write this scan's declarations, drift and coverage in one transaction."""
        con = self.con
        p = {"n": self.n}
        con.register("_verdict_in", verdicts)
        try:
            con.execute("CREATE OR REPLACE TEMP TABLE _verdict AS SELECT * FROM _verdict_in")
        finally:
            con.unregister("_verdict_in")
        with self.store.transaction():
            for table in ("desired_resource", "desired_attr", "drift_result", "drift_coverage", "drift_run"):  # fmt: skip
                con.execute(f"DELETE FROM {table} WHERE scan_id = $n", p)
            con.execute(
                f"""
                INSERT INTO desired_resource
                SELECT $n, s.key, d.key, d.provider, d.account, d.region, d.type, d.name,
                       coalesce(j.declared, '{{}}'), coalesce(h.declared_hash, md5('')),
                       d.desired_source, d.presence_only,
                       CASE WHEN vd.status IS NOT NULL THEN vd.status
                            WHEN s.present AND s.assessed THEN 'ok'
                            WHEN s.missing THEN 'missing'
                            ELSE 'not_assessed' END
                FROM _st s JOIN _decl d ON d.decl_id = s.decl_id
                LEFT JOIN _dh h ON h.decl_id = s.decl_id
                LEFT JOIN _verdict vd ON vd.decl_id = s.decl_id AND vd.key = s.key
                LEFT JOIN (
                    SELECT decl_id, to_json(map_from_entries(list({{
                        'k': {_DOTTED.format(p="ptr")},
                        'v': CASE WHEN op = 'eq' THEN value::JSON
                                  ELSE to_json('>= ' || json_extract_string(value, '$')) END
                    }} ORDER BY ptr))) AS declared
                    FROM _leaf GROUP BY decl_id
                ) j ON j.decl_id = s.decl_id
                """,
                p,
            )
            con.execute(
                f"""
                INSERT INTO desired_attr
                SELECT $n, s.key, d.desired_source, {_DOTTED.format(p="f.ptr")}, f.op, f.value::JSON
                FROM _st s JOIN _decl d ON d.decl_id = s.decl_id
                JOIN _leaf f ON f.decl_id = s.decl_id
                """,
                p,
            )
            con.execute(
                """
                INSERT INTO drift_result
                SELECT $n, vd.key, l.type, l.provider, l.source, l.account, l.region, 'changed',
                       d.desired_source, vd.changes
                FROM _verdict vd JOIN _decl d ON d.decl_id = vd.decl_id
                JOIN _live l ON l.key = vd.key
                WHERE vd.status = 'changed'
                UNION ALL
                SELECT $n, s.key, d.type, d.provider, NULL, d.account, d.region, 'missing',
                       d.desired_source, '[]'
                FROM _st s JOIN _decl d ON d.decl_id = s.decl_id WHERE s.missing
                UNION ALL
                SELECT $n, l.key, l.type, l.provider, l.source, l.account, l.region,
                       'unmanaged', NULL, '[]'
                FROM _live l ANTI JOIN (SELECT key FROM _dk WHERE resolved) m ON m.key = l.key
                WHERE l.assessed
                """,
                p,
            )
            con.execute(
                """
                INSERT INTO drift_coverage
                SELECT $n, provider, source, count(*), count(*) FILTER (WHERE assessed),
                       count(*) FILTER (WHERE assessed AND managed),
                       count(*) FILTER (WHERE assessed AND NOT managed),
                       CASE WHEN count(*) FILTER (WHERE assessed) = 0 THEN NULL
                            ELSE round(100.0 * count(*) FILTER (WHERE assessed AND managed)
                                       / count(*) FILTER (WHERE assessed), 1) END
                FROM (SELECT l.*, m.key IS NOT NULL AS managed FROM _live l
                      LEFT JOIN (SELECT DISTINCT key FROM _dk WHERE resolved) m ON m.key = l.key)
                GROUP BY provider, source
                """,
                p,
            )
            con.execute(
                "INSERT INTO drift_run VALUES ($n, $at, (SELECT count(*) FROM _decl), $po, $sk, $files)",
                {**p, "at": diffed_at.replace(tzinfo=None), "po": presence_only, "sk": skipped, "files": files},
            )  # fmt: skip

    def close(self) -> None:
        for t in ("_decl", "_leaf", "_live", "_dk", "_dh", "_st", "_cand", "_verdict"):
            self.con.execute(f"DROP TABLE IF EXISTS {t}")


def results(store: Store, scan_id: int) -> list[dict[str, Any]]:
    """The stored drift of one scan in a stable order."""
    return store.rows(
        "SELECT resource, type, provider, source, account, region, kind, desired_source, "
        "changes::VARCHAR AS changes FROM drift_result WHERE scan_id = ? "
        "ORDER BY resource, kind, desired_source NULLS FIRST, changes::VARCHAR",
        [scan_id],
    )


def coverage(store: Store, scan_id: int) -> list[dict[str, Any]]:
    """Managed share per provider and source for one scan."""
    return store.rows(
        "SELECT provider, source, live, assessed, managed, unmanaged, managed_pct "
        "FROM drift_coverage WHERE scan_id = ? ORDER BY provider, source",
        [scan_id],
    )


def declared_summary(store: Store, scan_id: int) -> dict[str, int]:
    """Declarations of one scan counted by status."""
    rows = store.con.execute(
        "SELECT status, count(*) FROM desired_resource WHERE scan_id = ? GROUP BY 1 ORDER BY 1",
        [scan_id],
    ).fetchall()
    return {str(s): int(c) for s, c in rows}


def scan_delta(store: Store, scan_id: int, against: int) -> list[dict[str, Any]]:
    """Resources that appeared, disappeared or changed from scan `against` to scan `scan_id`.

    Both sides come from resources_at(), which carries a resource of an unread slice forward
    at its last known version: such a resource is present on both sides, so it can never be
    reported as disappeared.
    """
    cur = store.con.execute(
        """
        WITH a AS (SELECT * FROM resources_at($m)), b AS (SELECT * FROM resources_at($n))
        SELECT coalesce(b.key, a.key) AS key,
               coalesce(b.type, a.type) AS type,
               coalesce(b.provider, a.provider) AS provider,
               CASE WHEN a.key IS NULL THEN 'appeared'
                    WHEN b.key IS NULL THEN 'disappeared' ELSE 'changed' END AS kind,
               a.tags::VARCHAR AS old_tags, a.attrs::VARCHAR AS old_attrs,
               a.encrypted AS old_encrypted, a.public AS old_public, a.error AS old_error,
               a.name AS old_name, a.region AS old_region,
               b.tags::VARCHAR AS new_tags, b.attrs::VARCHAR AS new_attrs,
               b.encrypted AS new_encrypted, b.public AS new_public, b.error AS new_error,
               b.name AS new_name, b.region AS new_region
        FROM a FULL OUTER JOIN b ON a.key = b.key
        WHERE a.key IS NULL OR b.key IS NULL OR a.doc_hash <> b.doc_hash
        ORDER BY 1
        """,
        {"n": scan_id, "m": against},
    )
    cols = [d[0] for d in cur.description or []]
    return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]


__all__ = [
    "DDL",
    "DECL_SCHEMA",
    "LEAF_SCHEMA",
    "VERDICT_SCHEMA",
    "VIEW_DOCS",
    "Candidate",
    "DriftSession",
    "coverage",
    "declared_summary",
    "latest_scan",
    "results",
    "scan_delta",
]
