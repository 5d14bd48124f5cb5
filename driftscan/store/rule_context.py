"""The context rules run in: per-scan TEMP views, params, scopes and waivers, and the sandbox."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

import duckdb

from driftscan.errors import RuleQueryError
from driftscan.store.core import Store
from driftscan.store.memcap import address_space_cap

# The per-scan names rules read. Created as TEMP objects on the evaluating connection, they
# shadow the store-wide views of the same name, so rule SQL never names a scan id.
CONTEXT_DOCS = {
    "resources": "the estate at the scan being evaluated (resources_at(N)), with `assessed`",
    "slices": "this scan's slices (status ok|failed, reason, detail, account, region, types, keys)",
    "source_runs": "this scan's per-source runs",
    "drift": "this scan's drift rows: resource, type, provider, source, account, region, kind "
    "(missing|unmanaged|changed), desired_source, changes (JSON list of {path, desired, actual, op})",
    "drift_changes": "this scan's drift, one row per changed path",
    "desired": "this scan's declarations and their verdicts (status ok|changed|missing|not_assessed)",
    "desired_attrs": "this scan's declared paths: key, desired_source, path (dotted, e.g. "
    "packages.openssl, files./etc/app.conf.sha256), op (eq|min|min_version), value JSON",
    "scan": "one row: scan_id, status, started_at, scan_date",
    "params": "key, value JSON: rule parameter defaults overlaid with config.params; "
    "param('name') returns one value as JSON, param_text('name') as text",
    "scope_members": "scope, key: the resources of each configured scope; in_scope('pci', key)",
    "waivers": "rule, resource, owner, reason, ticket, expires, expired (expires < scan_date)",
    "unassessed": "key, reason: resources of this scan that could not be assessed, and why",
    "version_cmp(a, b)": "-1, 0 or 1 comparing package versions the way dpkg does",
    "json_pointer(k)": "one JSON-pointer step for a key that may hold '/' or '.', e.g. a file path",
}

FROM_DIFF = ("drift", "drift_changes", "desired", "desired_attrs")

_PER_SCAN = ("slices", "source_runs", *FROM_DIFF)


# Resource columns a provider's scope dimension may match (spliced into SQL: a fixed list).
SCOPE_COLUMNS = ("key", "source", "account", "region", "type", "name")


@dataclass(frozen=True)
class ScopeMatch:
    """One provider dimension of a scope (its accounts, say): that provider's resources whose
    `columns` hold one of `values`, compared lower-case when `fold_case`."""

    provider: str
    columns: tuple[str, ...]
    values: list[str]
    fold_case: bool = False
    # Dotted attribute paths (`metadata.namespace`) whose text is matched like the columns.
    attrs: tuple[str, ...] = ()


@dataclass(frozen=True)
class ScopeDef:
    """A configured scope, as plain data for the store."""

    name: str
    tags: dict[str, str]
    regions: list[str]
    types: list[str]
    where: list[ScopeMatch] = field(default_factory=list)


@dataclass(frozen=True)
class WaiverRow:
    """A configured waiver, as plain data for the store."""

    rule: str
    resource: str
    owner: str
    reason: str
    ticket: str
    expires: Any


def _error(exc: duckdb.Error, offset: int = 0) -> RuleQueryError:
    text = str(exc).strip()
    m = re.search(r"^LINE (\d+):", text, re.MULTILINE)
    line = int(m.group(1)) - offset if m else None
    first = text.split("\n\nLINE ")[0].replace("\n", " ")
    return RuleQueryError(first, line if line and line > 0 else None)


def _objects(con: duckdb.DuckDBPyConnection, where: str) -> set[str]:
    """Tables and views of the store (`main`) or of this connection's TEMP catalog (`temp`)."""
    db = "temp" if where == "temp" else con.execute("SELECT current_database()").fetchall()[0][0]
    rows = con.execute(
        "SELECT view_name FROM duckdb_views() WHERE database_name = $d AND schema_name = 'main' "
        "AND NOT internal UNION SELECT table_name FROM duckdb_tables() WHERE database_name = $d "
        "AND schema_name = 'main'",
        {"d": db},
    ).fetchall()
    return {str(r[0]) for r in rows}


