"""The DuckDB store: atomic scan writes, content-addressed history, the hash chain, queries."""

from __future__ import annotations

import fcntl
import functools
import hashlib
import json
import os
import re
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import duckdb
import orjson

if TYPE_CHECKING:
    import pyarrow as pa

from driftscan.errors import LockHeld, NoStore, StoreError, StoreWriteError, disk_failure
from driftscan.model import (
    Resource,
    ScanRecord,
    ScanStatus,
    SourceRun,
    canonical_json,
)
from driftscan.store.heads import Head, append_head, check_heads, heads_path, last_head
from driftscan.store.memcap import RESULT_OVER_LIMIT
from driftscan.store.schema import SCHEMA_VERSION, TABLES, VIEWS, extension_ddl

GENESIS = "0" * 64


@functools.cache
def _version_schema() -> pa.Schema:
    """The columns of a version row (pyarrow loads on first write: queries never need it)."""
    import pyarrow as pa

    return pa.schema(
        [
            ("doc_hash", pa.string()),
            ("key", pa.string()),
            ("provider", pa.string()),
            ("source", pa.string()),
            ("account", pa.string()),
            ("region", pa.string()),
            ("type", pa.string()),
            ("name", pa.string()),
            ("tags", pa.string()),
            ("attrs", pa.string()),
            ("encrypted", pa.bool_()),
            ("public", pa.bool_()),
            ("error", pa.string()),
        ]
    )


_SCAN_COLUMNS = (
    "scan_id, started_at, finished_at, status, tool_version, config_hash, rules_hash, "
    "resources, content_hash, prev_hash, chain_hash, pruned, results_head"
)


def chain_link(rec: ScanRecord) -> str:
    """The hash sealing one ledger row to its predecessor."""
    fields = [
        rec.scan_id,
        rec.started_at.isoformat(),
        rec.finished_at.isoformat(),
        rec.status,
        rec.tool_version,
        rec.config_hash,
        rec.rules_hash,
        rec.resources,
        rec.content_hash,
        rec.prev_hash,
    ]
    if rec.results_head:  # rows written before schema 2 sealed no result-chain head
        fields.append(rec.results_head)
    return hashlib.sha256(canonical_json(fields).encode()).hexdigest()


def result_link(
    seq: int, scan_id: int, kind: str, content_hash: str, scan_chain_hash: str, prev_link: str
) -> str:
    """The hash sealing one result seal to its predecessor in the result chain."""
    fields = [seq, scan_id, kind, content_hash, scan_chain_hash, prev_link]
    return hashlib.sha256(canonical_json(fields).encode()).hexdigest()


def scan_status(runs: Sequence[SourceRun]) -> ScanStatus:
    """complete when every source read fully; failed when nothing could be read at all."""
    if runs and all(r.status == "failed" for r in runs):
        return "failed"
    return "complete" if all(r.status == "ok" for r in runs) else "incomplete"


@dataclass
class VerifyResult:
    """The outcome of `verify`: ok, or the problems found, first broken link first."""

    scans: int = 0
    problems: list[str] = field(default_factory=list)
    first_broken: int | None = None
    head: str = GENESIS

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class HistoryEntry:
    """One version of one resource and the scans it was valid in."""

    doc_hash: str
    first_scan: int
    last_scan: int | None
    first_seen: datetime | None
    last_seen: datetime | None
    doc: dict[str, Any]
    # The first scan after last_scan (None while the version is current): the resource had
    # another version in it, or was absent from it.
    next_scan: int | None = None
    next_at: datetime | None = None


