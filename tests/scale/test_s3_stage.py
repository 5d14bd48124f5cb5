"""`--stage s3://bucket/prefix`: shard workers upload their bundles to S3 (moto) and ingest reads them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
import yaml
from typer.testing import CliRunner, Result

import driftscan.cli  # noqa: F401 - registers every command
from driftscan.clikit import app
from driftscan.sandbox.aws import ENV, MotoServer
from driftscan.sandbox.hosts import Fleet, synthetic_profiles

BUCKET = "driftscan-stage"


def cli(*args: str) -> Result:
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoServer]:
    server = MotoServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def s3(moto: MotoServer, monkeypatch: pytest.MonkeyPatch) -> object:
    """boto3 pointed at the moto server with dummy credentials; a fresh bucket."""
    for k in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_CONFIG_FILE"):
        monkeypatch.delenv(k, raising=False)
    for k, v in ENV.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", moto.endpoint_url)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    client = boto3.client("s3")
    if BUCKET not in [b["Name"] for b in client.list_buckets()["Buckets"]]:
        client.create_bucket(Bucket=BUCKET)
    for obj in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=obj["Key"])
    return client


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    with Fleet(synthetic_profiles(5, packages=20), workdir=tmp_path_factory.mktemp("f")) as f:
        yield f


def config(folder: Path, fleet: Fleet) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    src = fleet.source("dc1", timeout_s=5).model_dump(mode="json")
    src["type"] = "ssh"
    cfg = folder / "driftscan.yaml"
    cfg.write_text(yaml.safe_dump({"store": str(folder / "s.duckdb"), "sources": [src]}))
    return cfg


def keys(cfg: Path) -> list[dict[str, object]]:
    res = cli(
        "query",
        "select key, doc_hash, assessed from resources order by key",
        "-c",
        str(cfg),
        "-f",
        "json",
    )
    return list(json.loads(res.stdout))


def test_shards_staged_in_s3_ingest_like_one_scan(s3: object, fleet: Fleet, tmp_path: Path) -> None:
    """Two shards upload to s3://bucket/nightly; the ingest of that URL stores what one
    unsharded scan stores, and the objects are the run's bundle files, manifest included."""
    one = config(tmp_path / "one", fleet)
    assert cli("scan", "-c", str(one), "-q").exit_code == 0
    cfg = config(tmp_path / "two", fleet)
    for k in (1, 2):
        res = cli(
            "scan",
            "-c",
            str(cfg),
            "-q",
            "--shard",
            f"{k}/2",
            "--stage",
            f"s3://{BUCKET}/nightly",
            "--run-id",
            "n1",
            "-f",
            "json",
        )
        assert res.exit_code == 0, res.output
        assert json.loads(res.stdout)["bundle"] == f"s3://{BUCKET}/nightly/n1/shard-{k}-of-2"
    names = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"])  # type: ignore[attr-defined]
    assert "nightly/n1/shard-1-of-2/manifest.json" in names
    assert all(n.startswith("nightly/n1/shard-") for n in names)
    res = cli("ingest", f"s3://{BUCKET}/nightly", "-c", str(cfg), "-f", "json")
    assert res.exit_code == 0, res.output
    assert keys(cfg) == keys(one) and len(keys(one)) == 5


def test_a_shard_missing_from_s3_is_not_assessed(s3: object, fleet: Fleet, tmp_path: Path) -> None:
    """A shard whose Parquet file never reached S3: exit 3, its hosts not assessed."""
    cfg = config(tmp_path / "c", fleet)
    for k in (1, 2):
        assert (
            cli(
                "scan",
                "-c",
                str(cfg),
                "-q",
                "--shard",
                f"{k}/2",
                "--stage",
                f"s3://{BUCKET}/p",
                "--run-id",
                "n2",
            ).exit_code
            == 0
        )
    # The shard that holds hosts (with five, the hash may give all of them to one).
    bodies = {
        k: s3.get_object(Bucket=BUCKET, Key=f"p/n2/shard-{k}-of-2/manifest.json")  # type: ignore[attr-defined]
        for k in (1, 2)
    }
    full = [k for k, o in bodies.items() if json.loads(o["Body"].read())["files"]]
    gone = f"p/n2/shard-{full[0]}-of-2/resources.parquet"
    s3.delete_object(Bucket=BUCKET, Key=gone)  # type: ignore[attr-defined]
    res = cli("ingest", f"s3://{BUCKET}/p", "-c", str(cfg), "-f", "json")
    assert res.exit_code == 3, res.output
    doc = json.loads(res.stdout)
    assert any("missing from the bundle" in p for p in doc["problems"])
    stored = keys(cfg)
    assert len(stored) < 5  # only the other shard's hosts: this store had no earlier scan
    failed = json.loads(
        cli(
            "query",
            "select count(*) n from slices where status = 'failed'",
            "-c",
            str(cfg),
            "-f",
            "json",
        ).stdout
    )
    assert failed[0]["n"] == 5 - len(stored)


def test_a_malformed_s3_url_is_a_usage_error(fleet: Fleet, tmp_path: Path) -> None:
    """--stage s3:// without a valid bucket fails before collecting, naming the option."""
    cfg = config(tmp_path / "c", fleet)
    res = cli("scan", "-c", str(cfg), "--shard", "1/2", "--stage", "s3://")
    assert res.exit_code == 2 and "s3://bucket/prefix" in res.output
