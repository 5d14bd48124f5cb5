"""`driftscan scan` against a real HTTP moto server: storage, coverage, secrets, history, chain."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
from typer.testing import Result

from driftscan.providers.aws.collect.services import SERVICES
from driftscan.sandbox.aws import CREDENTIALS, AwsSandbox, FaultProxy
from driftscan.store import Store
from tests.collect.aws.test_collector import TYPES


def _query(cli: Callable[..., Result], cfg: Path, sql: str) -> list[dict[str, Any]]:
    res = cli("query", sql, "-c", str(cfg), "--format", "json")
    assert res.exit_code == 0, res.output
    return list(json.loads(res.stdout))


def test_scan_stores_both_regions_and_every_type(
    cli: Callable[..., Result], config_file: Callable[..., Path]
) -> None:
    """A complete scan exits 0 and stores every resource type from both regions."""
    cfg = config_file()
    res = cli("scan", "-c", str(cfg), "--format", "json")
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["status"] == "complete"
    rows = _query(
        cli, cfg, "select type, region, count(*) n from resources where assessed group by all"
    )
    assert {r["type"] for r in rows} == TYPES
    assert {r["region"] for r in rows if r["type"] == "AWS::EC2::Instance"} == {
        "us-east-1",
        "eu-west-1",
    }
    ledger = json.loads(cli("scans", "-c", str(cfg), "--format", "json").stdout)
    assert ledger[0]["status"] == "complete" and ledger[0]["coverage_pct"] == 100.0
    [run] = _query(cli, cfg, "select identity from source_runs")
    assert run["identity"].startswith("arn:aws:"), run  # who the scan ran as, for the evidence


def test_denied_service_is_incomplete_and_the_rest_stored(
    cli: Callable[..., Result], config_file: Callable[..., Path], faults: FaultProxy
) -> None:
    """AccessDenied on one service gives exit 3, its slices not assessed, the others stored."""
    cfg = config_file()
    faults.deny("rds")
    res = cli("scan", "-c", str(cfg), "--format", "json")
    assert res.exit_code == 3, res.output
    doc = json.loads(res.stdout)
    assert doc["status"] == "incomplete"
    failed = _query(cli, cfg, "select name, reason from slices where status = 'failed'")
    assert failed and all(s["reason"] == "denied" and s["name"].endswith("/rds") for s in failed)
    stored = {
        r["type"] for r in _query(cli, cfg, "select distinct type from resources where assessed")
    }
    rds = {s.type for svc in SERVICES if svc.client == "rds" for s in svc.resources}
    assert TYPES - stored == rds


def test_throttling_that_recovers_is_complete(
    cli: Callable[..., Result], config_file: Callable[..., Path], faults: FaultProxy
) -> None:
    """Throttling that clears within the retries still gives a complete scan."""
    cfg = config_file()
    faults.throttle("ec2", times=1)
    res = cli("scan", "-c", str(cfg), "--format", "json")
    assert res.exit_code == 0, res.output


def test_secret_canaries_never_reach_the_store_file(
    cli: Callable[..., Result], config_file: Callable[..., Path], aws: AwsSandbox, tmp_path: Path
) -> None:
    """The user-data and Lambda-environment canaries appear nowhere in the DuckDB file's bytes."""
    cfg = config_file()
    assert cli("scan", "-c", str(cfg)).exit_code == 0
    blobs = b"".join(p.read_bytes() for p in tmp_path.glob("driftscan.duckdb*"))
    assert blobs, "the store file is empty"
    assert aws.estate.canary.encode() not in blobs
    assert b"sha256:" in blobs  # the fingerprints are there instead


def test_full_cli_scan_makes_only_read_calls(
    cli: Callable[..., Result], config_file: Callable[..., Path], read_only: dict[str, list[str]]
) -> None:
    """Across a whole CLI scan every AWS operation is a Describe, List or Get."""
    assert cli("scan", "-c", str(config_file())).exit_code == 0
    assert read_only["calls"] and not read_only["violations"]


def test_unchanged_rescan_then_change_shows_in_history(
    cli: Callable[..., Result], config_file: Callable[..., Path], aws: AwsSandbox, tmp_path: Path
) -> None:
    """An unchanged rescan adds no versions; a changed bucket shows its change in `history`."""
    cfg = config_file()
    assert cli("scan", "-c", str(cfg)).exit_code == 0
    versions = _query(cli, cfg, "select count(*) n from resource_versions")[0]["n"]
    assert cli("scan", "-c", str(cfg)).exit_code == 0
    assert _query(cli, cfg, "select count(*) n from resource_versions")[0]["n"] == versions

    bucket = sorted(k for k in aws.estate.keys["AWS::S3::Bucket"])[0]
    name = bucket.rsplit(":", 1)[-1]
    s3 = boto3.client(
        "s3", endpoint_url=aws.moto.endpoint_url, region_name="us-east-1", **CREDENTIALS
    )
    status = s3.get_bucket_versioning(Bucket=name).get("Status")
    s3.put_bucket_versioning(
        Bucket=name,
        VersioningConfiguration={"Status": "Suspended" if status == "Enabled" else "Enabled"},
    )
    assert cli("scan", "-c", str(cfg)).exit_code == 0
    res = cli("history", bucket, "-c", str(cfg), "--format", "json")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert [v["first_scan"] for v in doc["versions"]] == [1, 3]
    paths = [c["path"] for c in doc["versions"][1]["changes"]]
    assert any("versioning" in p for p in paths), paths


def test_verify_catches_tampering(
    cli: Callable[..., Result], config_file: Callable[..., Path], tmp_path: Path
) -> None:
    """verify passes on an untouched store and names the altered resource after tampering."""
    cfg = config_file()
    assert cli("scan", "-c", str(cfg)).exit_code == 0
    assert cli("scan", "-c", str(cfg)).exit_code == 0
    assert cli("verify", "-c", str(cfg)).exit_code == 0
    with Store(tmp_path / "driftscan.duckdb") as st:
        key = st.query("select key from version where type = 'AWS::RDS::DBInstance' limit 1")[1][0][
            0
        ]
        st.con.execute(
            "update version set public = not coalesce(public, false) where key = ?", [key]
        )
    res = cli("verify", "-c", str(cfg))
    assert res.exit_code == 1
    assert key in res.stdout and "altered" in res.stdout