class Store:
    """One open DuckDB store. Writable stores hold an exclusive lock file beside the database."""

    def __init__(
        self,
        path: str | Path,
        *,
        read_only: bool = False,
        sandboxed: bool = False,
        memory_mb: int | None = None,
        wait_s: float = 0.0,
    ) -> None:
        """Open the store. `sandboxed` (for user SQL) forbids file access and spilling to disk;
        `memory_mb` caps DuckDB's memory; a writer waits up to `wait_s` for readers to close
        the file (DuckDB allows readers or one writer) before giving up with LockHeld."""
        self.path = Path(path)
        self.read_only = read_only
        self._lock_file: IO[str] | None = None
        # What this open created (a new store's folders and files), so that a command that
        # fails before any scan is written leaves nothing behind: see _discard_if_new.
        self._created: list[Path] = []
        if read_only and not self.path.exists():
            raise NoStore(f"{self.path}: no store here yet; run `driftscan scan` first")
        if not read_only:
            missing = [d for d in self.path.parents if not d.exists()]  # deepest first
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._lock_file = _acquire_lock(self.path)
            except OSError as exc:
                self._created = missing
                self._discard_if_new()
                raise_write_failure(self.path, exc)
                raise
            if not self.path.exists():
                # Under the lock, so no other run is creating it: this open creates the store.
                # Its lock, DuckDB's log and the default fingerprint key (Config.key_path) are
                # made with it; a key or log already there is not this run's to remove.
                sibling = [self.path.with_name(self.path.name + x) for x in (".wal", ".key")]
                self._created = [
                    self.path,
                    self.path.with_name(self.path.name + ".lock"),
                    *(s for s in sibling if not s.exists()),
                    *missing,
                ]
        cfg: dict[str, Any] = {}
        if sandboxed:
            # `driftscan query` runs user SQL: no reading or writing other files through it,
            # and a query too big for memory fails instead of filling the disk with spill.
            cfg["enable_external_access"] = False
            cfg["temp_directory"] = ""
        if memory_mb is not None:
            cfg["memory_limit"] = f"{int(memory_mb)}MB"
        deadline = time.monotonic() + max(0.0, wait_s)
        while True:
            try:
                self.con = duckdb.connect(str(self.path), read_only=read_only, config=cfg)
                break
            except duckdb.Error as exc:
                msg = str(exc).splitlines()[0]
                locked = "lock" in msg.lower()
                if locked and time.monotonic() < deadline:
                    time.sleep(0.2)  # a reader (`query`, `report`) has the file open
                    continue
                if not locked:
                    self._discard_if_new()
                self._release()
                if locked:
                    waited = f" (waited {wait_s:g} s)" if wait_s else ""
                    raise LockHeld(
                        f"{self.path}: the store is in use by another driftscan process{waited}"
                    ) from None
                raise StoreError(f"{self.path}: cannot open the store: {msg}") from None
        if not read_only:
            try:
                self._migrate()
            except (duckdb.Error, OSError) as exc:
                failed = write_failure(self.path, exc)
                if failed is None:
                    raise
                self.con.close()
                self._discard_if_new()
                self._release()
                raise failed from None
        else:
            self._check_schema()

    # -- lifecycle ---------------------------------------------------------------------------

    def close(self) -> None:
        try:
            self.con.close()  # may checkpoint the WAL into the file
        except (duckdb.Error, OSError) as exc:
            raise_write_failure(self.path, exc)
            raise
        finally:
            self._release()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        if exc_type is not None and self._created and not self._has_scans():
            # The command failed (a config mistake found late, no scan to report on) before
            # anything was stored in the store it created: take that store away again.
            with suppress(duckdb.Error, OSError):
                self.con.close()
            self._discard_if_new()
            self._release()
            return
        self.close()

    def _has_scans(self) -> bool:
        try:
            return _one(self.con, "SELECT 1 FROM scan_ledger LIMIT 1") is not None
        except duckdb.Error:
            return True  # cannot tell: keep the file

    def _discard_if_new(self) -> None:
        """Remove what this open created (the new store's file, its lock, DuckDB's log, its
        fingerprint key and the folders made for it), holding the lock while doing so."""
        for p in self._created:
            with suppress(OSError):
                if p.is_dir():
                    p.rmdir()  # only if empty: something else may have been put there
                else:
                    p.unlink(missing_ok=True)
        self._created = []

    def _release(self) -> None:
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None

    def _migrate(self) -> None:
        self.con.execute(TABLES)
        self.con.execute(VIEWS)
        for ddl in extension_ddl():
            self.con.execute(ddl)
        row = _one(self.con, "SELECT value FROM meta WHERE key = 'schema'")
        if row is None:
            self.con.execute("INSERT INTO meta VALUES ('schema', ?)", [SCHEMA_VERSION])
        elif row[0] == "1":
            self._upgrade_from_1()
        elif row[0] == "2":
            # 2 → 3 adds the attestation table, which the DDL above has just created.
            self.con.execute("UPDATE meta SET value = ? WHERE key = 'schema'", [SCHEMA_VERSION])
        elif row[0] != SCHEMA_VERSION:
            raise StoreError(
                f"{self.path}: schema version {row[0]}, this driftscan reads {SCHEMA_VERSION}"
            )

    def _upgrade_from_1(self) -> None:
        """Schema 1 → 2: result seals become the hash-linked result chain and the ledger gains
        results_head. Rows written before keep their links (an empty results_head)."""
        with self.transaction() as con:
            con.execute(
                "ALTER TABLE scan_ledger ADD COLUMN IF NOT EXISTS results_head VARCHAR DEFAULT ''"
            )
            if _one(con, "SELECT 1 FROM duckdb_tables() WHERE table_name = 'result_seal'"):
                prev = GENESIS
                old = con.execute(
                    "SELECT scan_id, kind, content_hash, scan_chain_hash FROM result_seal "
                    "ORDER BY scan_id, kind"
                ).fetchall()
                for seq, (scan_id, kind, content, chain) in enumerate(old, start=1):
                    link = result_link(seq, scan_id, kind, content, chain, prev)
                    con.execute(
                        "INSERT INTO result_chain VALUES (?, ?, ?, ?, ?, ?, ?)",
                        [seq, scan_id, kind, content, chain, prev, link],
                    )
                    prev = link
                con.execute("DROP TABLE result_seal")
            con.execute("UPDATE meta SET value = ? WHERE key = 'schema'", [SCHEMA_VERSION])

    def _check_schema(self) -> None:
        """A reader cannot upgrade the file: say so instead of failing on a missing column."""
        try:
            row = _one(self.con, "SELECT value FROM meta WHERE key = 'schema'")
        except duckdb.Error:
            return  # not a driftscan store at all; the first query says so
        if row is not None and row[0] != SCHEMA_VERSION:
            self.con.close()
            raise StoreError(
                f"{self.path}: schema version {row[0]}, this driftscan reads {SCHEMA_VERSION}"
                + ("; run `driftscan scan` once to upgrade it" if row[0] in ("1", "2") else "")
            )

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """All or nothing: a crash inside leaves no trace in the file.

        A full or failing disk (spilling, or writing the WAL at COMMIT) rolls the transaction
        back and raises StoreWriteError naming the store.
        """
        try:
            self.con.execute("BEGIN TRANSACTION")
            try:
                yield self.con
            except BaseException:
                # A fatal I/O error may have ended the transaction already; the error that
                # got us here is the one to report.
                with suppress(duckdb.Error):
                    self.con.execute("ROLLBACK")
                raise
            self.con.execute("COMMIT")
        except (duckdb.Error, OSError) as exc:
            raise_write_failure(self.path, exc)
            raise
        self._note_heads()

    # The last heads written to the heads file by this process, and why the last append failed.
    _last_head: Head | None = None
    heads_error: str | None = None

    def _note_heads(self) -> None:
        """Append the chain heads to the heads file beside the store when a commit moved them.

        The file lives outside the DuckDB file, so deleting the newest scans or seals from the
        store leaves a record that names them. A failed append never undoes the commit: the
        reason is kept in `heads_error`, and `verify` names what was left unrecorded.
        """
        scan = _one(
            self.con, "SELECT scan_id, chain_hash FROM scan_ledger ORDER BY scan_id DESC LIMIT 1"
        )
        seq, link = _results_head(self.con)
        head = Head(scan[0] if scan else 0, scan[1] if scan else GENESIS, seq, link)
        path = heads_path(self.path)
        if self._last_head is None:
            self._last_head = last_head(path)
        if head == self._last_head or (head.scan_id == 0 and head.results_seq == 0):
            return
        try:
            append_head(path, head)
        except OSError as exc:
            self.heads_error = f"{path}: chain head of scan {head.scan_id} not recorded: {exc}"
            return
        self._last_head, self.heads_error = head, None

    # -- writing a scan ----------------------------------------------------------------------

    def write_scan(
        self,
        runs: Sequence[SourceRun],
        *,
        started_at: datetime,
        finished_at: datetime,
        tool_version: str,
        config_hash: str = "",
        rules_hash: str = "",
        key_id: str | None = None,
        staged: Sequence[Path] = (),
        staged_run: tuple[str, str, int] | None = None,
    ) -> ScanRecord:
        """Store one scan in a single transaction and seal it into the hash chain. `key_id`
        names the fingerprint key its secrets were fingerprinted with. `staged`: Parquet files
        of a staging bundle (driftscan.stage, verified by the caller) holding the resources
        instead of `runs`; `staged_run` (run id, bundles digest, shards) is recorded with it."""
        incoming = None if staged else _encode(r for run in runs for r in run.resources)
        status = scan_status(runs)
        with self.transaction() as con:
            last = _one(
                con, "SELECT scan_id, chain_hash FROM scan_ledger ORDER BY scan_id DESC LIMIT 1"
            )
            scan_id = (last[0] if last else 0) + 1
            prev = last[1] if last else GENESIS
            self._write_runs(con, scan_id, runs)
            if key_id is not None:
                con.execute("INSERT INTO fingerprint_key VALUES (?, ?)", [scan_id, key_id])
            if incoming is not None:
                self._write_resources(con, scan_id, incoming)
                self._write_observations(con, scan_id, runs)
                count = incoming.num_rows
            else:
                count = self._write_staged(con, scan_id, staged)
            rec = ScanRecord(
                scan_id=scan_id,
                started_at=started_at.replace(tzinfo=None),
                finished_at=finished_at.replace(tzinfo=None),
                status=status,
                tool_version=tool_version,
                config_hash=config_hash,
                rules_hash=rules_hash,
                resources=count,
                content_hash=_content_hash(con, scan_id),
                prev_hash=prev,
                chain_hash="",
                results_head=_results_head(con)[1],
            )
            rec.chain_hash = chain_link(rec)
            if staged_run is not None:
                from driftscan.store.staged import record_ingest

                record_ingest(con, staged_run[0], scan_id, staged_run[1], staged_run[2])
            con.execute(
                f"INSERT INTO scan_ledger ({_SCAN_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                [
                    rec.scan_id, rec.started_at, rec.finished_at, rec.status, rec.tool_version,
                    rec.config_hash, rec.rules_hash, rec.resources, rec.content_hash,
                    rec.prev_hash, rec.chain_hash, False, rec.results_head,
                ],
            )  # fmt: skip
        return rec

    @staticmethod
    def _write_runs(
        con: duckdb.DuckDBPyConnection, scan_id: int, runs: Sequence[SourceRun]
    ) -> None:
        import pyarrow as pa

        run_rows = pa.table(
            {
                "scan_id": [scan_id] * len(runs),
                "source": [r.source for r in runs],
                "provider": [r.provider for r in runs],
                "status": [r.status for r in runs],
                "reason": [r.reason for r in runs],
                "resources": [r.resource_count for r in runs],
                "duration_s": [float(r.duration_s) for r in runs],
                "identity": pa.array([r.identity for r in runs], pa.string()),
            }
        )
        slices = [s for r in runs for s in r.slices]
        slice_rows = pa.table(
            {
                "scan_id": pa.array([scan_id] * len(slices), pa.int64()),
                "source": pa.array([s.source for s in slices], pa.string()),
                "provider": pa.array([s.provider for s in slices], pa.string()),
                "name": pa.array([s.name for s in slices], pa.string()),
                "status": pa.array([s.status for s in slices], pa.string()),
                "reason": pa.array([s.reason for s in slices], pa.string()),
                "detail": pa.array([s.detail for s in slices], pa.string()),
                "account": pa.array([s.account for s in slices], pa.string()),
                "region": pa.array([s.region for s in slices], pa.string()),
                "types": pa.array([list(s.types) for s in slices], pa.list_(pa.string())),
                "keys": pa.array([list(s.keys) for s in slices], pa.list_(pa.string())),
                "resources": pa.array([s.resources for s in slices], pa.int64()),
            }
        )
        con.register("_runs", run_rows)
        con.register("_slices", slice_rows)
        con.execute("INSERT INTO source_run SELECT * FROM _runs")
        con.execute("INSERT INTO slice_run SELECT * FROM _slices")
        con.unregister("_runs")
        con.unregister("_slices")

    @staticmethod
    def _write_resources(con: duckdb.DuckDBPyConnection, n: int, incoming: pa.Table) -> None:
        # `incoming` carries each document's hash (computed while encoding it): DuckDB scans
        # the Arrow table in place, with no copy into a temp table.
        con.register("_in", incoming)
        try:
            Store._apply_incoming(con, n)
        finally:
            con.unregister("_in")

    @staticmethod
    def _write_staged(con: duckdb.DuckDBPyConnection, n: int, files: Sequence[Path]) -> int:
        """The resources of staged Parquet files (version rows with their doc_hash and the
        per-scan `observed` text), one per key (first file, first row wins); returns how many.

        The files are read in place (a view, re-read by each statement: cheaper than holding
        a million rows in memory); only a run whose bundles repeat a key is de-duplicated
        into a table, and only documents new to the store are held, to check their hashes.
        """
        listed = "[" + ", ".join("'" + str(f).replace("'", "''") + "'" for f in files) + "]"
        cols = ", ".join(_version_schema().names)
        staged = "VIEW"
        try:
            con.execute(f"CREATE TEMP VIEW _staged AS SELECT * FROM read_parquet({listed})")
            dup = _one(con, "SELECT count(*) - count(DISTINCT key) FROM _staged")
            if dup and dup[0]:
                con.execute("DROP VIEW _staged")
                staged = "TABLE"
                con.execute(
                    "CREATE TEMP TABLE _staged AS SELECT * EXCLUDE (filename, file_row_number) "
                    f"FROM read_parquet({listed}, filename = true, file_row_number = true) "
                    f"QUALIFY row_number() OVER (PARTITION BY key ORDER BY "
                    f"list_position({listed}, filename), file_row_number) = 1"
                )
            con.execute(f"CREATE TEMP VIEW _in AS SELECT {cols} FROM _staged")
            # Only the hashes of documents new to the store are held (not their text).
            con.execute(
                "CREATE TEMP TABLE _new AS SELECT doc_hash FROM _in "
                "ANTI JOIN (SELECT doc_hash FROM version) v USING (doc_hash)"
            )
            Store._apply_incoming(con, n, new="_in SEMI JOIN _new USING (doc_hash)")
            # A bundle is sealed by its manifest, but its hashes were computed by the worker:
            # a new document whose hash is not its content's would be a forged version (the
            # transaction is rolled back).
            # The predicate names both sides of the join so that it is evaluated on the new
            # documents only, not pushed down onto every version in the store.
            bad = _one(
                con,
                "SELECT v.key FROM version v JOIN _new n ON v.doc_hash = n.doc_hash "
                "WHERE n.doc_hash IS DISTINCT FROM version_hash(v.key, v.provider, v.source, "
                "v.account, v.region, v.type, v.name, v.tags, v.attrs, v.encrypted, v.public, "
                "v.error) LIMIT 1",
            )
            if bad is not None:
                raise StoreError(
                    f"staged resource '{bad[0]}': its stored hash does not match its content"
                )
            con.execute(
                "INSERT INTO observation SELECT ?, key, observed FROM _staged "
                "WHERE observed IS NOT NULL",
                [n],
            )
            got = _one(con, "SELECT count(*) FROM _staged")
            return int(got[0]) if got else 0
        except (duckdb.BinderException, duckdb.ConversionException,
                duckdb.InvalidInputException) as exc:  # fmt: skip
            first = str(exc).strip().splitlines()[0]
            raise StoreError(f"staged files are not a bundle's resources: {first}") from None
        finally:
            # Each dropped as what it is: DROP VIEW of a table is an error, and any error
            # aborts the transaction (the scan then fails at its next statement). A failed
            # transaction drops them with its rollback.
            with suppress(duckdb.Error):
                con.execute("DROP TABLE IF EXISTS _new")
                con.execute("DROP VIEW IF EXISTS _in")
                con.execute(f"DROP {staged} IF EXISTS _staged")

    @staticmethod
    def _apply_incoming(con: duckdb.DuckDBPyConnection, n: int, *, new: str | None = None) -> None:
        """Version rows in `_in` (a registered table or a view) become scan `n`'s resources;
        `new` names a relation already holding just the documents new to the store."""
        # New documents only: an unchanged resource adds nothing.
        if new is not None:
            con.execute(f"INSERT INTO version SELECT * FROM {new}")
        else:
            con.execute(
                "INSERT INTO version SELECT i.* FROM _in i "
                "ANTI JOIN (SELECT DISTINCT doc_hash FROM version) v USING (doc_hash)"
            )
        # Close intervals whose key now has another version, or has gone from a slice
        # that was read; a key in an unread slice keeps its last known version.
        con.execute(
            """
            UPDATE span SET last_scan = ? - 1
            FROM (
                SELECT s.key, s.doc_hash
                FROM span s JOIN version v USING (doc_hash)
                LEFT JOIN _in i ON i.key = s.key
                WHERE s.last_scan IS NULL
                  AND CASE WHEN i.key IS NULL
                           THEN NOT covered_by_failure(?, v.source, v.account, v.region, v.type, v.key)
                           ELSE i.doc_hash <> s.doc_hash END
            ) AS gone
            WHERE span.last_scan IS NULL AND span.key = gone.key AND span.doc_hash = gone.doc_hash
            """,
            [n, n],
        )
        con.execute(
            "INSERT INTO span SELECT i.key, i.doc_hash, ?, NULL FROM _in i "
            "ANTI JOIN (SELECT key FROM span WHERE last_scan IS NULL) s USING (key)",
            [n],
        )

    @staticmethod
    def _write_observations(
        con: duckdb.DuckDBPyConnection, n: int, runs: Sequence[SourceRun]
    ) -> None:
        seen: dict[str, str] = {}
        for r in (r for run in runs for r in run.resources):
            if r.observed and r.key not in seen:
                seen[r.key] = canonical_json(r.observed)
        if not seen:
            return
        import pyarrow as pa

        rows = pa.table({"key": list(seen), "data": list(seen.values())})
        con.register("_obs", rows)
        try:
            con.execute("INSERT INTO observation SELECT ?, key, data FROM _obs", [n])
        finally:
            con.unregister("_obs")

    # -- reading -----------------------------------------------------------------------------

    def scans(self, *, limit: int | None = None) -> list[ScanRecord]:
        sql = f"SELECT {_SCAN_COLUMNS} FROM scan_ledger ORDER BY scan_id DESC"
        if limit:
            sql += f" LIMIT {int(limit)}"
        return [ScanRecord(*row) for row in self.con.execute(sql).fetchall()]

    def scan(self, scan_id: int | None = None) -> ScanRecord:
        """One scan by id, or the latest."""
        if scan_id is None:
            sql, args = f"SELECT {_SCAN_COLUMNS} FROM scan_ledger ORDER BY scan_id DESC LIMIT 1", []
        else:
            sql, args = f"SELECT {_SCAN_COLUMNS} FROM scan_ledger WHERE scan_id = ?", [scan_id]
        row = _one(self.con, sql, args)
        if row is None:
            raise StoreError(
                f"no scan {scan_id}" if scan_id is not None else "the store holds no scans yet"
            )
        return ScanRecord(*row)

    def source_runs(self, scan_id: int) -> list[dict[str, Any]]:
        return self.rows(
            "SELECT source, provider, status, reason, resources, duration_s, identity FROM source_run "
            "WHERE scan_id = ? ORDER BY source",
            [scan_id],
        )

    def slices(self, scan_id: int, *, failed_only: bool = False) -> list[dict[str, Any]]:
        where = " AND status = 'failed'" if failed_only else ""
        return self.rows(
            "SELECT source, provider, name, status, reason, detail, account, region, types, keys, "
            f"resources FROM slice_run WHERE scan_id = ?{where} ORDER BY source, name",
            [scan_id],
        )

    def history(self, key: str, *, normalised: str | None = None) -> list[HistoryEntry]:
        """Every version of one resource, oldest first, with when it was first and last seen.

        `normalised` is the key as its provider stores it (lower-cased, say), if it differs.
        """
        rows = self.rows(
            """
            WITH v AS (
                SELECT * FROM resource_versions WHERE key = ? OR key = ?
            )
            -- Last seen: the last scan in the interval that actually read the resource's slice.
            -- A version carried forward through unread scans was not seen in them.
            SELECT v.*, f.started_at AS first_seen,
                   (SELECT max(l.started_at) FROM scan_ledger l
                    WHERE l.scan_id BETWEEN v.first_scan
                                        AND coalesce(v.last_scan, (SELECT max(scan_id) FROM scan_ledger))
                      AND NOT l.pruned
                      AND NOT covered_by_failure(l.scan_id, v.source, v.account, v.region, v.type, v.key)
                   ) AS last_seen,
                   n.scan_id AS next_scan, n.started_at AS next_at
            FROM v LEFT JOIN scan_ledger f ON f.scan_id = v.first_scan
            LEFT JOIN scan_ledger n ON n.scan_id = (
                SELECT min(scan_id) FROM scan_ledger WHERE scan_id > v.last_scan)
            ORDER BY v.first_scan
            """,
            [key, normalised or key],
        )
        out = []
        for r in rows:
            doc = {
                k: r[k]
                for k in (
                    "key",
                    "provider",
                    "source",
                    "account",
                    "region",
                    "type",
                    "name",
                    "encrypted",
                    "public",
                    "error",
                )
            }
            doc["tags"] = json.loads(r["tags"])
            doc["attrs"] = json.loads(r["attrs"])
            out.append(
                HistoryEntry(
                    r["doc_hash"],
                    r["first_scan"],
                    r["last_scan"],
                    r["first_seen"],
                    r["last_seen"],
                    doc,
                    r["next_scan"],
                    r["next_at"],
                )
            )
        return out

    def rows(self, sql: str, params: Sequence[Any] | None = None) -> list[dict[str, Any]]:
        """Run SQL and return rows as dicts."""
        cur = self.con.execute(sql, list(params or []))
        cols = [d[0] for d in cur.description or []]
        return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]

    def query(
        self, sql: str, params: Sequence[Any] | None = None, *, timeout_s: float | None = None
    ) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Run SQL; return column names and rows. Errors become StoreError with DuckDB's message;
        past `timeout_s` the query is interrupted."""
        timer = None
        if timeout_s is not None:
            timer = threading.Timer(timeout_s, self.con.interrupt)
            timer.daemon = True
            timer.start()
        try:
            cur = self.con.execute(sql, list(params or []))
            cols = [d[0] for d in cur.description or []]
            return cols, cur.fetchall()
        except duckdb.InterruptException:
            raise StoreError(f"the query ran longer than {timeout_s:g} s and was stopped") from None
        except duckdb.OutOfMemoryException as exc:
            first = str(exc).strip().splitlines()[0]
            raise StoreError(f"the query needs more memory than its limit: {first}") from None
        except MemoryError:  # the rows fetched into Python, past memcap.address_space_cap
            raise StoreError(RESULT_OVER_LIMIT) from None
        except duckdb.Error as exc:
            raise StoreError(str(exc).strip()) from None
        finally:
            if timer is not None:
                timer.cancel()

    def read_query(
        self, sql: str, *, timeout_s: float | None = None
    ) -> tuple[list[str], list[tuple[Any, ...]]]:
        """`driftscan query`: `query` of statements that only read (read_statements)."""
        read_statements(sql, self.con)
        return self.query(sql, timeout_s=timeout_s)

    # -- tamper evidence ---------------------------------------------------------------------

    def verify(self) -> VerifyResult:
        """Recompute every version hash, every scan's content hash and the chain of links."""
        res = VerifyResult()
        for key, h in self.con.execute(
            "SELECT key, doc_hash FROM version WHERE doc_hash <> version_hash(key, provider, "
            "source, account, region, type, name, tags, attrs, encrypted, public, error)"
        ).fetchall():
            res.problems.append(f"resource version of '{key}' was altered (stored hash {h[:12]}…)")
        first_bad: int | None = None
        prev = GENESIS
        expected_id = None
        prev_unpruned = False
        for rec in reversed(self.scans()):
            res.scans += 1
            here: list[str] = []
            if expected_id is not None and rec.scan_id != expected_id:
                missing = ", ".join(str(i) for i in range(expected_id, rec.scan_id))
                here.append(
                    f"scan {missing} missing from the ledger (chain broken before scan {rec.scan_id})"
                )
            if rec.prev_hash != prev:
                here.append(f"scan {rec.scan_id}: link to the previous scan does not match")
            if chain_link(rec) != rec.chain_hash:
                here.append(f"scan {rec.scan_id}: ledger row altered (chain hash mismatch)")
            if not rec.pruned and _content_hash(self.con, rec.scan_id) != rec.content_hash:
                here.append(f"scan {rec.scan_id}: observed content altered (content hash mismatch)")
            if rec.pruned and prev_unpruned:
                here.append(f"scan {rec.scan_id}: marked pruned after a kept scan (tampering)")
            prev_unpruned = prev_unpruned or not rec.pruned
            if here and first_bad is None:
                first_bad = rec.scan_id
            res.problems.extend(here)
            prev = rec.chain_hash
            expected_id = rec.scan_id + 1
        res.first_broken = first_bad
        res.head = prev
        res.problems += self._verify_results()
        res.problems += self._verify_heads()
        return res

    def _verify_results(self) -> list[str]:
        """The result chain must be whole and linked, and hold every head the ledger recorded;
        each current seal must match the rows it covers and its scan; and every stage that ran
        for a scan (check_run, drift_run, report_run rows) must have left a seal."""
        problems: list[str] = []
        recs = {r.scan_id: r for r in self.scans()}
        links: set[str] = set()
        current: dict[tuple[int, str], tuple[str, str]] = {}
        prev, want = GENESIS, 1
        for seq, scan_id, kind, content, chain, prev_link, link in self.con.execute(
            "SELECT seq, scan_id, kind, content_hash, scan_chain_hash, prev_link, link "
            "FROM result_chain ORDER BY seq"
        ).fetchall():
            what = f"result seal {seq} (scan {scan_id} {kind})"
            if seq != want:
                gap = str(want) if seq == want + 1 else f"{want}-{seq - 1}"
                problems.append(f"result seal {gap} missing from the result chain (deleted?)")
            if prev_link != prev:
                problems.append(f"{what}: link to the previous seal does not match")
            if result_link(seq, scan_id, kind, content, chain, prev_link) != link:
                problems.append(f"{what}: altered (link mismatch)")
            links.add(link)
            current[(scan_id, kind)] = (content, chain)
            prev, want = link, seq + 1
        for rec in sorted(recs.values(), key=lambda r: r.scan_id):
            if rec.results_head and rec.results_head != GENESIS and rec.results_head not in links:
                problems.append(
                    f"scan {rec.scan_id}: the result seals it records (head "
                    f"{rec.results_head[:12]}…) are missing from the result chain (deleted or "
                    "rewritten?)"
                )
        for (scan_id, kind), (content, chain) in sorted(current.items()):
            sealed = recs.get(scan_id)
            if sealed is None or sealed.chain_hash != chain:
                problems.append(f"scan {scan_id}: its {kind} were sealed against another scan")
            elif sealed.pruned and kind != "reports":
                continue  # retention dropped what the seal covered; the seal stays in the chain
            elif _result_hash(self.con, scan_id, kind) != content:
                problems.append(f"scan {scan_id}: stored {kind} altered (seal mismatch)")
        for kind, (table, verb) in _STAGES.items():
            if not _one(self.con, "SELECT 1 FROM duckdb_tables() WHERE table_name = ?", [table]):
                continue
            for (scan_id,) in self.con.execute(
                f"SELECT DISTINCT scan_id FROM {table} ORDER BY 1"
            ).fetchall():
                if (scan_id, kind) not in current:
                    problems.append(
                        f"scan {scan_id} was {verb} but its {kind} carry no seal (seal deleted?)"
                    )
        return problems

    def _verify_heads(self) -> list[str]:
        """The ledger and result chain against every head recorded in the heads file."""
        recs = self.scans()
        seals = {
            int(seq): (int(scan_id), str(kind), str(link))
            for seq, scan_id, kind, link in self.con.execute(
                "SELECT seq, scan_id, kind, link FROM result_chain"
            ).fetchall()
        }
        return check_heads(
            heads_path(self.path),
            {r.scan_id: r.chain_hash for r in recs},
            seals,
            expected=any(r.results_head for r in recs),
        )


