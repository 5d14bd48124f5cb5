"""Bundles as files: what read_bundle refuses, and a sealed bundle whose hashes lie."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from driftscan.model import Resource, Slice, SourceRun, sha256_file
from driftscan.redaction import Fingerprinter
from driftscan.stage import BundleWriter, read_bundle, write_manifest
from driftscan.stage.bundle import MANIFEST, RESOURCES
from driftscan.store import Store

KEY = Fingerprinter(b"k" * 32)


def resources(n: int) -> list[Resource]:
    return [
        Resource(
            f"ssh://h{i}",
            "ssh",
            "dc1",
            "dc1",
            "site",
            "host",
            f"h{i}",
            attrs={"i": i},
            observed={"clock": i} if i % 2 else {},
        )
        for i in range(n)
    ]


def bundle(folder: Path, rs: list[Resource], *, batch: int = 3) -> Path:
    writer = BundleWriter(folder, batch=batch)
    for r in rs:
        writer.add([r])
    entry = writer.close()
    run = SourceRun("dc1", "ssh", spooled=len(rs))
    run.slices = [Slice("dc1", "ssh", r.name, account="dc1", keys=[r.key]) for r in rs]
    now = datetime.now(UTC)
    write_manifest(
        folder,
        run_id="r",
        shard=(1, 1),
        config_hash="c",
        tool_version="t",
        started_at=now,
        finished_at=now,
        units=[],
        runs=[run],
        files=[entry] if entry else [],
        fingerprint=KEY,
    )
    return folder


def test_resources_are_streamed_in_batches_with_their_observations(tmp_path: Path) -> None:
    """Ten resources in batches of three: one file of ten rows in four row groups, each with
    its doc_hash and observed text; the manifest names its SHA-256."""
    folder = bundle(tmp_path / "b", resources(10))
    f = pq.ParquetFile(folder / RESOURCES)
    assert f.metadata.num_rows == 10 and f.metadata.num_row_groups == 4
    rows = f.read().to_pylist()
    assert [r["key"] for r in rows] == [f"ssh://h{i}" for i in range(10)]
    assert rows[1]["observed"] == '{"clock":1}' and rows[0]["observed"] is None
    assert all(len(r["doc_hash"]) == 64 for r in rows)
    b = read_bundle(folder, KEY)
    assert b.ok and b.manifest is not None
    assert b.manifest.files[0].sha256 == sha256_file(folder / RESOURCES)


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda d: (d / MANIFEST).write_text("{not json"), "not valid JSON"),
        (lambda d: (d / MANIFEST).write_text("[]"), "not valid JSON"),
        (lambda d: _edit(d, lambda m: m.update(shard=[3, 2])), "is not a shard number"),
        (lambda d: _edit(d, lambda m: m["files"][0].update(path="../x")), "key 'files.0.path'"),
        (lambda d: _edit(d, lambda m: m.update(extra=1)), "key 'extra'"),
        (lambda d: (d / RESOURCES).unlink(), "missing from the bundle"),
        (lambda d: _edit(d, lambda m: m.update(key_id="other")), "fingerprinted with key other"),
    ],
    ids=["json", "not-object", "shard", "path", "unknown-key", "file-gone", "other-key"],
)
def test_read_bundle_names_what_is_wrong(tmp_path: Path, damage: object, message: str) -> None:
    """A damaged bundle is not ok, and the problem names the file and what is wrong."""
    folder = bundle(tmp_path / "b", resources(2))
    damage(folder)  # type: ignore[operator]
    b = read_bundle(folder, KEY)
    assert not b.ok
    assert any(message in p and str(folder) in p for p in b.problems), b.problems


def _edit(folder: Path, change: object) -> None:
    doc = json.loads((folder / MANIFEST).read_text())
    change(doc)  # type: ignore[operator]
    (folder / MANIFEST).write_text(json.dumps(doc))


def test_a_sealed_bundle_whose_hashes_lie_is_refused_and_nothing_is_stored(
    tmp_path: Path,
) -> None:
    """A worker that sealed rows whose doc_hash is not their content's (a bug, or another
    version's scheme): the ingest raises naming the resource, and the store keeps no scan."""
    folder = tmp_path / "b"
    bundle(folder, resources(3))
    table = pq.read_table(folder / RESOURCES)
    hashes = table.column("doc_hash").to_pylist()
    hashes[1] = "0" * 64
    import pyarrow as pa

    table = table.set_column(0, "doc_hash", pa.array(hashes, pa.string()))
    pq.write_table(table, folder / RESOURCES)
    run = SourceRun("dc1", "ssh", spooled=3)
    run.slices = [Slice("dc1", "ssh", "*", account="dc1")]
    now = datetime.now(UTC)
    entry = {
        "path": RESOURCES,
        "sha256": sha256_file(folder / RESOURCES),
        "rows": 3,
        "bytes": (folder / RESOURCES).stat().st_size,
    }
    write_manifest(
        folder,
        run_id="r",
        shard=(1, 1),
        config_hash="c",
        tool_version="t",
        started_at=now,
        finished_at=now,
        units=[],
        runs=[run],
        files=[entry],
        fingerprint=KEY,
    )
    b = read_bundle(folder, KEY)
    assert b.ok, b.problems  # the seal holds: only the store's check can catch it
    from driftscan.errors import StoreError

    with Store(tmp_path / "s.duckdb") as st:
        with pytest.raises(StoreError, match="ssh://h1"):
            st.write_scan(
                b.runs(), started_at=now, finished_at=now, tool_version="t", staged=b.files
            )
        assert st.scans() == []
        assert st.rows("select count(*) n from version") == [{"n": 0}]


