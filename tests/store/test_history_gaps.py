"""A resource's history shows when it disappeared and reappeared, not only its versions."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from typer.testing import CliRunner

import driftscan.cli  # noqa: F401  (registers the commands)
from driftscan import pipeline
from driftscan.clikit import app
from driftscan.store import Store
from tests.compliance.conftest import ACCOUNT, aws, failed_slice, write_scan

B = aws("AWS::S3::Bucket", "b", public=False, encrypted=True)
OTHER = aws("AWS::S3::Bucket", "other")


def test_gone_then_back_then_changed(tmp_path: Path) -> None:
    """Present in scans 1-2, absent from the read scan 3, back in 4, changed in 5, gone in 6."""
    changed = aws("AWS::S3::Bucket", "b", public=True, encrypted=True)
    with Store(tmp_path / "s.duckdb") as st:
        for day, present in enumerate([[B], [B], [], [B], [changed], []]):
            write_scan(st, [OTHER, *present], day=day, sources=("aws-prod",))
        versions = pipeline.history(st, B.key)
    assert [(v.entry.first_scan, v.entry.last_scan) for v in versions] == [(1, 2), (4, 4), (5, 5)]
    assert [v.gone_scan for v in versions] == [3, None, 6]
    assert [v.reappeared for v in versions] == [False, True, False]
    assert (
        versions[0].gone_at is not None
        and versions[0].gone_at.day == versions[0].entry.first_seen.day + 2
    )  # type: ignore[union-attr]


def test_an_unread_slice_is_not_a_disappearance(tmp_path: Path) -> None:
    """A scan that could not read the resource's slice carries it forward: no gap."""
    with Store(tmp_path / "s.duckdb") as st:
        write_scan(st, [OTHER, B], day=0)
        write_scan(st, [OTHER], day=1, failed=[failed_slice(
            "aws-prod", "eu", account=ACCOUNT, region="eu-west-1")])  # fmt: skip
        write_scan(st, [OTHER, B], day=2)
        versions = pipeline.history(st, B.key)
    assert [(v.gone_scan, v.reappeared) for v in versions] == [(None, False)]


def test_history_command_shows_the_gap(tmp_path: Path) -> None:
    cfg = tmp_path / "driftscan.yaml"
    cfg.write_text(yaml.safe_dump({"store": "s.duckdb"}))
    with Store(tmp_path / "s.duckdb") as st:
        for day, present in enumerate([[B], [], [B]]):
            write_scan(st, [OTHER, *present], day=day, sources=("aws-prod",))
    runner = CliRunner()
    table = runner.invoke(app, ["history", B.key, "-c", str(cfg), "--format", "csv"])
    assert table.exit_code == 0, table.stdout
    lines = table.stdout.splitlines()
    assert any(line.startswith("2,") and "disappeared" in line for line in lines)
    assert any(line.startswith("3,") and "reappeared" in line for line in lines)
    doc = json.loads(
        runner.invoke(app, ["history", B.key, "-c", str(cfg), "--format", "json"]).stdout
    )
    assert [v["gone"]["scan"] if v["gone"] else None for v in doc["versions"]] == [2, None]
    assert [v["reappeared"] for v in doc["versions"]] == [False, True]


def test_scans_and_history_tables_read_at_80_columns(tmp_path: Path) -> None:
    """Stacked cells: no line over 80 characters, timestamps and the key never folded."""
    cfg = tmp_path / "driftscan.yaml"
    cfg.write_text(yaml.safe_dump({"store": "s.duckdb"}))
    with Store(tmp_path / "s.duckdb") as st:
        for day, present in enumerate([[B], [], [B]]):
            write_scan(st, [OTHER, *present], day=day, sources=("aws-prod",))
    narrow = CliRunner(env={"COLUMNS": "80"})
    for args in (["scans"], ["history", B.key]):
        res = narrow.invoke(app, [*args, "-c", str(cfg), "--format", "table"])
        assert res.exit_code == 0, res.stdout
        lines = res.stdout.splitlines()
        assert max(len(line) for line in lines) <= 80
        assert any("2026-" in line and ":00" in line for line in lines)  # a whole timestamp