def write_failure(path: Path, exc: BaseException) -> StoreWriteError | None:
    """A StoreWriteError naming the store at `path` when `exc` is the disk refusing a write
    (full, over quota, failing) or a DuckDB I/O error; None for any other error."""
    reason = disk_failure(exc)
    if reason is None and isinstance(exc, duckdb.IOException):
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else "I/O error"
    if reason is None:
        return None
    # DuckDB names the file it was writing ("...store.duckdb.wal", a spill file): keep it.
    named = re.search(r'"([^"]+)"', str(exc))
    target = named.group(1) if named else getattr(exc, "filename", None)
    detail = f"writing {target}" if target and str(target) != str(path) else ""
    return StoreWriteError(str(path), reason, detail=detail)


def raise_write_failure(path: Path, exc: BaseException) -> None:
    """Raise write_failure(path, exc) in place of `exc` when there is one; else return."""
    failed = write_failure(path, exc)
    if failed is not None:
        raise failed from None


def _acquire_lock(db: Path) -> IO[str]:
    lock_path = db.with_name(db.name + ".lock")
    while True:
        f = open(lock_path, "a+")  # noqa: SIM115 - held open for the store's lifetime
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.close()
            raise LockHeld(
                f"{db}: another driftscan run holds the store's lock ({lock_path})"
            ) from None
        # A run that failed on a store it had just created removes the lock file while
        # holding it (Store._discard_if_new): a lock on the removed file locks nothing.
        try:
            if os.stat(lock_path).st_ino == os.fstat(f.fileno()).st_ino:
                break
        except FileNotFoundError:
            pass
        f.close()
    f.seek(0)
    f.truncate()
    f.write(f"{os.getpid()}\n")
    f.flush()
    return f


