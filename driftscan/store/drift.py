"""Drift tables and views: declarations, set-level comparison in SQL, results per scan.

Tables (one set of rows per diffed scan; a re-diff of a scan replaces its rows):

    desired_decl      set_hash, decl_id, declared_key, label, provider, account, region, type,
                      name, desired_source, presence_only (content-addressed: stored once per set)
    desired_attr      set_hash, decl_id, ptr (JSON pointer), op (eq|min|min_version), value (JSON text)
    desired_verdict   scan_id, decl_id, key, status: only where not "declared key, ok"
    drift_result      scan_id, resource, type, provider, source, account, region,
                      kind (missing|unmanaged|changed), desired_source, changes (JSON list of
                      {path, desired, actual, op})
    drift_coverage    scan_id, provider, source, live, assessed, managed, unmanaged, managed_pct
    drift_run         scan_id, set_hash, diffed_at, declarations, presence_only (JSON), skipped (JSON), files (JSON),
                      failed (JSON: the declared inputs that could not be read)

Views over the latest scan, and table macros for scan N:

    drift / drift_at(N)                  one row per drifted resource (design §3.4 diff shape)
    drift_changes / drift_changes_at(N)  one row per changed path: ... path, desired, actual, op
    desired / desired_at(N)              every declaration, its declared paths (JSON) and verdict
    desired_attrs / desired_attrs_at(N)  one row per declared path: key, path, op, value
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

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pyarrow as pa

from driftscan.store.core import Store, seal_result

DDL = """
-- Declarations are content-addressed: a set of declarations (all inputs of one diff) is
-- stored once under its hash; nightly re-diffs of unchanged inputs add only verdict rows.
CREATE TABLE IF NOT EXISTS desired_decl (
    set_hash VARCHAR NOT NULL,
    decl_id BIGINT NOT NULL,
    declared_key VARCHAR,
    label VARCHAR NOT NULL,
    provider VARCHAR,
    account VARCHAR,
    region VARCHAR,
    type VARCHAR,
    name VARCHAR,
    desired_source VARCHAR NOT NULL,
    presence_only BOOLEAN NOT NULL
);
-- Declared leaves as loaded (JSON pointer, canonical JSON text): stored raw, rendered by views.
CREATE TABLE IF NOT EXISTS desired_attr (
    set_hash VARCHAR NOT NULL,
    decl_id BIGINT NOT NULL,
    ptr VARCHAR NOT NULL,
    op VARCHAR NOT NULL,
    value VARCHAR NOT NULL
);
-- Per scan, only what is not simply "declared key, ok": other verdicts and resolved identities.
CREATE TABLE IF NOT EXISTS desired_verdict (
    scan_id BIGINT NOT NULL,
    decl_id BIGINT NOT NULL,
    key VARCHAR NOT NULL,
    status VARCHAR NOT NULL
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
    set_hash VARCHAR NOT NULL,
    diffed_at TIMESTAMP NOT NULL,
    declarations BIGINT NOT NULL,
    presence_only JSON NOT NULL,
    skipped JSON NOT NULL,
    files JSON NOT NULL
);
-- Declared-state inputs that could not be read in this diff ({file, error}): drift is then
-- not assessed, never clean (a column added within schema 3, so existing files gain it).
ALTER TABLE drift_run ADD COLUMN IF NOT EXISTS failed JSON DEFAULT '[]';

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
    WITH run AS (SELECT set_hash FROM drift_run WHERE scan_id = n),
    d AS (SELECT * FROM desired_decl WHERE set_hash = (SELECT set_hash FROM run)),
    j AS (
        SELECT decl_id, to_json(map_from_entries(list({
            'k': replace(replace(replace(substr(ptr, 2), '/', '.'), '~1', '/'), '~0', '~'),
            'v': CASE WHEN op = 'eq' THEN value::JSON
                      ELSE to_json('>= ' || json_extract_string(value, '$')) END
        } ORDER BY ptr))) AS declared
        FROM desired_attr WHERE set_hash = (SELECT set_hash FROM run) GROUP BY decl_id)
    SELECT n AS scan_id, d.decl_id, coalesce(v.key, d.declared_key) AS key, d.declared_key,
           d.provider, d.account, d.region, d.type, d.name,
           coalesce(j.declared, '{}'::JSON) AS declared, d.desired_source, d.presence_only,
           coalesce(v.status, 'ok') AS status
    FROM d LEFT JOIN (SELECT * FROM desired_verdict WHERE scan_id = n) v ON v.decl_id = d.decl_id
    LEFT JOIN j ON j.decl_id = d.decl_id;