def _has_table_macro(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    """Whether the store defines table macro `name` (a fixed name of ours). Asked by using it:
    listing duckdb_functions() builds a row for each of DuckDB's thousands of functions."""
    try:
        con.execute(f"SELECT * FROM main.{name}(0) LIMIT 0")
    except duckdb.CatalogException:
        return False
    return True


def prepare_context(
    store: Store,
    scan_id: int,
    *,
    params: dict[str, Any],
    scopes: Sequence[ScopeDef],
    waivers: Sequence[WaiverRow],
    require_diff: bool = False,
) -> list[str]:
    """Create the TEMP objects rules read for scan `scan_id`; returns the per-scan views missing
    (the drift views when `require_diff` and the scan has not been diffed)."""
    con = store.con
    main = _objects(con, "main")
    con.execute(
        "CREATE OR REPLACE TEMP TABLE scan AS SELECT scan_id, status, started_at, "
        "started_at::DATE AS scan_date FROM main.scan_ledger WHERE scan_id = $n",
        {"n": scan_id},
    )
    # Materialised once: every rule reads it, and `assessed` costs a coverage lookup per row.
    con.execute(
        "CREATE OR REPLACE TEMP TABLE resources AS SELECT * FROM resources_at($n)", {"n": scan_id}
    )
    macros = {f"{name}_at" for name in _PER_SCAN if _has_table_macro(con, f"{name}_at")}
    # Drift rows exist only for scans that were diffed: without them, a drift rule would read
    # an empty table and pass. When declared state is configured but this scan was not diffed,
    # the drift views stay missing and the rules that read them report an error.
    diffed = "drift_run" in main and bool(
        con.execute(
            "SELECT count(*) FROM main.drift_run WHERE scan_id = $n", {"n": scan_id}
        ).fetchall()[0][0]
    )
    missing = []
    for name in _PER_SCAN:
        _drop_temp(con, name)
        if name in FROM_DIFF and require_diff and not diffed:
            missing.append(name)
            if f"{name}_at" in macros or name in main:
                # Shadow the store-wide view (the latest scan's rows) with one that fails when
                # read: a rule must not judge scan N by another scan's drift.
                n = int(scan_id)
                con.execute(
                    f"CREATE TEMP VIEW {name} AS "
                    f"SELECT error('scan {n} has not been diffed') AS scan_not_diffed"
                )
        elif f"{name}_at" in macros:
            con.execute(
                f"CREATE TEMP TABLE {name} AS SELECT * FROM main.{name}_at($n)", {"n": scan_id}
            )
        elif name in main:
            cols = {
                str(r[0]) for r in con.execute(f"DESCRIBE SELECT * FROM main.{name}").fetchall()
            }
            where = " WHERE scan_id = $n" if "scan_id" in cols else ""
            con.execute(
                f"CREATE TEMP TABLE {name} AS SELECT * FROM main.{name}{where}",
                {"n": scan_id} if where else {},
            )
        else:
            missing.append(name)
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE unassessed AS
        SELECT r.key,
               CASE WHEN r.error IS NOT NULL THEN 'parse error: ' || r.error
                    ELSE coalesce((
                        SELECT first(sl.reason || coalesce(': ' || sl.detail, '') ORDER BY sl.name)
                        FROM main.slice_run sl
                        WHERE sl.scan_id = $n AND sl.status = 'failed' AND sl.source = r.source
                          AND (sl.account IS NULL OR sl.account = r.account)
                          AND (sl.region IS NULL OR sl.region = r.region)
                          AND (len(sl.types) = 0 OR list_contains(sl.types, r.type))
                          AND main.slice_has_key(sl.keys, r.key)),
                        'source ' || r.source || ' was not read in this scan')
               END AS reason
        FROM resources r WHERE NOT r.assessed
        """,
        {"n": scan_id},
    )
    con.execute("CREATE OR REPLACE TEMP TABLE params (key VARCHAR, value JSON)")
    for k, v in sorted(params.items()):
        con.execute("INSERT INTO params VALUES (?, ?)", [k, json.dumps(v, default=str)])
    _scopes(con, scopes)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE waivers (rule VARCHAR, resource VARCHAR, owner VARCHAR, "
        "reason VARCHAR, ticket VARCHAR, expires DATE, expired BOOLEAN)"
    )
    for w in waivers:
        con.execute(
            "INSERT INTO waivers SELECT ?, ?, ?, ?, ?, ?::DATE, ?::DATE < (SELECT scan_date FROM scan)",
            [w.rule, w.resource, w.owner, w.reason, w.ticket, str(w.expires), str(w.expires)],
        )
    return missing


# Macros rules call, created in the rule sandbox over its copies of the context tables.
_CONTEXT_MACROS = """
CREATE OR REPLACE MACRO param(k) AS (SELECT value FROM params WHERE key = k);
CREATE OR REPLACE MACRO param_text(k) AS (json_extract_string(param(k), '$'));
CREATE OR REPLACE MACRO in_scope(s, k) AS
    (EXISTS (SELECT 1 FROM scope_members m WHERE m.scope = s AND m.key = k));
"""


# dpkg-like ordering without a Python UDF: a version becomes a list of (kind, number, text)
# tokens compared element-wise; '~' sorts before the end marker, which sorts before anything
# else, so 1.0~rc1 < 1.0 < 1.0.1 < 1.0-2 and 2.9 < 2.10. A missing epoch counts as 0.
_VERSION_MACROS = r"""
CREATE OR REPLACE MACRO version_key(v) AS (
    list_transform(
        regexp_extract_all(CASE WHEN contains(v, ':') THEN v ELSE '0:' || v END,
                           '\d+|[A-Za-z]+|~|[^A-Za-z0-9~]'),
        lambda x: {'k': CASE WHEN x = '~' THEN -1
                             WHEN regexp_full_match(x, '\d+') THEN 1
                             WHEN regexp_full_match(x, '[A-Za-z]+') THEN 2 ELSE 3 END,
                   'n': coalesce(try_cast(x AS DECIMAL(38, 0)), 0),
                   't': CASE WHEN regexp_full_match(x, '\d+') THEN '' ELSE x END})
    || [{'k': 0, 'n': 0::DECIMAL(38, 0), 't': ''}]
);
CREATE OR REPLACE MACRO json_pointer(k) AS ('/' || replace(replace(k, '~', '~0'), '/', '~1'));
CREATE OR REPLACE MACRO version_cmp(a, b) AS (
    CASE WHEN a IS NULL OR b IS NULL THEN NULL
         WHEN version_key(a) < version_key(b) THEN -1
         WHEN version_key(a) > version_key(b) THEN 1 ELSE 0 END
);
"""

_TEMP_TABLES = ("scan", "resources", *_PER_SCAN, "unassessed", "params", "scope_defs",
                "scope_tags", "scope_where", "scope_members", "waivers")  # fmt: skip


def drop_context(store: Store) -> None:
    """Remove the per-scan TEMP objects, so the connection sees the store-wide views again."""
    present = _objects(store.con, "temp")
    for name in _TEMP_TABLES:
        if name in present:
            _drop_temp(store.con, name)


def _drop_temp(con: duckdb.DuckDBPyConnection, name: str) -> None:
    views = con.execute(
        "SELECT count(*) FROM duckdb_views() WHERE database_name = 'temp' AND view_name = ?", [name]
    ).fetchall()[0][0]
    con.execute(f"DROP {'VIEW' if views else 'TABLE'} IF EXISTS temp.{name}")


def _scopes(con: duckdb.DuckDBPyConnection, scopes: Sequence[ScopeDef]) -> None:
    con.execute(
        "CREATE OR REPLACE TEMP TABLE scope_defs (scope VARCHAR, regions VARCHAR[], "
        "types VARCHAR[], located BOOLEAN)"
    )
    con.execute("CREATE OR REPLACE TEMP TABLE scope_tags (scope VARCHAR, k VARCHAR, v VARCHAR)")
    con.execute(
        "CREATE OR REPLACE TEMP TABLE scope_where (scope VARCHAR, provider VARCHAR, col VARCHAR, "
        "fold BOOLEAN, value VARCHAR)"
    )
    for s in scopes:
        located = any(m.values for m in s.where)
        con.execute(
            "INSERT INTO scope_defs VALUES (?, ?, ?, ?)",
            [s.name, [x.lower() for x in s.regions], [x.lower() for x in s.types], located],
        )
        for k, v in sorted(s.tags.items()):
            con.execute("INSERT INTO scope_tags VALUES (?, ?, ?)", [s.name, k, v])
        for m in s.where:
            for col in m.columns:
                if col not in SCOPE_COLUMNS:
                    raise ValueError(f"scope dimension column '{col}' is not a resource column")
            # An attribute path is stored as the JSON path DuckDB reads (`$.metadata.namespace`).
            for col in (*m.columns, *("$." + a for a in m.attrs)):
                for x in m.values:
                    value = x.lower() if m.fold_case else x
                    con.execute(
                        "INSERT INTO scope_where VALUES (?, ?, ?, ?, ?)",
                        [s.name, m.provider, col, m.fold_case, value],
                    )
    column = " ".join(f"WHEN '{c}' THEN r.{c}" for c in SCOPE_COLUMNS)
    value = (
        "CASE WHEN starts_with(w.col, '$.') THEN json_extract_string(r.attrs, w.col) "
        f"ELSE CASE w.col {column} END END"
    )
    # Within a scope every given criterion must hold; the providers' dimensions (accounts,
    # subscriptions, hosts ...) together say where (a resource matches any of them, on its
    # own provider's), tags must all match.
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE scope_members AS
        SELECT d.scope, r.key
        FROM resources r, scope_defs d
        WHERE (len(d.regions) = 0 OR list_contains(d.regions, lower(r.region)))
          AND (len(d.types) = 0 OR list_contains(d.types, lower(r.type)))
          AND (NOT d.located OR EXISTS (
              SELECT 1 FROM scope_where w
              WHERE w.scope = d.scope AND w.provider = r.provider
                AND w.value = CASE WHEN w.fold THEN lower({value}) ELSE {value} END))
          AND NOT EXISTS (
              SELECT 1 FROM scope_tags t
              WHERE t.scope = d.scope
                AND json_extract_string(r.tags, '$."' || t.k || '"') IS DISTINCT FROM t.v)
        """
    )