@contextmanager
def run_lock(db: Path) -> Iterator[None]:
    """One `driftscan run` per store at a time: held for the whole run, beside the store's own
    lock (which a run takes only for its ingest and the stages after it). A second run, or a
    writer holding the store when the run starts, is LockHeld at once, before any collecting."""
    if not db.parent.is_dir():
        yield  # no store yet, nor its folder: the store's own lock, when it is made, is enough
        return
    path = db.with_name(db.name + ".run.lock")
    with open(path, "a+") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LockHeld(f"{db}: another driftscan run is in progress ({path})") from None
        try:
            if db.exists():
                # Taken and released at once: is a writer (`scan`, `ingest`) in the store now?
                _acquire_lock(db).close()
            yield
        finally:
            if not db.exists():  # the run made no store: it leaves nothing behind either
                path.unlink(missing_ok=True)


_DUMPS = orjson.dumps
_CANON = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS  # canonical_json's options
# An escaped backslash, or a \u00XX escape: orjson spells the hex digits in lower case,
# DuckDB's to_json (which version_hash uses) in upper case. Matching the escaped backslash
# too keeps a literal backslash followed by "u00.." out of it.
_ESCAPE = re.compile(rb"\\\\|\\u00([0-9a-f]{2})")


def _upper_escape(m: re.Match[bytes]) -> bytes:
    return m[0] if m[1] is None else b"\\u00" + m[1].upper()


