"""Export history as Hive-partitioned Parquet that Spark, Trino and Athena read unchanged."""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from driftscan import __version__
from driftscan.errors import StoreError
from driftscan.model import sha256_file
from driftscan.store.core import Store

MANIFEST = "_manifest.json"
FORMAT = "driftscan-export/1"
EXPORT_MEMORY_LIMIT = "1GB"
_PARTITION_VALUE = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")

# Table → (the rows of scan {n}, its partition columns). Each table is the view a rule reads,
# as of scan N, so a query over the export answers what a rule over scan N would.
TABLES: dict[str, tuple[str, tuple[str, ...]]] = {
    "resources": (
        "SELECT * FROM resources_at({n}) ORDER BY provider, key",
        ("scan_id", "provider"),
    ),
    "drift": ("SELECT * FROM drift_at({n}) ORDER BY resource, kind", ("scan_id",)),
    "findings": (
        "SELECT * FROM findings WHERE scan_id = {n} ORDER BY rule, resource",
        ("scan_id",),
    ),
    "slices": ("SELECT * FROM slices WHERE scan_id = {n} ORDER BY source, name", ("scan_id",)),
}
# Types other engines read: JSON as text, every integer as BIGINT (Spark has no unsigned types).
_CASTS = {"JSON": "VARCHAR", "INTEGER": "BIGINT", "UINTEGER": "BIGINT", "UBIGINT": "BIGINT",
          "SMALLINT": "BIGINT", "HUGEINT": "DECIMAL(38,0)"}  # fmt: skip


@dataclass
class ExportResult:
    """What one export wrote: the scans added now, those already there, and every file."""

    out: Path
    exported: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)  # relative path → sha256
    rows: dict[str, int] = field(default_factory=dict)  # table → rows written now


def _read_manifest(out: Path) -> dict[str, Any]:
    path = out / MANIFEST
    if not path.exists():
        return {}
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise StoreError(f"{path}: not a driftscan export manifest ({exc})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise StoreError(f"{path}: not a driftscan export manifest (format {FORMAT} expected)")
    return doc


def _select(con: duckdb.DuckDBPyConnection, sql: str, exclude: tuple[str, ...] = ()) -> str:
    cols = con.execute(f"DESCRIBE {sql}").fetchall()
    exprs = []
    for name, typ, *_ in cols:
        if name in exclude:
            continue
        target = _CASTS.get(str(typ))
        quoted = '"' + str(name).replace('"', '""') + '"'
        exprs.append(f"CAST({quoted} AS {target}) AS {quoted}" if target else quoted)
    return f"SELECT {', '.join(exprs)} FROM ({sql})"


def _copy(
    con: duckdb.DuckDBPyConnection, sql: str, dest: Path, n: int, partitions: tuple[str, ...]
) -> int:
    """Write scan n's rows of one table as Hive partitions under `dest`, one plain COPY per
    partition: a partitioned COPY buffers every partition at once and runs out of memory at a
    million resources, a COPY of one partition streams (and spills its sort)."""
    extra = [c for c in partitions if c != "scan_id"]
    values: list[tuple[Any, ...]] = [()]
    if extra:
        values = con.execute(
            f"SELECT DISTINCT {', '.join(extra)} FROM ({sql}) ORDER BY ALL"
        ).fetchall()
    total = 0
    for vals in values:
        folder = dest / f"scan_id={n}"
        where = []
        for col, v in zip(extra, vals, strict=True):
            if not isinstance(v, str) or not _PARTITION_VALUE.match(v):
                raise StoreError(f"cannot export {col} {v!r}: not a plain partition name")
            folder /= f"{col}={v}"
            where.append(f"{col} = '{v}'")
        folder.mkdir(parents=True, exist_ok=True)
        rows_sql = f"SELECT * FROM ({sql})" + (f" WHERE {' AND '.join(where)}" if where else "")
        body = _select(con, rows_sql, exclude=partitions)
        target = str(folder / "part-0.parquet").replace("'", "''")
        written = con.execute(
            f"COPY ({body}) TO '{target}' (FORMAT parquet, COMPRESSION zstd)"
        ).fetchall()
        count = int(written[0][0]) if written else 0
        if count == 0:
            shutil.rmtree(folder)
        total += count
    return total


def _scan_dirs(root: Path, n: int) -> Iterable[Path]:
    for table in TABLES:
        d = root / table / f"scan_id={n}"
        if d.exists():
            yield d


def export_parquet(
    store: Store,
    out: Path,
    scans: Iterable[int] | None = None,
    *,
    progress: Callable[[int, int, int], None] | None = None,
) -> ExportResult:
    """Write the given scans (default: the latest) under `out`; scans already exported are
    skipped, so a nightly export adds only the new one. The manifest is written last, so a
    crash leaves the previous export readable and whole."""
    out.mkdir(parents=True, exist_ok=True)
    manifest = _read_manifest(out)
    done = {int(s) for s in manifest.get("scans", {})}
    con = store.con
    ledger = {int(r[0]): (str(r[1]), bool(r[2])) for r in con.execute(
        "SELECT scan_id, chain_hash, pruned FROM scan_ledger").fetchall()}  # fmt: skip
    wanted = sorted(set(scans)) if scans is not None else [max(ledger)] if ledger else []
    for n in wanted:
        if n not in ledger:
            raise StoreError(f"no scan {n} in the store")
        if ledger[n][1]:
            raise StoreError(f"scan {n} was pruned; its resources are no longer all in the store")
    result = ExportResult(out, skipped=[n for n in wanted if n in done])
    todo = [n for n in wanted if n not in done]
    files: dict[str, str] = dict(manifest.get("files", {}))
    scans_doc: dict[str, Any] = dict(manifest.get("scans", {}))
    # A partitioned COPY of a million resources holds GBs unless DuckDB is told to spill.
    limit = con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]
    con.execute(f"SET memory_limit = '{EXPORT_MEMORY_LIMIT}'")
    try:
        _export_scans(con, out, todo, ledger, files, scans_doc, result, progress)
    except duckdb.Error as exc:  # out of memory or disk: the manifest stays the last good one
        raise StoreError(f"export to {out} failed: {str(exc).splitlines()[0]}") from None
    finally:
        con.execute(f"SET memory_limit = '{limit}'")
    result.files = dict(sorted(files.items()))
    doc = {
        "format": FORMAT,
        "tool_version": __version__,
        "written_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "tables": {t: list(p) for t, (_, p) in TABLES.items()} | {"scans": []},
        "scans": dict(sorted(scans_doc.items(), key=lambda kv: int(kv[0]))),
        "files": result.files,
    }
    tmp_manifest = out / f"{MANIFEST}.{os.getpid()}.tmp"
    tmp_manifest.write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp_manifest, out / MANIFEST)
    return result