def test_a_sealed_bundle_of_foreign_columns_is_refused(tmp_path: Path) -> None:
    """A sealed, hashed file that is not resource rows (other columns): read_bundle says so,
    and the store refuses it with a StoreError rather than an internal error."""
    import pyarrow as pa

    from driftscan.errors import StoreError

    folder = tmp_path / "b"
    folder.mkdir()
    pq.write_table(pa.table({"key": ["k"], "x": [1]}), folder / RESOURCES)
    entry = {
        "path": RESOURCES,
        "sha256": sha256_file(folder / RESOURCES),
        "rows": 1,
        "bytes": (folder / RESOURCES).stat().st_size,
    }
    now = datetime.now(UTC)
    write_manifest(
        folder,
        run_id="r",
        shard=(1, 1),
        config_hash="c",
        tool_version="t",
        started_at=now,
        finished_at=now,
        units=[],
        runs=[],
        files=[entry],
        fingerprint=KEY,
    )
    b = read_bundle(folder, KEY)
    assert any("are not a bundle's" in p for p in b.problems), b.problems
    with Store(tmp_path / "s.duckdb") as st, pytest.raises(StoreError, match="not a bundle"):
        st.write_scan([], started_at=now, finished_at=now, tool_version="t", staged=b.files)


def test_a_key_in_two_bundles_is_stored_once(tmp_path: Path) -> None:
    """Two bundles both holding h1 (shards that overlap, or a global resource two workers
    read): the scan stores one version of it, the first bundle's, and the transaction that
    de-duplicated them commits (its temporary table dropped as a table, not as a view)."""
    first = read_bundle(bundle(tmp_path / "a", resources(3)), KEY)
    again = resources(2)
    again[1].attrs = {"i": "second bundle"}
    second = read_bundle(bundle(tmp_path / "b", again), KEY)
    now = datetime.now(UTC)
    with Store(tmp_path / "s.duckdb") as st:
        rec = st.write_scan(
            first.runs(), started_at=now, finished_at=now, tool_version="t",
            staged=[*first.files, *second.files],
        )  # fmt: skip
        assert rec.resources == 3
        rows = st.rows("select key, attrs->>'i' AS i from resources order by key")
        assert rows == [{"key": f"ssh://h{i}", "i": str(i)} for i in range(3)]
        assert [s.scan_id for s in st.scans()] == [1]