def version_hash(
    key: str, provider: str, source: str, account: str, region: str, type: str, name: str,
    tags: str, attrs: str, encrypted: bool | None, public: bool | None, error: str | None,
) -> str:  # fmt: skip
    """The SQL macro version_hash, computed in Python: sha256 of the same to_json text.

    Ingest hashes here rather than in DuckDB (hashlib uses the CPU's SHA instructions and
    runs beside the JSON encoding it needs anyway); `verify` recomputes every hash with the
    SQL macro, so the two can never silently disagree.
    """
    doc = _DUMPS(
        {"k": key, "p": provider, "s": source, "a": account, "r": region, "t": type, "n": name,
         "tg": tags, "atr": attrs, "e": encrypted, "pu": public, "er": error}
    )  # fmt: skip
    if b"\\u00" in doc:
        doc = _ESCAPE.sub(_upper_escape, doc)
    return hashlib.sha256(doc).hexdigest()


_ENCODE_BATCH = 100_000  # resources held as Python JSON texts before they become Arrow


def _encode(resources: Iterable[Resource]) -> pa.Table:
    """Resources → an Arrow table of version rows with their doc_hash, one per key (first
    seen wins), encoded in bounded batches: a million resources never need a million
    intermediate Python strings at once."""
    import pyarrow as pa

    seen: set[str] = set()
    batches: list[pa.RecordBatch] = []
    chunk: list[Resource] = []
    for r in resources:
        if r.key not in seen:
            seen.add(r.key)
            chunk.append(r)
            if len(chunk) >= _ENCODE_BATCH:
                batches.append(_encode_batch(chunk))
                chunk = []
    if chunk or not batches:
        batches.append(_encode_batch(chunk))
    return pa.Table.from_batches(batches, _version_schema())