def _export_scans(
    con: duckdb.DuckDBPyConnection,
    out: Path,
    todo: list[int],
    ledger: dict[int, tuple[str, bool]],
    files: dict[str, str],
    scans_doc: dict[str, Any],
    result: ExportResult,
    progress: Callable[[int, int, int], None] | None,
) -> None:
    with tempfile.TemporaryDirectory(prefix=".export-", dir=out) as tmp:
        stage = Path(tmp)
        for i, n in enumerate(todo, 1):
            # Left by an export that died before its manifest: not part of the export yet.
            for d in _scan_dirs(out, n):
                shutil.rmtree(d)
            for table, (sql, parts) in TABLES.items():
                rows = _copy(con, sql.format(n=int(n)), stage / table, n, parts)
                result.rows[table] = result.rows.get(table, 0) + rows
            for table in TABLES:
                src = stage / table / f"scan_id={n}"
                if src.exists():
                    (out / table).mkdir(exist_ok=True)
                    os.replace(src, out / table / f"scan_id={n}")
            for d in _scan_dirs(out, n):
                for f in sorted(d.rglob("*.parquet")):
                    files[f.relative_to(out).as_posix()] = sha256_file(f)
            scans_doc[str(n)] = {"chain_hash": ledger[n][0]}
            result.exported.append(n)
            if progress is not None:
                progress(i, len(todo), n)
        # The ledger is small and changes with every scan: rewritten whole each time.
        scans_file = out / "scans" / "part-0.parquet"
        _copy_ledger(con, stage / "scans.parquet")
        scans_file.parent.mkdir(exist_ok=True)
        os.replace(stage / "scans.parquet", scans_file)
        files["scans/part-0.parquet"] = sha256_file(scans_file)


def _copy_ledger(con: duckdb.DuckDBPyConnection, dest: Path) -> None:
    target = str(dest).replace("'", "''")
    con.execute(
        f"COPY ({_select(con, 'SELECT * FROM scans ORDER BY scan_id')}) TO '{target}' "
        "(FORMAT parquet, COMPRESSION zstd)"
    )


def verify_export(out: Path) -> list[str]:
    """Files of an export whose bytes no longer match the manifest (or that it does not list)."""
    manifest = _read_manifest(out)
    if not manifest:
        raise StoreError(f"{out}: no {MANIFEST}; not a driftscan export")
    problems = []
    listed: dict[str, str] = manifest.get("files", {})
    for rel, sha in sorted(listed.items()):
        p = out / rel
        if not p.is_file():
            problems.append(f"{rel}: missing")
        elif sha256_file(p) != sha:
            problems.append(f"{rel}: altered (sha256 differs from the manifest)")
    for p in sorted(out.rglob("*.parquet")):
        rel = p.relative_to(out).as_posix()
        if rel not in listed and not rel.startswith(".export-"):
            problems.append(f"{rel}: not in the manifest")
    return problems
