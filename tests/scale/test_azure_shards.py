"""Azure subscriptions as work units: shards of the ARM emulator's estate ingest like one scan."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner, Result

import driftscan.cli  # noqa: F401 - registers every command
from driftscan.clikit import app
from driftscan.sandbox.arm import SUB_DEV, SUB_PROD, ArmEmulator
from driftscan.stage import unit_shard
from tests.collect.azure.conftest import arm, arm_server, make_source  # noqa: F401 - fixtures


def cli(*args: str) -> Result:
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def config(folder: Path, emulator: ArmEmulator) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    src = make_source(emulator, subscriptions=[SUB_PROD, SUB_DEV.upper()])
    cfg = folder / "driftscan.yaml"
    cfg.write_text(
        yaml.safe_dump(
            {"store": str(folder / "s.duckdb"), "sources": [src.model_dump(mode="json")]}
        )
    )
    return cfg


def stored(cfg: Path) -> dict[str, Any]:
    def q(sql: str) -> list[dict[str, Any]]:
        res = cli("query", sql, "-c", str(cfg), "-f", "json")
        assert res.exit_code == 0, res.output
        return list(json.loads(res.stdout))

    return {
        "resources": q("select key, doc_hash, assessed from resources order by key"),
        "slices": q("select name, status, account from slices order by name"),
    }


def test_subscription_shards_ingest_like_one_scan(
    arm: ArmEmulator,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each listed subscription is read by the shard it hashes to; ingested, the two shards
    store the resources and slices one scan of both subscriptions stores."""
    # One fingerprint key for both stores, so app settings' secrets fingerprint alike.
    monkeypatch.setenv("DRIFTSCAN_FINGERPRINT_KEY", os.urandom(16).hex())
    one = config(tmp_path / "one", arm)
    first = cli("scan", "-c", str(one), "-q")
    assert first.exit_code in (0, 3), first.output
    two = config(tmp_path / "two", arm)
    stage = tmp_path / "stage"
    for k in (1, 2):
        res = cli(
            "scan",
            "-c",
            str(two),
            "-q",
            "--shard",
            f"{k}/2",
            "--stage",
            str(stage),
            "--run-id",
            "az",
            "-f",
            "json",
        )
        assert res.exit_code == first.exit_code, res.output
    units = [
        set(json.loads((stage / "az" / f"shard-{k}-of-2" / "manifest.json").read_text())["units"])
        for k in (1, 2)
    ]
    want = {sub.lower(): unit_shard("azure-test", sub.lower(), 2) for sub in (SUB_PROD, SUB_DEV)}
    for sub, k in want.items():
        assert f"azure-test:{sub}" in units[k - 1]
    res = cli("ingest", str(stage), "-c", str(two), "-f", "json")
    assert res.exit_code == first.exit_code, res.output
    a, b = stored(one), stored(two)
    assert len(a["resources"]) > 10
    assert a == b


def test_a_missing_subscription_shard_keeps_it_not_assessed(
    arm: ArmEmulator,  # noqa: F811
    tmp_path: Path,
) -> None:
    """The shard holding prod never arrives: prod is a failed slice by its subscription, its
    resources stay stored but not assessed, dev's are assessed; exit 3."""
    cfg = config(tmp_path / "c", arm)
    assert cli("scan", "-c", str(cfg), "-q").exit_code in (0, 3)
    stage = tmp_path / "stage"
    for k in (1, 2):
        cli(
            "scan",
            "-c",
            str(cfg),
            "-q",
            "--shard",
            f"{k}/2",
            "--stage",
            str(stage),
            "--run-id",
            "m",
        )
    prod = SUB_PROD.lower()
    gone = stage / "m" / f"shard-{unit_shard('azure-test', prod, 2)}-of-2"
    for f in gone.iterdir():
        f.unlink()
    gone.rmdir()
    res = cli("ingest", str(stage), "-c", str(cfg), "-f", "json")
    assert res.exit_code == 3, res.output
    got = stored(cfg)
    failed = [s for s in got["slices"] if s["status"] == "failed"]
    assert {s["account"] for s in failed} >= {prod}

    def of(sub: str) -> list[bool]:
        return [
            r["assessed"] for r in got["resources"] if r["key"].startswith(f"/subscriptions/{sub}/")
        ]

    assert of(prod) and not any(of(prod))
    if unit_shard("azure-test", SUB_DEV.lower(), 2) != unit_shard("azure-test", prod, 2):
        assert of(SUB_DEV.lower()) and all(of(SUB_DEV.lower()))