def encode_versions(rs: list[Resource]) -> pa.RecordBatch:
    """Resources → version rows with their doc_hash, exactly as a scan stores them (staging
    bundles write these, so an ingest only checks the hashes of documents new to the store)."""
    return _encode_batch(rs)


def _encode_batch(rs: list[Resource]) -> pa.RecordBatch:
    import pyarrow as pa

    dumps, canon = _DUMPS, _CANON
    tags = [dumps(r.tags, option=canon, default=str).decode() for r in rs]
    attrs = [dumps(r.attrs, option=canon, default=str).decode() for r in rs]
    hashes = [
        version_hash(r.key, r.provider, r.source, r.account, r.region, r.type, r.name, t, a,
                     r.encrypted, r.public, r.error)
        for r, t, a in zip(rs, tags, attrs, strict=True)
    ]  # fmt: skip
    return pa.record_batch(
        [
            hashes,
            [r.key for r in rs],
            [r.provider for r in rs],
            [r.source for r in rs],
            [r.account for r in rs],
            [r.region for r in rs],
            [r.type for r in rs],
            [r.name for r in rs],
            tags,
            attrs,
            [r.encrypted for r in rs],
            [r.public for r in rs],
            [r.error for r in rs],
        ],
        schema=_version_schema(),
    )