CREATE OR REPLACE MACRO desired_attrs_at(n) AS TABLE
    SELECT n AS scan_id, r.key, r.desired_source,
           replace(replace(replace(substr(a.ptr, 2), '/', '.'), '~1', '/'), '~0', '~') AS path,
           a.op, a.value::JSON AS value
    FROM (SELECT r.*, coalesce(v.key, r.declared_key) AS key
          FROM desired_decl r
          LEFT JOIN (SELECT * FROM desired_verdict WHERE scan_id = n) v ON v.decl_id = r.decl_id
          WHERE r.set_hash = (SELECT set_hash FROM drift_run WHERE scan_id = n)) r
    JOIN desired_attr a ON a.set_hash = r.set_hash AND a.decl_id = r.decl_id;

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
        ("label", pa.string()),  # how a declaration by identity is named; NULL with a key
        ("provider", pa.string()),
        ("account", pa.string()),
        ("region", pa.string()),
        ("type", pa.string()),
        ("name", pa.string()),
        ("desired_source", pa.string()),
        ("presence_only", pa.bool_()),
    ]
)
_TEXTS = pa.dictionary(pa.int32(), pa.string())  # few distinct pointers, ops and values
LEAF_SCHEMA = pa.schema(
    [("decl_id", pa.int64()), ("ptr", _TEXTS), ("op", _TEXTS), ("value", _TEXTS)]
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

# A leaf's live value: facets are columns, tags and attrs are JSON documents.
_LIVE_VALUE = """
    CASE WHEN f.ptr = '/encrypted' THEN to_json(v.encrypted)
         WHEN f.ptr = '/public' THEN to_json(v.public)
         WHEN starts_with(f.ptr, '/tags/') THEN json_extract(v.tags, substr(f.ptr, 6))
         ELSE coalesce(json_extract(o.data, f.ptr), json_extract(v.attrs, f.ptr)) END
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


_KEYS = "slice_has_key(s.keys, k.key)"  # exact keys, or `prefix*` patterns (schema.py)


def digest(*tables: pa.Table) -> str:
    """Content hash of Arrow tables (schema and every buffer): the identity of a declaration set."""
    h = hashlib.sha256()  # hardware-accelerated on current CPUs: faster than blake2b here

    def add(arr: pa.Array) -> None:
        h.update(f"{arr.type}:{len(arr)}:{arr.offset}".encode())
        if isinstance(arr, pa.DictionaryArray):  # buffers() leaves the dictionary out
            add(arr.indices)
            add(arr.dictionary)
            return
        for buf in arr.buffers():
            h.update(b"|" if buf is None else memoryview(buf))

    for t in tables:
        h.update(str(t.schema).encode())
        for col in t.columns:
            h.update(str(col.num_chunks).encode())
            for chunk in col.chunks:
                add(chunk)
    return h.hexdigest()


def latest_scan(store: Store) -> int | None:
    """The newest scan id, or None for an empty store."""
    row = store.con.execute(f"SELECT {_LATEST}").fetchall()[0][0]
    return None if row is None else int(row)


# DuckDB's working memory during a diff (temp tables, joins): it spills to its temp directory
# beyond this rather than grow, so that a diff of 1M declarations (held in Python next to it)
# stays within the 2 GB of design §4.
DIFF_MEMORY_LIMIT = "768MB"


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

    def __init__(
        self,
        store: Store,
        scan_id: int,
        decls: pa.Table,
        leaves: pa.Table,
        *,
        fold_case: Sequence[str] = (),
    ) -> None:
        """`fold_case`: the providers whose resource names compare case-insensitively."""
        self.store = store
        self.fold_case = list(fold_case)
        self.con = con = store.con
        self.n = scan_id
        p = {"n": scan_id}
        # The declarations stay Arrow tables that DuckDB scans in place: no copy.
        self.set_hash = digest(decls, leaves)
        con.register("_decl", decls)
        con.register("_leaf", leaves)
        self._registered = ("_decl", "_leaf")
        self._memory_limit = con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]
        con.execute(f"SET memory_limit = '{DIFF_MEMORY_LIMIT}'")
        try:
            self._compare(p)
        except BaseException:
            self.close()
            raise

    def _compare(self, p: dict[str, int]) -> None:
        con = self.con
        failed = con.execute(
            "SELECT count(*) FROM slice_run WHERE scan_id = $n AND status = 'failed'", p
        ).fetchall()[0][0]
        if failed:
            live = "SELECT key, provider, source, account, region, type, name, doc_hash, assessed FROM resources_at($n)"
        else:
            # Nothing failed in this scan: `assessed` reduces to "its source ran and it parsed"
            # (the same verdict as resources_at's, without a per-row slice lookup).
            live = """
            SELECT s.key, v.provider, v.source, v.account, v.region, v.type, v.name, s.doc_hash,
                   v.error IS NULL AND v.source IN (SELECT source FROM source_run WHERE scan_id = $n)
                       AS assessed
            FROM span s JOIN version v ON v.doc_hash = s.doc_hash
            WHERE s.first_scan <= $n AND (s.last_scan IS NULL OR s.last_scan >= $n)
            """
        con.execute(f"CREATE OR REPLACE TEMP TABLE _live AS {live}", p)
        # One row per declaration and the key it stands for: its own key, or every live
        # resource its identity matches (or its label when nothing does, unresolved).
        con.execute(
            """
            CREATE OR REPLACE TEMP TABLE _st AS
            WITH ident AS (
                SELECT d.decl_id, l.key FROM (SELECT * FROM _decl WHERE key IS NULL) d JOIN _live l
                  ON l.provider = d.provider AND l.type = d.type
                 AND (l.name = d.name
                      OR (list_contains($fold::VARCHAR[], d.provider)
                          AND lower(l.name) = lower(d.name)))
                 AND (d.account IS NULL OR l.account = d.account)
                 AND (d.region IS NULL OR l.region = d.region)
            ),
            dk AS (
                SELECT decl_id, key, true AS resolved, presence_only, true AS by_key
                FROM _decl WHERE key IS NOT NULL
                UNION ALL
                SELECT i.decl_id, i.key, true, d.presence_only, false
                FROM ident i JOIN _decl d ON d.decl_id = i.decl_id
                UNION ALL
                SELECT decl_id, label, false, presence_only, false FROM _decl
                WHERE key IS NULL AND decl_id NOT IN (SELECT decl_id FROM ident)
            )
            SELECT k.decl_id, k.key, k.resolved, l.key IS NOT NULL AS present,
                   coalesce(l.assessed, false) AS assessed, l.doc_hash,
                   false AS missing, k.presence_only, k.by_key
            FROM dk k LEFT JOIN _live l ON k.resolved AND l.key = k.key
            """,
            {"fold": self.fold_case},
        )
        # Only the absent few are checked against the slices of the scan.
        con.execute(
            f"""
            UPDATE _st SET missing = true
            FROM (
                SELECT k.decl_id, k.key FROM (SELECT * FROM _st WHERE NOT present) k
                JOIN _decl d ON d.decl_id = k.decl_id
                WHERE d.provider IS NOT NULL AND d.type IS NOT NULL
                  AND {_COVER.format(status="ok", keys="true")}
                  AND NOT {_COVER.format(status="failed", keys=_KEYS)}
            ) m
            WHERE _st.decl_id = m.decl_id AND _st.key = m.key
            """,
            p,
        )
        # Set-level comparison: every declared leaf against the same projection of the live
        # document, in one join; only resources with a differing leaf (or a bound to check
        # in Python) come back. Exact text comparison rather than a hash of the projection:
        # no collision can hide drift, and filtering is cheaper than hashing every resource.
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE _cand AS
            SELECT DISTINCT s.decl_id, s.key
            FROM _leaf f
            JOIN (SELECT * FROM _st WHERE present AND assessed AND NOT presence_only) s
              ON s.decl_id = f.decl_id
            JOIN version v ON v.doc_hash = s.doc_hash
            LEFT JOIN observation o ON o.scan_id = $n AND o.key = s.key
            WHERE f.op <> 'eq' OR coalesce(({_LIVE_VALUE})::VARCHAR, 'null') <> f.value
            """,
            p,
        )

    def candidates(self) -> list[Candidate]:
        """Resources to compare attribute by attribute, with their live documents."""
        rows = self.con.execute(
            """
            SELECT c.decl_id, c.key, l.type, l.provider, v.tags::VARCHAR,
                   CASE WHEN o.data IS NULL THEN v.attrs
                        ELSE json_merge_patch(v.attrs, o.data) END::VARCHAR,
                   v.encrypted, v.public
            FROM _cand c JOIN _live l ON l.key = c.key JOIN version v ON v.doc_hash = l.doc_hash
            LEFT JOIN observation o ON o.scan_id = $n AND o.key = c.key
            ORDER BY c.decl_id, c.key
            """,
            {"n": self.n},
        ).fetchall()
        return [Candidate(*r) for r in rows]

    def declared_keys(self, provider: str) -> list[str]:
        """The keys this provider's declarations resolved to."""
        rows = self.con.execute(
            "SELECT DISTINCT s.key FROM _st s JOIN _decl d ON d.decl_id = s.decl_id "
            "WHERE s.resolved AND d.provider = $p ORDER BY 1",
            {"p": provider},
        ).fetchall()
        return [str(r[0]) for r in rows]

    def undeclared(self, provider: str) -> list[tuple[str, str, dict[str, Any]]]:
        """(key, type, attrs) of the provider's assessed live resources no declaration names:
        the unmanaged candidates a provider's Provider.untracked hook may set aside."""
        rows = self.con.execute(
            """
            SELECT l.key, l.type, v.attrs::VARCHAR
            FROM _live l JOIN version v ON v.doc_hash = l.doc_hash
            ANTI JOIN (SELECT key FROM _st WHERE resolved) m ON m.key = l.key
            WHERE l.assessed AND l.provider = $p ORDER BY l.key
            """,
            {"p": provider},
        ).fetchall()
        return [(str(k), str(t), json.loads(a) if a else {}) for k, t, a in rows]

    def save(self, verdicts: pa.Table, *, presence_only: str, skipped: str, files: str,
             diffed_at: datetime, untracked: Sequence[str] = (),
             failed: str = "[]") -> None:  # fmt: skip
        """Write this scan's declarations, drift and coverage in one transaction. `untracked`
        live keys are neither managed nor unmanaged (owned by another object, or outside what
        the declarations cover): no drift, and not counted in coverage."""
        con = self.con
        p = {"n": self.n}
        con.register("_verdict_in", verdicts)
        con.register(
            "_untracked_in", pa.table({"key": pa.array(sorted(set(untracked)), pa.string())})
        )
        try:
            con.execute("CREATE OR REPLACE TEMP TABLE _verdict AS SELECT * FROM _verdict_in")
            con.execute("CREATE OR REPLACE TEMP TABLE _untracked AS SELECT * FROM _untracked_in")
        finally:
            con.unregister("_verdict_in")
            con.unregister("_untracked_in")
        with self.store.transaction():
            for table in ("desired_verdict", "drift_result", "drift_coverage", "drift_run"):
                con.execute(f"DELETE FROM {table} WHERE scan_id = $n", p)
            known = con.execute(
                "SELECT count(*) FROM desired_decl WHERE set_hash = $h", {"h": self.set_hash}
            ).fetchall()[0][0]
            if not known:
                con.execute(
                    "INSERT INTO desired_decl SELECT $h, decl_id, key, coalesce(label, key), provider, account, "
                    "region, type, name, desired_source, presence_only FROM _decl",
                    {"h": self.set_hash},
                )
                con.execute(
                    "INSERT INTO desired_attr SELECT $h, decl_id, ptr, op, value FROM _leaf",
                    {"h": self.set_hash},
                )
            con.execute(
                """
                INSERT INTO desired_verdict
                SELECT $n, decl_id, key, status FROM (
                    SELECT s.decl_id, s.key, s.by_key,
                           CASE WHEN vd.status IS NOT NULL THEN vd.status
                                WHEN s.present AND s.assessed THEN 'ok'
                                WHEN s.missing THEN 'missing'
                                ELSE 'not_assessed' END AS status
                    FROM _st s
                    LEFT JOIN _verdict vd ON vd.decl_id = s.decl_id AND vd.key = s.key
                ) WHERE status <> 'ok' OR NOT by_key
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
                FROM _live l ANTI JOIN (SELECT key FROM _st WHERE resolved) m ON m.key = l.key
                ANTI JOIN _untracked u ON u.key = l.key
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
                      LEFT JOIN (SELECT DISTINCT key FROM _st WHERE resolved) m ON m.key = l.key
                      ANTI JOIN _untracked u ON u.key = l.key)
                GROUP BY provider, source
                """,
                p,
            )
            con.execute(
                "INSERT INTO drift_run (scan_id, set_hash, diffed_at, declarations, presence_only, skipped, files, failed) "
                "VALUES ($n, $h, $at, (SELECT count(*) FROM _decl), $po, $sk, $files, $failed)",
                {**p, "h": self.set_hash, "at": diffed_at.replace(tzinfo=None), "po": presence_only,
                 "sk": skipped, "files": files, "failed": failed},
            )  # fmt: skip
            seal_result(con, self.n, "drift")

    def close(self) -> None:
        self.con.execute(f"SET memory_limit = '{self._memory_limit}'")
        for name in self._registered:
            self.con.unregister(name)
        for t in ("_live", "_st", "_cand", "_verdict", "_untracked"):
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
    # desired_at()'s rows and statuses, without rendering every declared document
    rows = store.con.execute(
        """
        SELECT coalesce(v.status, 'ok'), count(*)
        FROM desired_decl d
        LEFT JOIN desired_verdict v ON v.scan_id = $n AND v.decl_id = d.decl_id
        WHERE d.set_hash = (SELECT set_hash FROM drift_run WHERE scan_id = $n)
        GROUP BY 1 ORDER BY 1
        """,
        {"n": scan_id},
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
        -- The versioned documents themselves (attrs without the per-scan measurements that
        -- resources_at merges in): a clock that moved by some milliseconds is no change.
        WITH a AS (SELECT r.* REPLACE (v.attrs AS attrs) FROM resources_at($m) r JOIN version v USING (doc_hash)),
             b AS (SELECT r.* REPLACE (v.attrs AS attrs) FROM resources_at($n) r JOIN version v USING (doc_hash))
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
    "record",
    "results",
    "scan_delta",
]


