"""`driftscan export`: Hive-partitioned Parquet of every scan, incremental, hashed, and read back
by pyspark in local mode with the same answer DuckDB gives."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from driftscan.cli import app
from driftscan.store import Store
from driftscan.store.export import MANIFEST, export_parquet, verify_export
from tests.compliance.conftest import aws, azure, check, host, write_scan

PCI = {"pci": "true"}


def _estate(store: Store) -> tuple[int, int]:
    """Two scans: a bucket is deleted and a disk loses its encryption between them."""
    first = write_scan(store, [
        aws("AWS::S3::Bucket", "kept", tags=PCI, encrypted=True, public=False),
        aws("AWS::S3::Bucket", "deleted-later", tags=PCI, encrypted=True, public=False),
        aws("AWS::EC2::Volume", "vol-1", tags=PCI, encrypted=True),
        azure("Microsoft.Compute/disks", "disk-1", tags=PCI, encrypted=True),
        host("web-01"),
    ], day=0)  # fmt: skip
    check(store, scan_id=first)
    second = write_scan(store, [
        aws("AWS::S3::Bucket", "kept", tags=PCI, encrypted=True, public=True),
        aws("AWS::EC2::Volume", "vol-1", tags=PCI, encrypted=True),
        azure("Microsoft.Compute/disks", "disk-1", tags=PCI, encrypted=False),
        host("web-01"),
    ], day=1)  # fmt: skip
    check(store, scan_id=second)
    return first, second


def _rows(folder: Path) -> list[dict[str, Any]]:
    return pq.read_table(folder).to_pylist() if folder.exists() else []


def test_export_partitions_every_table_by_scan(store: Store, tmp_path: Path) -> None:
    """resources as of each scan by scan_id/provider; drift, findings, slices by scan_id; the
    ledger; and a manifest whose hashes match the files."""
    first, second = _estate(store)
    out = tmp_path / "export"
    result = export_parquet(store, out, [first, second])
    assert result.exported == [first, second] and result.skipped == []
    res = out / "resources"
    assert sorted(p.name for p in res.iterdir()) == [f"scan_id={first}", f"scan_id={second}"]
    assert sorted(p.name for p in (res / f"scan_id={first}").iterdir()) == [
        "provider=aws", "provider=azure", "provider=ssh"]  # fmt: skip
    assert all(p.name.startswith("part-") for p in res.rglob("*.parquet"))
    # The partition columns live in the path, not the file (Hive layout).
    aws1 = _rows(res / f"scan_id={first}" / "provider=aws")
    assert "scan_id" not in aws1[0] and "provider" not in aws1[0]
    names = lambda n: sorted(r["name"] for r in _rows(res / f"scan_id={n}" / "provider=aws"))  # noqa: E731
    assert names(first) == ["deleted-later", "kept", "vol-1"]
    assert names(second) == ["kept", "vol-1"]
    # JSON columns are text other engines can parse.
    assert json.loads(aws1[0]["tags"]) == PCI
    for table in ("findings", "slices"):
        assert {p.name for p in (out / table).iterdir()} == {
            f"scan_id={first}",
            f"scan_id={second}",
        }
    found = {(r["rule"], r["resource"].rsplit(":", 1)[-1]): r["status"]
             for r in _rows(out / "findings" / f"scan_id={second}")}  # fmt: skip
    assert found[("pci_storage_not_public", "kept")] == "alarm"
    assert [r["scan_id"] for r in _rows(out / "scans")] == [first, second]

    manifest = json.loads((out / MANIFEST).read_text())
    assert set(manifest["scans"]) == {str(first), str(second)}
    on_disk = {p.relative_to(out).as_posix() for p in out.rglob("*.parquet")}
    assert set(manifest["files"]) == on_disk
    assert verify_export(out) == []


def test_export_is_incremental_and_tamper_evident(store: Store, tmp_path: Path) -> None:
    first, second = _estate(store)
    out = tmp_path / "export"
    export_parquet(store, out, [first])
    before = {p: p.stat().st_mtime_ns for p in (out / "resources").rglob("*.parquet")}
    again = export_parquet(store, out, [first, second])
    assert again.exported == [second] and again.skipped == [first]
    # Scan 1's files were not rewritten.
    assert all(p.stat().st_mtime_ns == t for p, t in before.items())
    assert export_parquet(store, out).exported == []  # the latest is already there

    victim = next((out / "findings" / f"scan_id={first}").glob("*.parquet"))
    victim.write_bytes(victim.read_bytes()[:-10] + b"0123456789")
    (out / "stray.parquet").write_bytes(b"PAR1")
    problems = verify_export(out)
    assert any("altered" in p and victim.name in p for p in problems)
    assert "stray.parquet: not in the manifest" in problems


def test_cli_export(store_path: Path, tmp_path: Path) -> None:
    with Store(store_path) as st:
        first, second = _estate(st)
    out = tmp_path / "export"
    runner = CliRunner()
    res = runner.invoke(app, ["export", "--store", str(store_path), "--out", str(out), "--all"])
    assert res.exit_code == 0, res.output
    assert f"exported scan(s) {first}, {second}" in res.output
    res = runner.invoke(
        app, ["export", "--store", str(store_path), "--out", str(out), "--scan", "9"]
    )
    assert res.exit_code != 0 and "no scan 9" in res.output
    res = runner.invoke(app, ["export", "--store", str(store_path), "--out", str(out), "--verify"])
    assert res.exit_code == 0 and "every file matches" in res.output
    (out / MANIFEST).write_text("{}")
    res = runner.invoke(app, ["export", "--store", str(store_path), "--out", str(out), "--all"])
    assert res.exit_code == 2 and "not a driftscan export manifest" in res.output


# -- read back by Spark -------------------------------------------------------------------------

SPARK_QUERY = """
SELECT scan_id, provider, count(*) AS unencrypted
FROM resources WHERE encrypted = false AND assessed
GROUP BY scan_id, provider ORDER BY scan_id, provider
"""


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.skip("pyspark needs a Java runtime (apt-get install default-jre-headless)")
    pyspark_sql = pytest.importorskip("pyspark.sql", reason="pyspark is in the `spark` test extra")
    session = (
        pyspark_sql.SparkSession.builder.master("local[1]").appName("driftscan-export-test")
        .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "1")
        .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
        .getOrCreate()
    )  # fmt: skip
    session.sparkContext.setLogLevel("ERROR")
    try:
        yield session
    finally:
        session.stop()


@pytest.mark.slow
def test_spark_reads_the_export(store: Store, tmp_path: Path, spark: Any) -> None:
    """spark.read.parquet with partition discovery; a rule-equivalent query equals DuckDB's."""
    first, second = _estate(store)
    out = tmp_path / "export"
    export_parquet(store, out, [first, second])
    df = spark.read.parquet(str(out / "resources"))
    assert {"scan_id", "provider", "key", "encrypted", "assessed"} <= set(df.columns)
    df.createOrReplaceTempView("resources")
    got = [tuple(r) for r in spark.sql(SPARK_QUERY).collect()]
    want = store.con.execute(f"""
        SELECT scan_id, provider, count(*) FROM (
            SELECT * FROM resources_at({first}) UNION ALL SELECT * FROM resources_at({second}))
        WHERE encrypted = false AND assessed GROUP BY ALL ORDER BY ALL""").fetchall()  # fmt: skip
    assert got == [tuple(r) for r in want] == [(second, "azure", 1)]
    findings = spark.read.parquet(str(out / "findings"))
    alarms = findings.filter("status = 'alarm'").groupBy("scan_id").count().orderBy("scan_id")
    duck = store.con.execute(
        "SELECT scan_id, count(*) FROM findings WHERE status = 'alarm' GROUP BY ALL ORDER BY ALL"
    ).fetchall()
    assert [tuple(r) for r in alarms.collect()] == [tuple(r) for r in duck]