# The rows each sealed result covers, as one text line per row in a fixed order. NULLs are
# spelled out so that moving a value between columns changes the text.
_SEALED = {
    "findings": (
        "finding",
        "concat_ws('|', rule, resource, status, reason, severity, frameworks::VARCHAR, "
        "coalesce(lifecycle, '~'), coalesce(waiver::VARCHAR, '~'), evidence::VARCHAR, "
        "coalesce(first_seen_scan::VARCHAR, '~'))",
        "rule, resource",
    ),
    "drift": (
        "drift_result",
        "concat_ws('|', resource, coalesce(type, '~'), coalesce(provider, '~'), "
        "coalesce(source, '~'), coalesce(account, '~'), coalesce(region, '~'), kind, "
        "coalesce(desired_source, '~'), changes::VARCHAR)",
        "resource, kind",
    ),
    # One JSON object per row, so no field's text can pass for another's.
    "attestations": (
        "attestation",
        "to_json({f: framework, r: requirement, o: owner, s: statement, e: evidence, h: sha256, "
        "d: attested_on, x: expires, i: declared_in, l: line})::VARCHAR",
        "framework, requirement, attested_on, declared_in",
    ),
    "reports": (
        "report_run",
        "concat_ws('|', folder, manifest_sha256, signed::VARCHAR, coalesce(key_id, '~'), "
        "written_at::VARCHAR)",
        "written_at, folder",
    ),
}