def record(
    store: Store,
    scan_id: int,
    *,
    drift: Sequence[dict[str, Any]] = (),
    attrs: Sequence[tuple[str, str | tuple[str, ...], str, Any]] = (),
    not_assessed: Sequence[str] = (),
) -> None:
    """Write a diff of `scan_id` without running the engine (tests, importers).

    `drift` rows use the §3.4 shape (resource, type, provider, kind, desired_source, changes)
    plus optional source/account/region; `attrs` are declared leaves (key, path, op, value)
    where a path is a tuple of segments or a dotted string split on '.'; `not_assessed` are
    declared keys whose slice was not read.
    """
    set_hash = f"recorded:{scan_id}"
    keys = sorted(
        {a[0] for a in attrs}
        | {d["resource"] for d in drift if d.get("desired_source")}
        | set(not_assessed)
    )
    ids = {k: i for i, k in enumerate(keys)}
    con = store.con
    with store.transaction():
        for table in ("desired_verdict", "drift_result", "drift_coverage", "drift_run"):
            con.execute(f"DELETE FROM {table} WHERE scan_id = ?", [scan_id])
        con.execute("DELETE FROM desired_decl WHERE set_hash = ?", [set_hash])
        con.execute("DELETE FROM desired_attr WHERE set_hash = ?", [set_hash])
        for k, i in ids.items():
            con.execute(
                "INSERT INTO desired_decl VALUES (?, ?, ?, ?, NULL, NULL, NULL, NULL, NULL, ?, false)",
                [set_hash, i, k, k, "recorded"],
            )
        for k, path, op, value in attrs:
            parts = tuple(path.split(".")) if isinstance(path, str) else path
            ptr = "".join("/" + p.replace("~", "~0").replace("/", "~1") for p in parts)
            con.execute(
                "INSERT INTO desired_attr VALUES (?, ?, ?, ?, ?)",
                [set_hash, ids[k], ptr, op, json.dumps(value, sort_keys=True)],
            )
        for d in drift:
            con.execute(
                "INSERT INTO drift_result VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [scan_id, d["resource"], d.get("type"), d.get("provider"), d.get("source"),
                 d.get("account"), d.get("region"), d["kind"], d.get("desired_source"),
                 json.dumps(d.get("changes", []), sort_keys=True)],
            )  # fmt: skip
            if d["resource"] in ids and d["kind"] in ("changed", "missing"):
                con.execute(
                    "INSERT INTO desired_verdict VALUES (?, ?, ?, ?)",
                    [scan_id, ids[d["resource"]], d["resource"], d["kind"]],
                )
        for k in not_assessed:
            con.execute(
                "INSERT INTO desired_verdict VALUES (?, ?, ?, 'not_assessed')", [scan_id, ids[k], k]
            )
        con.execute(
            "INSERT INTO drift_run (scan_id, set_hash, diffed_at, declarations, presence_only, skipped, files) VALUES (?, ?, now(), ?, '{}', '{}', '[]')",
            [scan_id, set_hash, len(keys)],
        )
        seal_result(con, scan_id, "drift")