def check_select(sql: str) -> None:
    """Refuse anything but exactly one SELECT statement, parsed by DuckDB's own parser.

    Checked when a rule loads and again before it runs: a rule file is untrusted input, and a
    query that closes a wrapper and appends statements must never reach a connection.
    """
    try:
        stmts = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise _error(exc) from None
    if len(stmts) != 1:
        raise RuleQueryError(f"a rule query is one SELECT statement, found {len(stmts)}")
    if stmts[0].type != duckdb.StatementType.SELECT:
        raise RuleQueryError(f"a rule query is a SELECT, not {stmts[0].type.name}")


class RuleSandbox:
    """A private in-memory DuckDB holding copies of the prepared per-scan context.

    Rule SQL runs here, never on the store's connection: this database has nothing to write
    back to, cannot read or write files (external access is off and the configuration is
    locked), has a memory ceiling with no spilling to disk, and each query a time limit.
    """

    def __init__(self, store: Store, *, timeout_s: float = 60.0, memory_mb: int = 1024) -> None:
        self.timeout_s = timeout_s
        self.memory_mb = memory_mb
        self.con = duckdb.connect(
            ":memory:",
            config={"memory_limit": f"{int(memory_mb)}MB", "temp_directory": ""},
        )
        try:
            self._copy_context(store.con)
            self.con.execute(_CONTEXT_MACROS)
            self.con.execute(_VERSION_MACROS)
            self.con.execute("SET enable_external_access = false")
            self.con.execute("SET lock_configuration = true")
        except BaseException:
            self.con.close()
            raise

    def _copy_context(self, src: duckdb.DuckDBPyConnection) -> None:
        # The catalog is read once for every object: a query per table costs more than the
        # copying itself on a small scan.
        views = dict(
            src.execute(
                "SELECT view_name, sql FROM duckdb_views() WHERE database_name = 'temp'"
            ).fetchall()
        )
        columns: dict[str, list[str]] = {}
        for table, column, type_ in src.execute(
            "SELECT table_name, column_name, data_type FROM duckdb_columns() "
            "WHERE database_name = 'temp' ORDER BY table_name, column_index"
        ).fetchall():
            columns.setdefault(str(table), []).append(f'"{column}" {type_}')
        ddl = []
        for name in _TEMP_TABLES:
            if name in views:
                # The "not diffed" guard: a view that fails when read. It names no store table.
                ddl.append(str(views[name]).replace("TEMP VIEW", "VIEW", 1))
            elif name in columns:
                ddl.append(f"CREATE TABLE {name} ({', '.join(columns[name])})")
        if ddl:
            self.con.execute(";\n".join(ddl))
        for name in _TEMP_TABLES:
            if name in columns and name not in views:
                data = src.sql(f"SELECT * FROM temp.{name}").to_arrow_table()
                self.con.register("_ctx", data)
                try:
                    self.con.execute(f"INSERT INTO {name} SELECT * FROM _ctx")
                finally:
                    self.con.unregister("_ctx")

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> RuleSandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _bounded(self, run: Any) -> Any:
        timer = threading.Timer(self.timeout_s, self.con.interrupt)
        timer.daemon = True
        started = time.monotonic()
        timer.start()
        try:
            with address_space_cap(self.memory_mb):
                out = run()
        except duckdb.InterruptException:
            raise RuleQueryError(
                f"rule exceeded its time limit of {self.timeout_s:g} s (rules_timeout_s)"
            ) from None
        except (duckdb.OutOfMemoryException, MemoryError):
            raise RuleQueryError(
                f"rule exceeded its memory limit of {self.memory_mb} MB (rules_memory_mb)"
            ) from None
        finally:
            timer.cancel()
        took = time.monotonic() - started
        if took > self.timeout_s + 1.0:
            # DuckDB interrupts between vectors; one long function call (repeat('a', 1e9))
            # runs to its end. Its answer came past the limit: an error, never a verdict.
            raise RuleQueryError(
                f"rule exceeded its time limit of {self.timeout_s:g} s (rules_timeout_s): it"
                f" ran {took:.0f} s in a call DuckDB could not interrupt"
            )
        return out

    def columns(self, sql: str) -> list[str]:
        """Prepare one rule's SQL against the context and return its column names."""
        check_select(sql)
        try:
            return [
                str(r[0])
                for r in self._bounded(lambda: self.con.execute("DESCRIBE " + sql).fetchall())
            ]
        except duckdb.Error as exc:
            raise _error(exc) from None

    def run(self, sql: str, scope: str | None) -> list[dict[str, Any]]:
        """Run one rule's SQL; each row gains `_unassessed` (the reason its resource could not
        be assessed, or None). With a scope, only that scope's resources."""
        check_select(sql)
        where = "WHERE __r.resource IN (SELECT key FROM scope_members WHERE scope = $scope)"

        def execute() -> tuple[list[Any], list[tuple[Any, ...]]]:
            # The rule becomes a view of its own (no text wrapped around it), then is joined.
            self.con.sql(sql).create_view("__r", replace=True)
            cur = self.con.execute(
                "SELECT __r.*, __u.reason AS _unassessed FROM __r "
                f"LEFT JOIN unassessed __u ON __u.key = __r.resource {where if scope else ''}",
                {"scope": scope} if scope else {},
            )
            return list(cur.description or []), cur.fetchall()

        try:
            desc, rows = self._bounded(execute)
        except duckdb.Error as exc:
            raise _error(exc) from None
        finally:
            self.con.execute("DROP VIEW IF EXISTS __r")
        names = [str(d[0]) for d in desc]
        types = [str(d[1]) for d in desc]
        return [{n: _py(v, t) for n, t, v in zip(names, types, row, strict=True)} for row in rows]


def _py(value: Any, type_name: str) -> Any:
    if value is None:
        return None
    if type_name == "JSON" and isinstance(value, str):
        return json.loads(value)
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def unassessed(store: Store) -> dict[str, str]:
    """Resources of the prepared scan that could not be assessed, with the reason."""
    return {
        str(k): str(r)
        for k, r in store.con.execute("SELECT key, reason FROM unassessed").fetchall()
    }


def declared_failures(store: Store, scan_id: int) -> list[tuple[str, str]]:
    """(file, error) of the declared-state inputs scan `scan_id`'s diff could not read."""
    try:
        rows = store.con.execute(
            "SELECT failed::VARCHAR FROM main.drift_run WHERE scan_id = $n", {"n": scan_id}
        ).fetchall()
    except duckdb.Error:  # a store from before the column: nothing was recorded as failed
        return []
    out: list[tuple[str, str]] = []
    for (text,) in rows:
        for item in json.loads(text or "[]"):
            out.append((str(item.get("file", "")), str(item.get("error", ""))))
    return out