# Which stage leaves which sealed kind: a scan with a row in the table must have a seal.
_STAGES = {
    "findings": ("check_run", "checked"),
    "drift": ("drift_run", "diffed"),
    "reports": ("report_run", "reported"),
    "attestations": ("attestation", "attested"),
}


def _result_hash(con: duckdb.DuckDBPyConnection, scan_id: int, kind: str) -> str:
    table, row, order = _SEALED[kind]
    got = _one(
        con,
        f"SELECT sha256(coalesce(string_agg({row}, chr(10) ORDER BY {order}, {row}), '')) "
        f"FROM {table} WHERE scan_id = ?",
        [scan_id],
    )
    assert got is not None
    return str(got[0])


def seal_result(con: duckdb.DuckDBPyConnection, scan_id: int, kind: str) -> None:
    """Append a seal over what is now stored as scan `scan_id`'s `kind` ("findings", "drift"
    or "reports") to the result chain; it supersedes the kind's earlier seals of that scan.

    Call inside the transaction that wrote the rows, so rows and seal land together.
    """
    chain = _one(con, "SELECT chain_hash FROM scan_ledger WHERE scan_id = ?", [scan_id])
    scan_chain = str(chain[0]) if chain else ""
    seq, prev = _results_head(con)
    seq += 1
    content = _result_hash(con, scan_id, kind)
    con.execute(
        "INSERT INTO result_chain VALUES (?, ?, ?, ?, ?, ?, ?)",
        [seq, scan_id, kind, content, scan_chain, prev,
         result_link(seq, scan_id, kind, content, scan_chain, prev)],
    )  # fmt: skip


def _results_head(con: duckdb.DuckDBPyConnection) -> tuple[int, str]:
    """(seq, link) of the newest seal in the result chain; (0, GENESIS) when there is none."""
    row = _one(con, "SELECT seq, link FROM result_chain ORDER BY seq DESC LIMIT 1")
    return (int(row[0]), str(row[1])) if row else (0, GENESIS)


def _one(con: duckdb.DuckDBPyConnection, sql: str, params: Any = None) -> tuple[Any, ...] | None:
    # fetchall, not fetchone: DuckDB refuses further work on a connection with a pending result.
    rows = con.execute(sql, params if params is not None else []).fetchall()
    return rows[0] if rows else None


def _content_hash(con: duckdb.DuckDBPyConnection, scan_id: int) -> str:
    """Hash of everything scan `scan_id` observed: its resource versions, source runs and slices."""
    row = _one(
        con,
        """
        SELECT sha256(concat_ws('|',
            (SELECT coalesce(string_agg(key || ':' || doc_hash, ',' ORDER BY key), '')
               FROM span WHERE first_scan <= $n AND (last_scan IS NULL OR last_scan >= $n)),
            (SELECT coalesce(string_agg(concat_ws(':', source, provider, status, coalesce(reason, ''),
                    resources, coalesce(identity, '')), ',' ORDER BY source), '')
               FROM source_run WHERE scan_id = $n),
            (SELECT coalesce(string_agg(key || ':' || sha256(data::VARCHAR), ',' ORDER BY key), '')
               FROM observation WHERE scan_id = $n),
            (SELECT coalesce(string_agg(concat_ws(':', source, name, status, coalesce(reason, ''),
                    coalesce(account, ''), coalesce(region, ''), array_to_string(types, ';'),
                    array_to_string(keys, ';')), ',' ORDER BY source, name), '')
               FROM slice_run WHERE scan_id = $n)))
        """,
        {"n": scan_id},
    )
    assert row is not None
    return str(row[0])


# What `driftscan query` runs. The connection cannot write anyway; this names the refusal
# (DuckDB's own message for a DELETE on a view is "Can only delete from base table"), and keeps
# SET / PRAGMA from lifting the query's memory limit.
_READS = frozenset({"SELECT", "EXPLAIN"})


def read_statements(sql: str, con: duckdb.DuckDBPyConnection) -> None:
    """Refuse SQL that is empty or holds any statement that is not a read: SELECT (with
    WITH, FROM-first, VALUES, DESCRIBE, SHOW, SUMMARIZE) or EXPLAIN."""
    try:
        # Parsed by the open connection: duckdb.extract_statements would first create the
        # module's default in-memory database, some 15 ms of `query`'s start-up.
        stmts = con.extract_statements(sql)
    except duckdb.Error as exc:
        raise StoreError(str(exc).strip()) from None
    if not stmts:
        raise StoreError("no SQL statement given")
    for stmt in stmts:
        kind = stmt.type.name
        if kind not in _READS:
            raise StoreError(
                f"driftscan query is read-only: {kind} statements are not run (SELECT, with"
                " WITH, DESCRIBE, SHOW and SUMMARIZE, and EXPLAIN are)"
            )
