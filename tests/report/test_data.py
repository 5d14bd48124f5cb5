"""build_report_data and the CLI: reading a real store into ReportData and writing a report."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from driftscan import pipeline
from driftscan.config import Config, ReportsConfig
from driftscan.report import build_report_data, verify_report_dir
from driftscan.store import Store
from driftscan.store.drift import record
from driftscan.store.findings import write_findings
from tests.conftest import make_resources, make_run, write


@pytest.fixture
def bare_store(tmp_path: Path) -> Iterator[Store]:
    """A store with two scans, neither diffed nor checked."""
    with Store(tmp_path / "s.duckdb") as st:
        write(st, [make_run(make_resources(20))])
        write(st, [make_run(make_resources(20), failed_regions=("eu-west-1",))])
        yield st


def _config(tmp_path: Path) -> Config:
    return Config(
        organisation="Acme",
        base_dir=tmp_path,
        reports=ReportsConfig(dir="out", organisation="Acme Payments"),
        params={"classification_tag": "data_class"},
    )


def test_missing_views_mean_not_evaluated(bare_store: Store, tmp_path: Path) -> None:
    """A scan never diffed nor checked has drift and findings None; the notes say "not
    evaluated"."""
    data = build_report_data(_config(tmp_path), bare_store)
    assert data.scan.scan_id == 2 and data.scan.status == "incomplete"
    assert data.drift is None and data.findings is None
    assert any(n.startswith("drift not evaluated") for n in data.notes)
    assert [s.status for s in data.slices] == ["failed", "ok"]
    assert data.organisation == "Acme Payments"
    assert [p.scan_id for p in data.trend] == [1, 2]
    assert [p.coverage_pct for p in data.trend] == [100.0, 50.0]
    assert data.trend[0].alarms is None and data.trend[0].drift is None
    assert data.chain_problems == [] and data.chain_head == data.scan.chain_hash


def test_views_are_read_into_model_objects(bare_store: Store, tmp_path: Path) -> None:
    """Stored drift and findings become Drift and Finding records, with a trend."""
    bucket = {"type": "AWS::S3::Bucket", "provider": "aws", "source": "aws-test",
              "account": "111122223333", "desired_source": "desired/s3.yaml"}  # fmt: skip
    record(bare_store, 1, drift=[
        {**bucket, "resource": "arn:aws:s3:::gone", "region": "us-east-1", "kind": "missing"},
    ])  # fmt: skip
    record(bare_store, 2, drift=[
        {**bucket, "resource": "arn:aws:s3:::bucket-000001", "region": "eu-west-1",
         "kind": "changed", "changes": [{"path": "encrypted", "desired": True, "actual": False}]},
    ])  # fmt: skip
    checked = {"rules": ["enc"], "rules_hash": "r" * 64, "evaluated_at": datetime(2026, 1, 1)}
    write_findings(bare_store, 1, [], **checked)
    write_findings(bare_store, 2, [
        {"rule": "enc", "resource": "arn:aws:s3:::bucket-000001", "status": "alarm",
         "reason": "not encrypted", "severity": "high", "frameworks": {"pci-dss-4.0.1": ["3.5.1"]},
         "lifecycle": "new", "waiver": None, "evidence": {"sse": "none"}, "first_seen_scan": 2},
        {"rule": "enc", "resource": "arn:aws:s3:::bucket-000002", "status": "not_assessed",
         "reason": "eu-west-1 denied", "severity": "high", "frameworks": {}, "lifecycle": None,
         "waiver": None, "evidence": {}, "first_seen_scan": None},
    ], **checked)  # fmt: skip
    data = build_report_data(_config(tmp_path), bare_store, 2, verify_chain=False)
    assert data.drift is not None and data.findings is not None
    assert data.drift[0].changes == [{"path": "encrypted", "desired": True, "actual": False}]
    assert [f.status for f in data.findings] == ["alarm", "not_assessed"]
    assert data.findings[0].frameworks == {"pci-dss-4.0.1": ["3.5.1"]}
    assert data.findings[0].evidence == {"sse": "none"}
    assert [(p.scan_id, p.alarms, p.drift) for p in data.trend] == [(1, 0, 1), (2, 1, 1)]


def test_pipeline_report_chains_and_compares_with_previous(
    bare_store: Store, tmp_path: Path
) -> None:
    """pipeline.report writes a sealed folder; the next report compares with and links to it."""
    cfg = _config(tmp_path)
    first = pipeline.report(cfg, bare_store, 1, ["json", "csv"])
    second = pipeline.report(cfg, bare_store, None, ["json", "html"])
    assert first.folder == tmp_path / "out" / "scan-000001"
    assert verify_report_dir(tmp_path / "out") == []
    doc = json.loads((second.folder / "report.json").read_text())
    ch = doc["changes_since_previous"]
    assert ch["previous_scan"] == 1 and ch["delta"]["coverage_pct"] == -50.0
    assert doc["report"]["period"]["from"] == bare_store.scan(1).finished_at.isoformat()


def test_cli_report_and_verify_report(bare_store: Store, tmp_path: Path) -> None:
    """`driftscan report` prints the new folder; `driftscan verify-report` accepts it, then not."""
    from driftscan.cli import app

    path = bare_store.path
    bare_store.close()
    runner = CliRunner()
    out = tmp_path / "cli-out"
    res = runner.invoke(
        app, ["report", "--store", str(path), "-c", str(tmp_path / "none.yaml"),
              "--format", "json,csv", "--out", str(out)],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    folder = Path(res.stdout.strip().splitlines()[0])
    assert folder.parent == out and (folder / "report.json").is_file()
    assert runner.invoke(app, ["verify-report", str(folder)]).exit_code == 0
    (folder / "coverage.csv").write_text("scan\n")
    bad = runner.invoke(app, ["verify-report", str(folder)])
    assert bad.exit_code == 1 and "coverage.csv: altered" in bad.stdout
    assert runner.invoke(app, ["report", "--store", str(path), "--format", "docx"]).exit_code == 2


def test_undiffed_scan_is_not_evaluated_with_the_drift_engines_schema(tmp_path: Path) -> None:
    """A scan without a drift run reads as None, not as []."""
    with Store(tmp_path / "s.duckdb") as st:
        write(st, [make_run(make_resources(4))])
        write(st, [make_run(make_resources(4))])
        _insert(st, "drift_run", {"scan_id": 1})
        _insert(st, "drift_result", {"scan_id": 1, "resource": "arn:aws:s3:::x",
                                     "kind": "missing", "changes": "[]"})  # fmt: skip
        one = build_report_data(_config(tmp_path), st, 1, verify_chain=False)
        two = build_report_data(_config(tmp_path), st, 2, verify_chain=False)
    assert one.drift is not None and [d.resource for d in one.drift] == ["arn:aws:s3:::x"]
    assert two.drift is None and any(n.startswith("drift not evaluated") for n in two.notes)
    assert [(p.scan_id, p.drift) for p in two.trend] == [(1, 1), (2, None)]


def _insert(st: Store, table: str, given: dict[str, object]) -> None:
    """One row into another engine's table by column name, defaults by type for the rest."""
    cols = st.rows(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ?",
        [table],
    )
    fill = {"BIGINT": 0, "INTEGER": 0, "DOUBLE": 0.0, "BOOLEAN": False, "JSON": "[]"}
    names, values = [], []
    for c in cols:
        name, typ = c["column_name"], c["data_type"]
        names.append(name)
        if name in given:
            values.append(given[name])
        elif typ.startswith("TIMESTAMP"):
            values.append(datetime(2026, 1, 1))
        else:
            values.append(fill.get(typ, ""))
    marks = ", ".join("?" for _ in names)
    st.con.execute(f"INSERT INTO {table} ({', '.join(names)}) VALUES ({marks})", values)
